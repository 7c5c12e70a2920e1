using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;

namespace ReMA.Client;

/// <summary>The acceptance checks of the embedded demo, computed from a finished campaign.</summary>
public sealed record DemoChecks(
    string InDistributionSet,
    double? AccuracyAfterSft,
    double? AccuracyAfterRl,
    double FirstRewardMean,
    double LastRewardMean,
    int Window,
    double MaxEmptyTurnRate,
    IReadOnlyDictionary<string, (double First, double Last)> TokensPerTurn,
    double? RlUtilisation)
{
    public double? Gain => AccuracyAfterSft is double a && AccuracyAfterRl is double b ? b - a : null;

    public static DemoChecks Of(CampaignRun run)
    {
        string id = run.Config.Eval.Sets.FirstOrDefault() ?? "test";
        var evals = run.Status.Evaluations.Where(e => e.Set == id).OrderBy(e => e.AfterStep).ToList();
        int window = Math.Max(1, Math.Min(25, run.History.Length / 2));
        var first = run.History.Take(window).ToList();
        var last = run.History.Skip(Math.Max(0, run.History.Length - window)).ToList();
        var roles = run.History.SelectMany(h => h.TokensPerTurn.Keys).Distinct().Order(StringComparer.Ordinal);
        var tokens = roles.ToDictionary(r => r, r => (
            first.Where(h => h.TokensPerTurn.ContainsKey(r)).Select(h => h.TokensPerTurn[r]).DefaultIfEmpty().Average(),
            last.Where(h => h.TokensPerTurn.ContainsKey(r)).Select(h => h.TokensPerTurn[r]).DefaultIfEmpty().Average()));
        return new DemoChecks(
            id,
            evals.FirstOrDefault(e => e.AfterStep == 0)?.Accuracy,
            evals.Count > 1 ? evals[^1].Accuracy : null,
            first.Select(h => h.RewardMean).DefaultIfEmpty().Average(),
            last.Select(h => h.RewardMean).DefaultIfEmpty().Average(),
            window,
            run.History.Select(h => h.EmptyTurnRate).DefaultIfEmpty().Max(),
            tokens,
            run.Phases.FirstOrDefault(p => p.Stage == "rl")?.Utilisation);
    }
}

