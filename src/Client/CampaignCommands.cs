using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using ReMA.Abstractions.Campaigns;
using ReMA.Grains.Episodes;
using ReMA.Grains.Storage;

namespace ReMA.Client;

/// <summary>
/// <c>rema status|list|pause|resume|cancel|episodes</c>. Against a cluster (--gateway or REMA_GATEWAY) they ask the
/// campaign grains; without one, status and list read what <c>rema train</c> wrote under runs/, and episodes reads the
/// trajectory store as <c>rema search</c> does (pause, resume and cancel need a cluster: an embedded campaign lives in
/// its own process). Steps are numbered from 0 everywhere (episode ids, history, search, the web API). Exit codes: 0 ok,
/// 1 not found (a step without stored episodes included), 2 bad input, 3 no cluster at the gateway.
/// </summary>
internal static class CampaignCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static IEnumerable<Command> Create() => [Status(), List(), Control("pause"), Control("resume"), Control("cancel"), Episodes()];

    private static Command Status()
    {
        var name = new Argument<string>("name") { Description = "Campaign name" };
        var gateway = ClusterOptions.Gateway();
        var json = ClusterOptions.Json();
        var command = new Command("status", "Show a campaign's status, last step and evaluations") { name, gateway, json };
        command.SetAction(async parse => await Guard(parse.GetValue(json), async () =>
        {
            string campaign = parse.GetValue(name)!;
            bool asJson = parse.GetValue(json);
            if (ClusterOptions.Resolve(parse, gateway) is ClusterTarget g)
            {
                return await ClusterOptions.WithClientAsync(g, async grains =>
                {
                    CampaignStatus status = await grains.GetGrain<ICampaignGrain>(campaign).Status();
                    if (status.Status == "created")
                    {
                        CliError.Write(asJson, TrainCommand.NoCampaign(campaign));
                        return 1;
                    }
                    Print(status, asJson);
                    return StatusCode(status);
                }, asJson);
            }
            CampaignRecord? record = LocalRecord(campaign);
            if (record is null)
            {
                CliError.Write(asJson, $"no campaign '{campaign}' under runs/ ({Path.Combine("runs", campaign, "history.json")} not found); pass --gateway PORT for a cluster.");
                return 1;
            }
            Print(record.Status, asJson);
            return StatusCode(record.Status);
        }));
        return command;
    }

    private static Command List()
    {
        var gateway = ClusterOptions.Gateway();
        var json = ClusterOptions.Json();
        var command = new Command("list", "List campaigns (of the cluster, or under runs/)") { gateway, json };
        command.SetAction(async parse => await Guard(parse.GetValue(json), async () =>
        {
            List<CampaignStatus> statuses = [];
            if (ClusterOptions.Resolve(parse, gateway) is ClusterTarget g)
            {
                int code = await ClusterOptions.WithClientAsync(g, async grains =>
                {
                    foreach (string n in await grains.GetGrain<ICampaignIndexGrain>(0).List())
                    {
                        statuses.Add(await grains.GetGrain<ICampaignGrain>(n).Status());
                    }
                    return 0;
                }, parse.GetValue(json));
                if (code != 0)
                {
                    return code;
                }
            }
            else if (Directory.Exists("runs"))
            {
                statuses.AddRange(Directory.GetDirectories("runs").Order(StringComparer.Ordinal)
                    .Select(d => LocalRecord(Path.GetFileName(d))?.Status).OfType<CampaignStatus>());
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(statuses, Indented));
            }
            else
            {
                foreach (CampaignStatus s in statuses)
                {
                    string trouble = s.Warning is string w ? "  warning: " + w : s.Error is string err ? "  error: " + err : "";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Name,-28} {s.Status,-10} {s.Stage,-5} {s.NextStep}/{s.Steps} steps done{trouble}"));
                }
            }
            return 0;
        }));
        return command;
    }

    private static Command Control(string verb)
    {
        var name = new Argument<string>("name") { Description = "Campaign name" };
        var gateway = ClusterOptions.Gateway();
        var json = ClusterOptions.Json();
        var command = new Command(verb, $"{char.ToUpperInvariant(verb[0])}{verb[1..]} a campaign on the cluster (takes effect at the next unit boundary)") { name, gateway, json };
        command.SetAction(async parse => await Guard(async () =>
        {
            if (ClusterOptions.Resolve(parse, gateway) is not ClusterTarget g)
            {
                Console.Error.WriteLine($"error: {verb} needs a cluster (--gateway PORT or {ClusterOptions.GatewayVariable}); an embedded campaign is stopped with Ctrl+C.");
                return 2;
            }
            return await ClusterOptions.WithClientAsync(g, async grains =>
            {
                ICampaignGrain campaign = grains.GetGrain<ICampaignGrain>(parse.GetValue(name)!);
                if ((await campaign.Status()).Status == "created")
                {
                    Console.Error.WriteLine($"error: {TrainCommand.NoCampaign(parse.GetValue(name)!)}");
                    return 1;
                }
                CampaignStatus status = verb switch
                {
                    "pause" => await campaign.Pause(),
                    "resume" => await campaign.Resume(),
                    _ => await campaign.Cancel(),
                };
                Print(status, parse.GetValue(json));
                return 0;
            });
        }));
        return command;
    }

    private static Command Episodes()
    {
        var name = new Argument<string>("name") { Description = "Campaign name" };
        var step = new Option<long?>("--step") { Description = "RL step, 0-based as in episode ids, `rema search --step` and the web API's step= (default: the latest; with --show, the episode's own)" };
        var show = new Option<string?>("--show") { Description = "Episode id: print its turns" };
        var gateway = ClusterOptions.Gateway();
        var json = ClusterOptions.Json();
        var command = new Command("episodes", "List a step's stored episodes (steps are 0-based), or show one episode's turns; `episodes search NAME` searches every stored one") { name, step, show, gateway, json };
        // `rema episodes search NAME [filters]` is `rema search NAME [filters]`.
        command.Subcommands.Add(SearchCommand.Create());
        command.SetAction(async (parse, cancel) => await Guard(async () =>
        {
            string campaign = parse.GetValue(name)!;
            long? wanted = parse.GetValue(step);
            if (wanted < 0)
            {
                Console.Error.WriteLine($"error: --step counts from 0 (got {wanted}).");
                return 2;
            }
            if (wanted is null && parse.GetValue(show) is string shown && TrainingStep(shown) is long own)
            {
                wanted = own;
            }
            EpisodeSummary[] episodes = [];
            if (ClusterOptions.Resolve(parse, gateway) is ClusterTarget g)
            {
                // The campaign grain reads the store its silos write (whichever silo holds it now).
                int code = await ClusterOptions.WithClientAsync(g, async grains =>
                {
                    ICampaignGrain grain = grains.GetGrain<ICampaignGrain>(campaign);
                    CampaignStatus status = await grain.Status();
                    if (status.Status == "created")
                    {
                        Console.Error.WriteLine($"error: the cluster has no campaign '{campaign}'.");
                        return 1;
                    }
                    string range = status.NextStep == 0 ? "no RL step has completed yet" : $"its completed steps are 0-{status.NextStep - 1}";
                    wanted ??= Math.Max(0, status.NextStep - 1);
                    episodes = await grain.Episodes(wanted.Value);
                    return episodes.Length > 0 ? 0 : NoEpisodes(campaign, wanted.Value, range);
                });
                if (code != 0)
                {
                    return code;
                }
            }
            else
            {
                ITrajectoryStore store = ExportCommand.Store(new ConfigurationBuilder().AddEnvironmentVariables().Build());
                long[] steps = await store.StepsAsync(campaign, cancel);
                if (steps.Length == 0)
                {
                    Console.Error.WriteLine($"error: no stored episodes of campaign '{campaign}' ({store.Describe}); pass --gateway PORT for a cluster.");
                    return 1;
                }
                wanted ??= steps[^1];
                var found = new List<EpisodeSummary>();
                await foreach (TrajectoryDocument e in store.ReadAsync(campaign, wanted, cancel))
                {
                    if (!e.Evaluation)
                    {
                        found.Add(e.Summary());
                    }
                }
                episodes = [.. found];
                if (episodes.Length == 0)
                {
                    return NoEpisodes(campaign, wanted.Value, $"its stored steps are {Ranges(steps)}");
                }
            }
            if (parse.GetValue(show) is string id)
            {
                EpisodeSummary? e = episodes.FirstOrDefault(x => x.EpisodeId == id);
                if (e is null)
                {
                    Console.Error.WriteLine($"error: episode '{id}' is not among the {episodes.Length} episodes of step {wanted}.");
                    return 1;
                }
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(e, Indented));
                    return 0;
                }
                Console.WriteLine($"{e.EpisodeId}: {e.Question} -> {(e.Correct ? "correct" : "wrong")}, {e.FinishReason}, reward {e.Reward:F2}");
                foreach (var t in e.Transcript)
                {
                    string verdict = t.StepCorrect switch { true => ", step right", false => ", step WRONG", null => "" };
                    Console.WriteLine($"[round {t.Round}] {t.Role} (v{t.PolicyVersion}, {t.Tokens} tokens, {t.FinishReason}{verdict}): {t.Text}");
                }
                return 0;
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(episodes, Indented));
                return 0;
            }
            foreach (EpisodeSummary e in episodes)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.EpisodeId,-36} {(e.Correct ? "correct" : "wrong"),-8} {e.FinishReason,-18} {e.Transcript.Length,2} turns  {e.Question}"));
            }
            return 0;
        }));
        return command;
    }

    private static int NoEpisodes(string campaign, long step, string range)
    {
        Console.Error.WriteLine($"error: campaign '{campaign}' has no stored episodes at step {step} (steps are 0-based; {range}).");
        return 1;
    }

    /// <summary>The step in a training episode's id (&lt;campaign&gt;-s&lt;step&gt;-p&lt;prompt&gt;-e&lt;sample&gt;), or null.</summary>
    private static long? TrainingStep(string episodeId)
    {
        try
        {
            var (_, step, evaluation) = EpisodeIds.Parse(episodeId);
            return evaluation ? null : step;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Ascending step numbers as runs: 0-3, 5, 7-9.</summary>
    public static string Ranges(IReadOnlyList<long> steps)
    {
        var parts = new List<string>();
        for (int i = 0; i < steps.Count;)
        {
            int j = i;
            while (j + 1 < steps.Count && steps[j + 1] == steps[j] + 1)
            {
                j++;
            }
            parts.Add(i == j ? $"{steps[i]}" : $"{steps[i]}-{steps[j]}");
            i = j + 1;
        }
        return string.Join(", ", parts);
    }

    private static CampaignRecord? LocalRecord(string name)
    {
        string file = Path.Combine("runs", name, "history.json");
        if (!File.Exists(file))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<CampaignRecord>(File.ReadAllText(file));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file}: not a campaign history ({e.Message}).", e);
        }
    }

    private static void Print(CampaignStatus s, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(s, Indented));
            return;
        }
        Console.WriteLine($"{s.Name}: {s.Status}, stage {s.Stage}, {s.NextStep}/{s.Steps} steps done{(s.Error is null ? "" : ", error: " + s.Error)}");
        if (s.Warning is string warning)
        {
            Console.WriteLine($"  warning: {warning}");
        }
        if (s.Sft is { } sft)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  sft: {sft.Rows} rows, {sft.OptimizerSteps} steps, loss {sft.LossBefore:F3} -> {sft.LossAfter:F3}"));
        }
        if (s.LastStep is { } last)
        {
            Console.WriteLine("  " + TrainCommand.StepLine(last, s.Steps));
        }
        foreach (EvalRecord e in s.Evaluations)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  eval {TrainCommand.AfterSteps(e.AfterStep)}: {e.Set} pass@1 {e.Accuracy:P1} on {e.Problems} problems"));
        }
    }

    /// <summary>Exit code of <c>status</c>: 1 for a failed campaign (0 otherwise), so scripts can test it.</summary>
    private static int StatusCode(CampaignStatus s) => s.Status == "failed" ? 1 : 0;

    private static Task<int> Guard(Func<Task<int>> action) => Guard(false, action);

    private static async Task<int> Guard(bool json, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException)
        {
            CliError.Write(json, e.Message);
            return 2;
        }
    }
}
