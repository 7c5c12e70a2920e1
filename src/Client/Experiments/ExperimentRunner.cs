using System.Text.Json;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;

namespace ReMA.Client.Experiments;

/// <summary>One finished campaign of an experiment: the starting point's, or an arm's under one seed.</summary>
public sealed record ExperimentRun(string Arm, string Kind, long Seed, CampaignRun Run, bool Reused);

/// <summary>
/// Runs an experiment's campaigns one after another on the given cluster (an embedded silo by default): the starting
/// points first, then every arm under each seed in turn (so an interrupted experiment has every arm at its first
/// seeds). A campaign already completed under runs/ with the same configuration is reused, so running the same
/// experiment again continues where it stopped; a folder left by an unfinished or different campaign is replaced.
/// </summary>
public sealed class ExperimentRunner(IGrainFactory grains, ExperimentPlan plan, TextWriter output, TextWriter log)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public async Task<ExperimentResults> RunAsync(CancellationToken cancel)
    {
        var started = DateTime.UtcNow;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var startRuns = new Dictionary<StartPoint, ExperimentRun>();
        var checkpoints = new Dictionary<StartPoint, string>();
        foreach (StartPoint start in plan.Starts)
        {
            ExperimentRun run = await RunOrReuseAsync("start", "sft", plan.Seeds[0], start.Config,
                r => !r.Config.Sft.Enabled || r.Status.Sft?.CheckpointPath is string p && Directory.Exists(p), cancel);
            string checkpoint = run.Run.Config.Sft.Enabled
                ? run.Run.Status.Sft?.CheckpointPath ?? throw new InvalidOperationException($"campaign {start.Campaign} finished without an SFT checkpoint.")
                : run.Run.Config.Model.Path!;
            startRuns[start] = run;
            checkpoints[start] = checkpoint;
            output.WriteLine($"start {start.Campaign}: {Accuracies(run.Run)}; checkpoint {checkpoint}");
        }
        var runs = new List<ExperimentRun>();
        foreach (long seed in plan.Seeds)
        {
            // RL arms before SFT arms: a compute-matched SFT arm needs its RL arm's time under the same seed.
            foreach (PlannedArm arm in plan.Arms.OrderBy(a => a.IsRl ? 0 : 1))
            {
                string checkpoint = checkpoints[arm.Start];
                CampaignConfig config;
                if (arm.IsRl)
                {
                    config = plan.RlRun(arm, seed, checkpoint);
                }
                else
                {
                    int steps = arm.Spec.SftSteps > 0 ? arm.Spec.SftSteps : MatchedSftSteps(arm, seed, runs, startRuns[arm.Start]);
                    config = plan.SftRun(arm, seed, checkpoint, steps);
                }
                ExperimentRun run = await RunOrReuseAsync(arm.Name, arm.Spec.Kind, seed, config, _ => true, cancel);
                runs.Add(run);
                output.WriteLine($"{arm.Name} seed {seed}: {Accuracies(run.Run)} ({run.Run.Seconds:F0} s{(run.Reused ? ", reused" : "")})");
            }
        }
        return new ExperimentResults(plan, [.. plan.Starts.Select(s => startRuns[s])], runs, started, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// SFT steps that cost what the RL arm named by compute_of spent on its RL stage under the same seed (wall time,
    /// evaluation excluded), at the SFT step time its starting point measured.
    /// </summary>
    private int MatchedSftSteps(PlannedArm arm, long seed, List<ExperimentRun> runs, ExperimentRun start)
    {
        ExperimentRun reference = runs.Single(r => r.Arm == arm.Spec.ComputeOf && r.Seed == seed);
        double rlSeconds = RlSeconds(reference.Run);
        SftResult sft = start.Run.Status.Sft ?? throw new InvalidOperationException(
            $"arm {arm.Name}: compute_of needs the SFT step time of its starting point, and {start.Run.Config.Name} ran no SFT; give sft_steps.");
        double perStep = sft.Seconds / Math.Max(1, sft.OptimizerSteps);
        int steps = Math.Max(1, (int)Math.Round(rlSeconds / perStep));
        output.WriteLine($"{arm.Name} seed {seed}: {steps} SFT steps = {rlSeconds:F0} s of {arm.Spec.ComputeOf}'s RL stage at {perStep * 1000:F0} ms per SFT step");
        return steps;
    }

    /// <summary>Wall time of a campaign's RL stage without its evaluations.</summary>
    public static double RlSeconds(CampaignRun run) =>
        Math.Max(0, run.Phases.Where(p => p.Stage == "rl").Sum(p => p.Seconds) - run.Status.Evaluations.Sum(e => e.Seconds));

    private static string Accuracies(CampaignRun run) => string.Join(", ", Final(run).Select(e => $"{e.Set} {e.Accuracy:P1}"));

    /// <summary>The last evaluation of each set.</summary>
    public static IEnumerable<EvalRecord> Final(CampaignRun run) =>
        run.Status.Evaluations.GroupBy(e => e.Set).Select(g => g.MaxBy(e => e.AfterStep)!);

    private async Task<ExperimentRun> RunOrReuseAsync(string arm, string kind, long seed, CampaignConfig config, Func<CampaignRun, bool> usable, CancellationToken cancel)
    {
        string folder = Path.Combine("runs", config.Name);
        string written = CampaignFile.Write(config);
        if (TryReuse(folder, written) is CampaignRun previous && usable(previous))
        {
            output.WriteLine($"campaign {config.Name}: completed earlier with the same configuration; reused");
            return new ExperimentRun(arm, kind, seed, previous, Reused: true);
        }
        if (Directory.Exists(folder))
        {
            log.WriteLine($"campaign {config.Name}: replacing {folder} (unfinished, or another configuration)");
            Directory.Delete(folder, recursive: true);
        }
        output.WriteLine($"campaign {config.Name}: {config.Protocol}, {config.Roles.Parameters} parameters, " +
            (config.Steps > 0 ? $"{config.Steps} RL steps of {config.PromptsPerStep} x {config.GroupSize}" : $"SFT {config.Sft.Steps} steps"));
        CampaignRun? finished = null;
        ICampaignGrain campaign = grains.GetGrain<ICampaignGrain>(config.Name);
        await campaign.Start(config);
        int code = await TrainCommand.FollowAsync(campaign, config, new ExperimentFollowView(output, log), (_, run) =>
        {
            finished = run;
            return Task.CompletedTask;
        }, cancel);
        if (code != 0 || finished is null)
        {
            CampaignStatus status = await campaign.Status();
            throw new InvalidOperationException($"campaign {config.Name} {status.Status}{(status.Error is null ? "" : ": " + status.Error)}; run the experiment again to continue from there.");
        }
        File.WriteAllText(Path.Combine(folder, "run.json"), JsonSerializer.Serialize(finished, Indented));
        return new ExperimentRun(arm, kind, seed, finished, Reused: false);
    }

    /// <summary>
    /// The completed run in <paramref name="folder"/> when its configuration is <paramref name="config"/>. The stored
    /// file is read back and written again before comparing, so that a setting added later with its default value
    /// (absent from files written before it existed) does not make an identical campaign look different.
    /// </summary>
    private static CampaignRun? TryReuse(string folder, string config)
    {
        string configFile = Path.Combine(folder, "campaign.json");
        string runFile = Path.Combine(folder, "run.json");
        if (!File.Exists(configFile) || !File.Exists(runFile) || StoredConfig(configFile) != config)
        {
            return null;
        }
        try
        {
            CampaignRun? run = JsonSerializer.Deserialize<CampaignRun>(File.ReadAllText(runFile));
            return run?.Status.Status == "completed" ? run : null;
        }
        catch (JsonException)
        {
            return null;   // a torn or foreign file: run the campaign again
        }
    }

    private static string? StoredConfig(string configFile)
    {
        try
        {
            return CampaignFile.Write(CampaignFile.Parse(File.ReadAllText(configFile), configFile));
        }
        catch (ArgumentException)
        {
            return null;   // no longer a valid campaign (a field since removed or renamed): run it again
        }
    }
}

/// <summary>Every line of a campaign's follow to the experiment's log; to the console only its outline (header, SFT, evaluations, every tenth step, warnings, the end).</summary>
internal sealed class ExperimentFollowView(TextWriter output, TextWriter log) : IFollowView
{
    public void Line(string text)
    {
        log.WriteLine(text);
        log.Flush();
        if (text.StartsWith("step ", StringComparison.Ordinal))
        {
            // "step 9 (10/60 done): ...": the count of steps done picks every tenth.
            int open = text.IndexOf('('), slash = text.IndexOf('/');
            if (open > 0 && slash > open && long.TryParse(text.AsSpan(open + 1, slash - open - 1), out long done) && done % 10 == 0)
            {
                output.WriteLine("  " + text);
            }
            return;
        }
        if (!text.StartsWith("campaign ", StringComparison.Ordinal))
        {
            output.WriteLine("  " + text);
        }
    }

    public void Update(CampaignStatus status, TimeSpan? eta)
    {
    }
}