/// <summary>Writes runs/&lt;campaign&gt;/report.md (and the chart next to it) for a finished demo campaign.</summary>
public static class DemoReport
{
    public static string Write(CampaignRun run, EpisodeOutcome? sample, string sampleQuestion, string folder, IReadOnlyList<EvalResult>? swap = null)
    {
        Directory.CreateDirectory(folder);
        string chart = DemoChart.Write(run, Path.Combine(folder, "training.png"));
        DemoChecks checks = DemoChecks.Of(run);
        var md = new StringBuilder();
        CultureInfo inv = CultureInfo.InvariantCulture;
        void Line(FormattableString s) => md.AppendLine(s.ToString(inv));
        CampaignConfig c = run.Config;

        Line($"# {c.Name}: ReMA {c.Protocol}, {c.Roles.Parameters} parameters, {c.Task.Name}");
        md.AppendLine();
        Line($"Run on {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; finished {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {run.Seconds:F0} s in all. Model: {c.Model.Preset ?? c.Model.Path} on {c.Model.Device}.");
        md.AppendLine();
        md.AppendLine("## Accuracy (greedy pass@1)");
        md.AppendLine();
        md.AppendLine("| set | problems | after SFT | after RL | change |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (string set in c.Eval.Sets)
        {
            var evals = run.Status.Evaluations.Where(e => e.Set == set).OrderBy(e => e.AfterStep).ToList();
            if (evals.Count == 0)
            {
                continue;
            }
            EvalRecord before = evals[0], after = evals[^1];
            string kind = set == checks.InDistributionSet ? " (in distribution)" : " (out of distribution)";
            Line($"| {set}{kind} | {before.Problems} | {before.Accuracy:P1} | {after.Accuracy:P1} | {100 * (after.Accuracy - before.Accuracy):+0.0;-0.0} points |");
        }
        md.AppendLine();
        if (swap is { Count: 4 })
        {
            md.AppendLine("## Where the change comes from (role swap)");
            md.AppendLine();
            Line($"Each role's turns taken from the SFT checkpoint or from the final one, greedy, on the same {swap[0].Problems} {swap[0].Split} problems (`rema eval --checkpoint SFT --swap FINAL`).");
            md.AppendLine();
            md.AppendLine("| meta agent | reasoner | pass@1 | change vs SFT | meta step accuracy | reasoner step accuracy |");
            md.AppendLine("|---|---|---|---|---|---|");
            string Stage(string? folder) => folder == swap[0].MetaCheckpoint ? "SFT" : "after RL";
            foreach (EvalResult r in swap)
            {
                string steps = r.ReasonerStepAccuracy is double s ? s.ToString("P1", inv) : "-";
                string metaSteps = r.MetaStepAccuracy is double ms ? ms.ToString("P1", inv) : "-";
                Line($"| {Stage(r.MetaCheckpoint)} | {Stage(r.ReasonerCheckpoint)} | {r.PassAt1:P1} | {100 * (r.PassAt1 - swap[0].PassAt1):+0.0;-0.0} points | {metaSteps} | {steps} |");
            }
            md.AppendLine();
            if (swap[0].FailureCauses is { } before && swap[3].FailureCauses is { } after)
            {
                md.AppendLine("Wrong episodes by their first faulty turn (the same problems, both roles from one checkpoint):");
                md.AppendLine();
                md.AppendLine("| first cause | after SFT | after RL |");
                md.AppendLine("|---|---|---|");
                foreach (string cause in before.Keys.Union(after.Keys).OrderBy(k => k, StringComparer.Ordinal))
                {
                    Line($"| {cause} | {before.GetValueOrDefault(cause)} | {after.GetValueOrDefault(cause)} |");
                }
                Line($"| all wrong | {before.Values.Sum()} | {after.Values.Sum()} |");
                md.AppendLine();
            }
        }
        md.AppendLine("## Acceptance");
        md.AppendLine();
        string Mark(bool ok) => ok ? "met" : "NOT met";
        if (checks.Gain is double gain)
        {
            Line($"- RL raises in-distribution accuracy by at least 10 points over the SFT checkpoint: {100 * gain:+0.0;-0.0} points, {Mark(gain >= 0.10)}.");
        }
        Line($"- Mean training reward of the last {checks.Window} RL steps ({checks.LastRewardMean:F3}) exceeds that of the first {checks.Window} ({checks.FirstRewardMean:F3}): {Mark(checks.LastRewardMean > checks.FirstRewardMean)}.");
        Line($"- No collapse: empty turns at most {checks.MaxEmptyTurnRate:P2} of turns in any step (under 1%: {Mark(checks.MaxEmptyTurnRate < 0.01)}); tokens per turn, first vs last {checks.Window} steps: {string.Join(", ", checks.TokensPerTurn.Select(kv => string.Create(inv, $"{kv.Key} {kv.Value.First:F1} -> {kv.Value.Last:F1}")))}.");
        if (checks.RlUtilisation is double u)
        {
            Line($"- CPU utilisation during the RL stage (process CPU time / wall time / {Environment.ProcessorCount} cores): {u:P0}.");
        }
        md.AppendLine();
        md.AppendLine("## Training");
        md.AppendLine();
        md.AppendLine("Training reward is the mean terminal reward of the step's sampled episodes (temperature "
            + run.Config.Sampling.Temperature.ToString(inv) + "); evaluation is greedy pass@1."
            + (run.History.Any(h => h.StepAccuracy is not null)
                ? " Step accuracy is the share of the reasoner's sampled steps that the environment found computed right"
                  + (run.Config.Algorithm.StepRewardWeight > 0
                      ? string.Create(inv, $"; each step's verdict is also a per-turn reward (algorithm.step_reward_weight {run.Config.Algorithm.StepRewardWeight}) on top of the outcome reward.")
                      : " (not rewarded: algorithm.step_reward_weight is 0).")
                : ""));
        md.AppendLine();
        Line($"![reward and accuracy per step]({Path.GetFileName(chart)})");
        md.AppendLine();
        if (run.Status.Sft is { } sft)
        {
            Line($"- SFT warm start: {sft.Rows} demonstration rows, {sft.OptimizerSteps} optimizer steps, loss {sft.LossBefore:F3} -> {sft.LossAfter:F3}, {sft.Seconds:F0} s.");
        }
        if (run.History.Length > 0)
        {
            Line($"- RL: {run.History.Length} steps of {c.PromptsPerStep} prompts x {c.GroupSize} episodes; rollout {run.History.Average(h => h.RolloutSeconds):F2} s and update {run.History.Average(h => h.UpdateSeconds):F2} s per step on average; rollout {run.History.Average(h => h.RolloutTokensPerSecond):F0} generated tokens/s.");
        }
        foreach (PhaseUsage p in run.Phases.Where(p => p.Stage is "sft" or "rl"))
        {
            Line($"- Stage {p.Stage}: {p.Seconds:F0} s wall, {p.CpuSeconds:F0} s CPU ({p.Utilisation:P0} of {Environment.ProcessorCount} cores).");
        }
        md.AppendLine();
        md.AppendLine("| after steps | set | problems | accuracy | seconds |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (EvalRecord e in run.Status.Evaluations)
        {
            Line($"| {e.AfterStep} | {e.Set} | {e.Problems} | {e.Accuracy:P1} | {e.Seconds:F1} |");
        }
        md.AppendLine();
        if (sample is not null)
        {
            md.AppendLine("## A sample episode (final policy, evaluation decoding)");
            md.AppendLine();
            Line($"Question: {sampleQuestion} Finish: {sample.FinishReason}; answer {sample.Extracted ?? "(none)"}, {(sample.Correct ? "correct" : "wrong")}.");
            md.AppendLine();
            md.AppendLine("```text");
            foreach (TranscriptRecord t in sample.Transcript)
            {
                Line($"[round {t.Round}] {t.Role}: {t.Text}");
            }
            md.AppendLine("```");
            md.AppendLine();
        }
        md.AppendLine("## Configuration");
        md.AppendLine();
        md.AppendLine("```json");
        md.AppendLine(CampaignFile.Write(c));
        md.AppendLine("```");
        string path = Path.Combine(folder, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }
}
