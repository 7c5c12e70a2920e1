using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Grains.Campaigns;
using ReMA.Silo;

namespace ReMA.Client;

/// <summary>Wall time, process CPU time and CPU utilisation (share of all cores) of one campaign stage.</summary>
public sealed record PhaseUsage(string Stage, double Seconds, double CpuSeconds, double Utilisation);

/// <summary>A finished campaign as the client followed it.</summary>
public sealed record CampaignRun(CampaignConfig Config, CampaignStatus Status, StepRecord[] History, IReadOnlyList<PhaseUsage> Phases, double Seconds);

/// <summary>
/// <c>rema train [--file campaign.json|yaml | --preset NAME] [--name N] [--steps N] [--gateway PORT [--detach]]</c>: with no
/// cluster, runs the campaign on an embedded silo in this process; with a gateway (or REMA_GATEWAY), submits it to that
/// cluster. Follows it, printing a line per RL step and per evaluation, and writes runs/&lt;name&gt;/campaign.json,
/// history.json and episodes.jsonl. Exit code 0 when the campaign completes, 1 when it fails or is cancelled, 2 on bad input.
/// </summary>
internal static class TrainCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly JsonSerializerOptions Compact = new();

    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "Campaign file (JSON, or YAML with .yaml/.yml)" };
        var preset = new Option<string?>("--preset") { Description = $"Named campaign ({string.Join(", ", CampaignPresets.Names)})" };
        var name = new Option<string?>("--name") { Description = "Campaign name (overrides the file's)" };
        var steps = new Option<int?>("--steps") { Description = "RL steps (overrides the file's)" };
        var sftSteps = new Option<int?>("--sft-steps") { Description = "SFT optimizer steps (overrides the file's; 0 = as many as sft.epochs take)" };
        var print = new Option<bool>("--print") { Description = "Write the campaign (the file or preset with the overrides) as a campaign file to standard output and exit: a file to start from" };
        var modelPath = new Option<string?>("--model-path") { Description = "Hugging Face style checkpoint folder (overrides the model)" };
        var port = new Option<int>("--silo-port") { DefaultValueFactory = _ => 11111, Description = "Embedded silo port (gateway = port + 18889)" };
        var gateway = ClusterOptions.Gateway();
        var web = new Option<int?>("--web") { Description = "Also serve the web dashboard and its /api on this loopback port while the embedded silo runs" };
        var detach = new Option<bool>("--detach") { Description = "Submit to the cluster and return without following" };
        var plain = Follow.PlainOption();
        var follow = new Option<string?>("--follow") { Description = "Follow a campaign already running on the cluster (after --detach, or when a follower lost its connection)" };
        var command = new Command("train", "Run a training campaign (embedded silo, or a cluster with --gateway) and follow it")
        {
            file, preset, name, steps, sftSteps, modelPath, port, gateway, detach, web, plain, follow, print,
        };
        command.SetAction(async (parse, cancel) =>
        {
            if (parse.GetValue(follow) is string existing)
            {
                return await FollowExistingAsync(parse, gateway, plain, existing, cancel);
            }
            CampaignConfig config;
            try
            {
                config = ReadConfig(parse.GetValue(file), parse.GetValue(preset), parse.GetValue(name), parse.GetValue(steps), parse.GetValue(modelPath),
                    parse.GetValue(sftSteps));
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            if (parse.GetValue(print))
            {
                Console.WriteLine(CampaignFile.Write(config));
                return 0;
            }
            if (ClusterOptions.Resolve(parse, gateway) is ClusterTarget g)
            {
                return await ClusterOptions.WithClientAsync(g, async grains =>
                {
                    ICampaignGrain campaign = grains.GetGrain<ICampaignGrain>(config.Name);
                    await campaign.Start(config);
                    if (parse.GetValue(detach))
                    {
                        Console.WriteLine($"campaign {config.Name} submitted; follow it with `rema status {config.Name}{(g.Gateway is int port ? $" --gateway {port}" : "")}`");
                        return 0;
                    }
                    return await Follow.InTerminal(config.Name, parse.GetValue(plain), view => FollowAsync(campaign, config, view, null, cancel));
                });
            }
            if (parse.GetValue(detach))
            {
                Console.Error.WriteLine("error: --detach needs a cluster (--gateway PORT or REMA_GATEWAY): an embedded silo lives only as long as this command.");
                return 2;
            }
            int silo = parse.GetValue(port);
            if (parse.GetValue(web) is int webPort && webPort is < 1 or > 65535)
            {
                Console.Error.WriteLine($"error: --web must be a port number 1-65535 (got {webPort}).");
                return 2;
            }
            return await Follow.InTerminal(config.Name, parse.GetValue(plain), view => RunAsync(config, silo, silo + 18889, view, cancel, webPort: parse.GetValue(web)));
        });
        return command;
    }

    /// <summary>
    /// The campaign <c>rema train</c> submits: the file (or preset) with the command line's overrides, checked as a whole
    /// before anything is submitted. A file's unknown fields, values of the wrong type, bad settings and the splits its
    /// task lacks (<c>eval.sets</c>, <c>task.train_split</c>) come in one <see cref="ArgumentException"/>, a line each.
    /// </summary>
    internal static CampaignConfig ReadConfig(string? file, string? preset, string? name = null, int? steps = null, string? modelPath = null, int? sftSteps = null)
    {
        if (sftSteps is < 0)
        {
            throw new ArgumentException($"--sft-steps must be 0 or more (got {sftSteps}).");
        }
        if (file is not null && preset is not null)
        {
            throw new ArgumentException("give --file or --preset, not both.");
        }
        CampaignConfig config = file is not null ? CampaignFile.Load(file, CampaignChecks.TaskErrors)
            : CampaignPresets.Get(preset ?? CampaignPresets.ArithmeticDemo);
        config = config with
        {
            Name = name ?? config.Name,
            Steps = steps ?? config.Steps,
            Sft = sftSteps is int n ? config.Sft with { Steps = n } : config.Sft,
            Model = modelPath is not null ? config.Model.FromFolder(modelPath) : config.Model,
        };
        CampaignChecks.ThrowIfInvalid(config);
        if (config.Model.Path is string folder && !Directory.Exists(folder))
        {
            throw new ArgumentException($"model.path: checkpoint folder '{folder}' does not exist; download the model there (config.json, *.safetensors, tokenizer.json) or pass --model-path.");
        }
        return config;
    }

    /// <summary><c>rema train --follow NAME</c>: attaches to a campaign running on the cluster and follows it to the end.</summary>
    private static async Task<int> FollowExistingAsync(ParseResult parse, Option<int?> gateway, Option<bool> plain, string name, CancellationToken cancel)
    {
        if (ClusterOptions.Resolve(parse, gateway) is not ClusterTarget target)
        {
            Console.Error.WriteLine($"error: --follow needs a cluster (--gateway PORT, {ClusterOptions.GatewayVariable} or REMA__Azure__ConnectionString).");
            return 2;
        }
        return await ClusterOptions.WithClientAsync(target, async grains =>
        {
            ICampaignGrain campaign = grains.GetGrain<ICampaignGrain>(name);
            if (await campaign.Config() is not CampaignConfig config)
            {
                Console.Error.WriteLine($"error: {NoCampaign(name)}");
                return 1;
            }
            return await Follow.InTerminal(config.Name, parse.GetValue(plain), view => FollowAsync(campaign, config, view, null, cancel));
        });
    }

    /// <summary>Runs <paramref name="config"/> on an embedded silo in this process and follows it to the end.</summary>
    public static Task<int> RunAsync(CampaignConfig config, int siloPort, int gatewayPort, TextWriter output, CancellationToken cancel,
        Func<ICampaignGrain, CampaignRun, Task>? finished = null) =>
        RunAsync(config, siloPort, gatewayPort, new PlainFollowView(output), cancel, finished);

    /// <summary>
    /// As above, reporting to <paramref name="view"/>; under a live panel the silo logs to
    /// runs/&lt;name&gt;/logs/ instead of the console.
    /// </summary>
    public static async Task<int> RunAsync(CampaignConfig config, int siloPort, int gatewayPort, IFollowView view, CancellationToken cancel,
        Func<ICampaignGrain, CampaignRun, Task>? finished = null, int? webPort = null)
    {
        // With --web the silo's host is a web application serving the dashboard (ReMA:Web:* settings, port from --web).
        Microsoft.AspNetCore.Builder.WebApplicationBuilder? webBuilder = webPort is int p ? Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder() : null;
        IHostApplicationBuilder builder = (IHostApplicationBuilder?)webBuilder ?? Host.CreateApplicationBuilder();
        if (webPort is int wp)
        {
            builder.Configuration["ReMA:Web:Port"] = wp.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        // The silo logs to runs/<name>/logs/; the console carries progress, and errors of ReMA's code one line each
        // (nothing under a live panel).
        builder.Configuration["ReMA:Logging:Folder"] ??= Path.Combine("runs", config.Name, "logs");
        builder.AddReMALogging(view is LiveFollowView ? LogConsole.None : LogConsole.ErrorsOnly);
        builder.AddReMAEmbeddedSilo(siloPort, gatewayPort);
        IHost host;
        if (webBuilder is not null)
        {
            Silo.Web.ReMAWeb.AddReMAWeb(webBuilder);
            var app = webBuilder.Build();
            Silo.Web.ReMAWeb.MapReMAWeb(app);
            host = app;
            view.Line($"web dashboard on http://127.0.0.1:{webPort}/");
        }
        else
        {
            host = ((HostApplicationBuilder)builder).Build();
        }
        using var disposeHost = host;
        await host.StartAsync(cancel);
        try
        {
            ICampaignGrain campaign = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ICampaignGrain>(config.Name);
            await campaign.Start(config);
            return await FollowAsync(campaign, config, view, finished, cancel);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Follows a started campaign until it completes, fails or is cancelled: a line per SFT stage, RL step and evaluation;
    /// runs/&lt;name&gt;/ gets campaign.json, history.json (with CPU use per stage) and episodes.jsonl (every step's episodes).
    /// </summary>
    public static Task<int> FollowAsync(ICampaignGrain campaign, CampaignConfig config, TextWriter output,
        Func<ICampaignGrain, CampaignRun, Task>? finished, CancellationToken cancel) =>
        FollowAsync(campaign, config, new PlainFollowView(output), finished, cancel);

    /// <summary>As above, reporting to <paramref name="view"/> (plain lines, or the live panel of an interactive terminal).</summary>
    public static async Task<int> FollowAsync(ICampaignGrain campaign, CampaignConfig config, IFollowView view,
        Func<ICampaignGrain, CampaignRun, Task>? finished, CancellationToken cancel)
    {
        string folder = Path.Combine("runs", config.Name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "campaign.json"), CampaignFile.Write(config));
        string episodesFile = Path.Combine(folder, "episodes.jsonl");
        view.Line($"campaign {config.Name}: {config.Protocol}, {config.Roles.Parameters} parameters, {config.Steps} steps of {config.PromptsPerStep} x {config.GroupSize} episodes");
        var phases = new List<PhaseUsage>();
        var started = DateTime.UtcNow;
        string stage = "";
        DateTime stageWall = DateTime.UtcNow;
        // CPU use per stage is the campaign silo's (from its status), not this client's: the same process when the silo
        // is embedded, another machine in a cluster. After a failover the stage counts the new silo's CPU since its start.
        double stageCpu = 0;
        string stageSilo = "";
        CampaignStatus status = null!;
        void ClosePhase(string next)
        {
            if (stage.Length > 0)
            {
                double wall = (DateTime.UtcNow - stageWall).TotalSeconds;
                double cpu = status.Silo == stageSilo ? status.SiloCpuSeconds - stageCpu : status.SiloCpuSeconds;
                int processors = status.SiloProcessors > 0 ? status.SiloProcessors : Environment.ProcessorCount;
                phases.Add(new PhaseUsage(stage, wall, cpu, cpu / Math.Max(1e-9, wall) / processors));
            }
            stage = next;
            stageWall = DateTime.UtcNow;
            stageCpu = status.SiloCpuSeconds;
            stageSilo = status.Silo;
        }
        TimeSpan? eta = null;
        string? lastWarning = null;
        // Following again (after --detach or a lost connection): steps already in episodes.jsonl are not appended twice.
        long printedSteps = File.Exists(episodesFile)
            ? File.ReadLines(episodesFile).Select(l => JsonSerializer.Deserialize<EpisodeSummary>(l)?.Step ?? -1).DefaultIfEmpty(-1).Max() + 1
            : 0;
        DateTime? troubleSince = null;
        var seen = new List<(DateTime At, long Step)>();   // per poll that brought new steps: when, and the latest step
        int printedEvals = 0;
        bool printedSft = false;
        async Task<bool> PollAsync()
        {
            status = await campaign.Status();
            if (status.Status == "created")
            {
                // The campaign's grain came back without state: it is gone from the cluster (its storage lost it).
                throw new CampaignGoneException(NoCampaign(config.Name));
            }
            if (status.Stage != stage)
            {
                ClosePhase(status.Stage);
            }
            if (!printedSft && status.Sft is SftResult sft)
            {
                view.Line($"sft: {sft.Rows} rows, {sft.OptimizerSteps} steps, loss {sft.LossBefore:F3} -> {sft.LossAfter:F3} ({sft.Seconds:F1} s)");
                printedSft = true;
            }
            foreach (EvalRecord e in status.Evaluations.Skip(printedEvals))
            {
                view.Line($"eval {AfterSteps(e.AfterStep)}: {e.Set} pass@1 {e.Accuracy:P1} on {e.Problems} problems");
            }
            printedEvals = status.Evaluations.Length;
            if (status.NextStep > printedSteps)
            {
                StepRecord[] all = await campaign.History();
                foreach (StepRecord s in all.Where(h => h.Step >= printedSteps))
                {
                    // ETA: the time between steps as this follower saw them (right also when rollouts overlap updates),
                    // or, until it has seen two, the last ten steps' rollout + update time (evaluations not included).
                    var window = seen.TakeLast(10).Append((At: DateTime.UtcNow, Step: s.Step)).ToList();
                    var recent = all.Where(h => h.Step <= s.Step).TakeLast(10).ToList();
                    double span = (window[^1].At - window[0].At).TotalSeconds;
                    long steps = window[^1].Step - window[0].Step;
                    double perStep = steps >= 2 && span > 0.5 ? span / steps : recent.Average(h => h.RolloutSeconds + h.UpdateSeconds);
                    eta = TimeSpan.FromSeconds(perStep * (config.Steps - s.Step - 1));
                    EpisodeSummary[] episodes = await campaign.Episodes(s.Step);
                    view.Line(StepLine(s, config.Steps) + string.Create(CultureInfo.InvariantCulture, $" eta {TimeSpan.FromSeconds(Math.Round(eta.Value.TotalSeconds)):c}"));
                    foreach (string warning in s.Warnings ?? [])
                    {
                        view.Line($"warning: step {s.Step}: {warning} (possible collapse; thresholds in the campaign's monitor section)");
                    }
                    File.AppendAllLines(episodesFile, episodes.Select(e => JsonSerializer.Serialize(e, Compact)));
                    printedSteps = s.Step + 1;
                }
                seen.Add((DateTime.UtcNow, printedSteps - 1));   // one entry per poll: steps printed together arrived together
            }
            if (status.Warning != lastWarning)
            {
                lastWarning = status.Warning;
                view.Line(status.Warning is null ? "recovered" : $"warning: {status.Warning}");
            }
            view.Update(status, eta);
            return status.Status is "completed" or "failed" or "cancelled";
        }
        while (true)
        {
            try
            {
                if (await PollAsync())
                {
                    break;
                }
                if (troubleSince is not null)
                {
                    view.Line("in contact with the cluster again");
                    troubleSince = null;
                }
            }
            catch (CampaignGoneException gone)
            {
                Console.Error.WriteLine($"error: {gone.Message}");
                return 1;
            }
            catch (Exception e) when (ReMA.Grains.Services.Transient.Is(e))
            {
                // The gateway this client used went away (its silo died) or the cluster is busy: the Orleans client
                // fails over to another gateway, so keep asking for a while before giving up.
                if (troubleSince is null)
                {
                    troubleSince = DateTime.UtcNow;
                    view.Line($"lost contact with the cluster ({ReMA.Grains.Services.Transient.Describe(e)}); retrying");
                }
                else if (DateTime.UtcNow - troubleSince > FollowPatience)
                {
                    view.Line($"no answer from the cluster for {FollowPatience.TotalMinutes:F0} minutes ({ReMA.Grains.Services.Transient.Describe(e)}); follow again with `rema train --follow {config.Name}`");
                    return 3;
                }
                await Task.Delay(1000, cancel);
                continue;
            }
            await Task.Delay(500, cancel);
        }
        ClosePhase("");
        if (status.Activations <= 1 && status.Stages is { Length: > 0 } measured
            && measured.Select(m => m.Stage).ToHashSet().IsSupersetOf(phases.Select(p => p.Stage).Where(p => p is "sft" or "rl")))
        {
            // The campaign's silo timed each stage from its start to its end; this follower polls every half second and
            // misses a stage shorter than that (a test's few episodes). After a failover the silo's figures cover only
            // the new activation's part of a stage: the follower's own observations stay.
            phases = [.. measured.Select(m => new PhaseUsage(m.Stage, m.Seconds, m.CpuSeconds, m.CpuSeconds / Math.Max(1e-9, m.Seconds) / Math.Max(1, m.Processors))),
                .. phases.Where(p => p.Stage is not ("sft" or "rl"))];
        }
        StepRecord[] history = await campaign.History();
        File.WriteAllText(Path.Combine(folder, "history.json"), JsonSerializer.Serialize(new CampaignRecord(status, history, phases), Indented));
        if (finished is not null && status.Status == "completed")
        {
            await finished(campaign, new CampaignRun(config, status, history, phases, (DateTime.UtcNow - started).TotalSeconds));
        }
        view.Line($"campaign {config.Name} {status.Status}{(status.Error is null ? "" : ": " + status.Error)}; history in {Path.Combine(folder, "history.json")}");
        return status.Status == "completed" ? 0 : 1;
    }

    /// <summary>What every command says of a campaign the cluster does not hold (a grain without state).</summary>
    public static string NoCampaign(string name) =>
        $"the cluster has no campaign '{name}' (never started there, or its stored state is gone).";

    private sealed class CampaignGoneException(string message) : Exception(message);

    /// <summary>How long a follower keeps asking a cluster that does not answer.</summary>
    public static readonly TimeSpan FollowPatience = TimeSpan.FromMinutes(5);

    /// <summary>A step's line: its number (0-based, as in episode ids, `rema episodes` and `rema search`), then steps done of all.</summary>
    public static string StepLine(StepRecord s, long steps)
    {
        string finishes = string.Join(" ", s.FinishReasons.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));
        double loss = s.Learners.Count == 0 ? 0 : s.Learners.Values.Average(l => l.Loss);
        return string.Create(CultureInfo.InvariantCulture,
            $"step {s.Step} ({s.Step + 1}/{steps} done): reward {s.RewardMean:F3} accuracy {s.Accuracy:P0} turns {s.TurnsPerEpisode:F1} [{finishes}] loss {loss:F4} {s.RolloutTokensPerSecond:F0} tok/s rollout {s.RolloutSeconds:F1}s update {s.UpdateSeconds:F1}s");
    }

    /// <summary>When an evaluation ran: after how many RL steps (its stored step number, and the step it came before).</summary>
    public static string AfterSteps(long completed) => completed == 1 ? "after 1 step" : $"after {completed} steps";
}

/// <summary>What runs/&lt;name&gt;/history.json holds.</summary>
public sealed record CampaignRecord(CampaignStatus Status, StepRecord[] History, IReadOnlyList<PhaseUsage> Phases);
