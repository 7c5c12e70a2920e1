using System.Text.Json;
using ReMA.Abstractions.Campaigns;
using ReMA.Grains.Campaigns;

namespace ReMA.Client.Experiments;

/// <summary>
/// A starting point shared by the arms whose model, task, protocol, view and SFT settings agree: one SFT campaign
/// (no RL steps) that trains the warm start and evaluates it on every set. Separate-parameter arms start both roles
/// from the shared-parameter checkpoint of their protocol, so they share it with the shared arms.
/// </summary>
public sealed record StartPoint(string Campaign, string Protocol, CampaignConfig Config);

/// <summary>An arm resolved against the base campaign: its settings (before a seed and a starting checkpoint are applied) and its start.</summary>
public sealed record PlannedArm(ArmSpec Spec, CampaignConfig Config, StartPoint Start)
{
    public string Name => Spec.Name;
    public bool IsRl => Spec.Kind == "rl";

    /// <summary>The constant learning rate of an SFT arm's extra steps: its own, else where the warm start's cosine ended (a tenth of its peak).</summary>
    public double ExtraSftLearningRate => Spec.SftLearningRate ?? Config.Sft.LearningRate * 0.1;
}

/// <summary>
/// An experiment resolved into campaigns: the starting points, then per seed one campaign per arm. Creating a plan
/// validates the whole file and reports every problem at once, each naming its field.
/// </summary>
public sealed class ExperimentPlan
{
    private ExperimentPlan(ExperimentConfig experiment, IReadOnlyList<long> seeds, IReadOnlyList<StartPoint> starts, IReadOnlyList<PlannedArm> arms)
    {
        Experiment = experiment;
        Seeds = seeds;
        Starts = starts;
        Arms = arms;
    }

    public ExperimentConfig Experiment { get; }
    public string Name => Experiment.Name;
    public IReadOnlyList<long> Seeds { get; }
    public IReadOnlyList<StartPoint> Starts { get; }
    public IReadOnlyList<PlannedArm> Arms { get; }
    public IReadOnlyList<string> EvalSets => Arms[0].Config.Eval.Sets;

    /// <summary>Episodes every RL arm generates per seed (steps x prompts per step x group size; equal by validation).</summary>
    public long EpisodesPerRlArm => Arms.Where(a => a.IsRl).Select(a => (long)a.Config.Steps * a.Config.PromptsPerStep * a.Config.GroupSize).FirstOrDefault();

    public string RunName(PlannedArm arm, long seed) => $"{Name}.{arm.Name}.s{seed}";

    /// <summary>The campaign of an RL arm: the arm's settings from the starting checkpoint, no SFT, no evaluation of the start (measured once by the start's campaign).</summary>
    public CampaignConfig RlRun(PlannedArm arm, long seed, string startCheckpoint) => arm.Config with
    {
        Name = RunName(arm, seed),
        Seed = seed,
        Model = arm.Config.Model.FromFolder(startCheckpoint),
        Sft = arm.Config.Sft with { Enabled = false },
        Eval = arm.Config.Eval with { AtStart = false },
    };

    /// <summary>The campaign of an SFT arm: <paramref name="steps"/> more SFT steps from the starting checkpoint at a constant rate, then the evaluation.</summary>
    public CampaignConfig SftRun(PlannedArm arm, long seed, string startCheckpoint, int steps) => arm.Config with
    {
        Name = RunName(arm, seed),
        Seed = seed,
        Steps = 0,
        Model = arm.Config.Model.FromFolder(startCheckpoint),
        Sft = arm.Config.Sft with
        {
            Enabled = true,
            Steps = steps,
            LearningRate = arm.ExtraSftLearningRate,
            Schedule = "constant",
        },
    };

    public static ExperimentPlan Create(ExperimentConfig e, string source, bool quick = false)
    {
        var errors = new List<string>();
        void Check(bool ok, string field, string message)
        {
            if (!ok)
            {
                errors.Add($"{field}: {message}");
            }
        }
        bool NameLike(string? s) => !string.IsNullOrEmpty(s) && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_');

        IReadOnlyList<long> seeds = quick && e.Quick?.Seeds is { } quickSeeds ? quickSeeds : e.Seeds;
        string seedsField = quick && e.Quick?.Seeds is not null ? "quick.seeds" : "seeds";
        Check(NameLike(e.Name) && e.Name.Length <= 60, "name", $"'{e.Name}' must be 1-60 letters, digits, '-' or '_' (it names runs/ folders and prefixes campaign names)");
        Check(seeds.Count > 0, seedsField, "give at least one seed (two or more for confidence intervals)");
        Check(seeds.Distinct().Count() == seeds.Count, seedsField, $"seeds must differ ({string.Join(", ", seeds)})");
        Check(seeds.All(s => s >= 0), seedsField, $"seeds must be >= 0 ({string.Join(", ", seeds)})");
        Check(e.Arms.Count > 0, "arms", "give at least one arm");
        Check(!quick || e.Quick is not null, "quick", "--quick needs a quick section in the experiment (seeds and/or campaign settings)");
        CampaignConfig? baseConfig = null;
        try
        {
            baseConfig = CampaignPresets.Get(e.Base);
        }
        catch (ArgumentException x)
        {
            errors.Add($"base: {x.Message}");
        }

        var planned = new List<(ArmSpec Spec, CampaignConfig Config)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < e.Arms.Count; i++)
        {
            ArmSpec a = e.Arms[i];
            string field = $"arms[{i}]";
            Check(NameLike(a.Name) && a.Name.Length <= 30, $"{field}.name", $"'{a.Name}' must be 1-30 letters, digits, '-' or '_'");
            Check(names.Add(a.Name), $"{field}.name", $"'{a.Name}' is used by an earlier arm");
            Check(a.Kind is "rl" or "sft", $"{field}.kind", $"'{a.Kind}' must be rl or sft");
            if (a.Kind == "sft")
            {
                Check(a.SftSteps > 0 || a.ComputeOf is not null, $"{field}.sft_steps", "an sft arm needs sft_steps > 0, or compute_of naming the RL arm whose compute it spends");
                Check(a.SftSteps >= 0, $"{field}.sft_steps", $"must be >= 0 (got {a.SftSteps})");
                Check(a.SftLearningRate is null or > 0, $"{field}.sft_learning_rate", $"must be positive (got {a.SftLearningRate})");
                if (a.ComputeOf is string other)
                {
                    int index = e.Arms.FindIndex(x => x.Name == other);
                    Check(index >= 0 && e.Arms[index].Kind == "rl", $"{field}.compute_of", $"'{other}' is not an rl arm of this experiment");
                }
            }
            else
            {
                Check(a.SftSteps == 0 && a.ComputeOf is null && a.SftLearningRate is null, field, "sft_steps, compute_of and sft_learning_rate belong to sft arms");
            }
            if (baseConfig is null)
            {
                continue;
            }
            try
            {
                CampaignConfig c = CampaignFile.Merge(baseConfig, e.Campaign, $"{source}: campaign");
                c = CampaignFile.Merge(c, a.Campaign, $"{source}: {field}.campaign ({a.Name})");
                if (quick)
                {
                    c = CampaignFile.Merge(c, e.Quick?.Campaign, $"{source}: quick.campaign");
                }
                Check(c.Sft.Enabled || c.Model.Path is not null, $"{field}.campaign.sft.enabled", "arms start from an SFT checkpoint: enable sft, or give model.path to start from a checkpoint as it is");
                planned.Add((a, c with { Name = $"{e.Name}.{a.Name}.s0" }));
            }
            catch (ArgumentException x)
            {
                errors.Add(x.Message);
            }
        }

        if (planned.Count == e.Arms.Count && planned.Count > 0)
        {
            var rl = planned.Where(p => p.Spec.Kind == "rl").ToList();
            var budgets = rl.Select(p => (p.Spec.Name, Episodes: (long)p.Config.Steps * p.Config.PromptsPerStep * p.Config.GroupSize)).ToList();
            Check(budgets.Select(b => b.Episodes).Distinct().Count() <= 1, "arms",
                "RL arms must have equal budgets (steps x prompts_per_step x group_size episodes): " + string.Join(", ", budgets.Select(b => $"{b.Name} {b.Episodes}")));
            Check(rl.All(p => p.Config.Steps > 0), "arms", "RL arms need steps > 0");
            var sets = planned.Select(p => string.Join(",", p.Config.Eval.Sets)).Distinct().ToList();
            Check(sets.Count == 1, "arms", $"every arm must evaluate the same sets (found: {string.Join(" | ", sets)})");
            Check(planned[0].Config.Eval.Sets.Count > 0, "campaign.eval.sets", "give at least one evaluation set");
            // The splits each arm's task must have (eval.sets, task.train_split): once when every arm lacks it, else by arm.
            var taskErrors = planned.Select(p => CampaignChecks.TaskErrors(p.Config).ToList()).ToList();
            var shared = taskErrors[0].Where(x => taskErrors.All(t => t.Contains(x))).ToList();
            errors.AddRange(shared.Select(x => $"campaign.{x}"));
            errors.AddRange(taskErrors.SelectMany((t, i) => t.Except(shared).Select(x => $"arms[{i}].campaign.{x}")));
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException($"{source}: {errors.Count} problem(s):\n  " + string.Join("\n  ", errors));
        }

        var starts = new List<StartPoint>();
        var keys = new Dictionary<string, StartPoint>(StringComparer.Ordinal);
        var arms = new List<PlannedArm>();
        foreach ((ArmSpec spec, CampaignConfig config) in planned)
        {
            string key = JsonSerializer.Serialize(new { config.Model, config.Task, config.Protocol, config.View, config.Sft, config.Limits.MaxContextTokens });
            if (!keys.TryGetValue(key, out StartPoint? start))
            {
                int same = starts.Count(s => s.Protocol == config.Protocol);
                string name = $"{e.Name}.sft-{config.Protocol}{(same == 0 ? "" : $"-{same + 1}")}";
                start = new StartPoint(name, config.Protocol, config with { Name = name, Steps = 0, Roles = new RolesSpec(), Seed = seeds[0] });
                keys[key] = start;
                starts.Add(start);
            }
            arms.Add(new PlannedArm(spec, config, start));
        }
        return new ExperimentPlan(e, seeds, starts, arms);
    }
}
