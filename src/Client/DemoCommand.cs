using System.CommandLine;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Grains.Campaigns;
using ReMA.Learner.Training;
using ReMA.Tasks.Core;

namespace ReMA.Client;

/// <summary>
/// <c>rema demo</c>, the README's main job: on an in-process silo, trains the arithmetic task end to end with ReMA
/// multi-turn and shared parameters (SFT warm start of a nano model, then turn-level GRPO), evaluates before and after
/// RL, and writes runs/&lt;campaign&gt;/report.md with a chart, a sample episode and the exact configuration.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { DefaultValueFactory = _ => CampaignPresets.ArithmeticDemo, Description = $"Campaign preset ({string.Join(", ", CampaignPresets.Names)})" };
        var steps = new Option<int?>("--steps") { Description = "RL steps (overrides the preset's)" };
        var sftSteps = new Option<int?>("--sft-steps") { Description = "SFT optimizer steps (overrides the preset's)" };
        var name = new Option<string?>("--name") { Description = "Campaign name, and the folder under runs/ (default: the preset's)" };
        var port = new Option<int>("--silo-port") { DefaultValueFactory = _ => 11111, Description = "Embedded silo port (gateway = port + 18889)" };
        var plain = Follow.PlainOption();
        var command = new Command("demo", "Train the arithmetic demo on an embedded silo and write runs/<campaign>/report.md") { preset, steps, sftSteps, name, port, plain };
        command.SetAction(async (parse, cancel) =>
        {
            CampaignConfig config;
            try
            {
                config = CampaignPresets.Get(parse.GetValue(preset)!);
                config = config with
                {
                    Name = parse.GetValue(name) ?? config.Name,
                    Steps = parse.GetValue(steps) ?? config.Steps,
                    Sft = config.Sft with { Steps = parse.GetValue(sftSteps) ?? config.Sft.Steps },
                };
                CampaignChecks.ThrowIfInvalid(config);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            int silo = parse.GetValue(port);
            return await Follow.InTerminal(config.Name, parse.GetValue(plain), view => RunAsync(config, silo, silo + 18889, view, cancel));
        });
        return command;
    }

    public static Task<int> RunAsync(CampaignConfig config, int siloPort, int gatewayPort, TextWriter output, CancellationToken cancel) =>
        RunAsync(config, siloPort, gatewayPort, new PlainFollowView(output), cancel);

    public static Task<int> RunAsync(CampaignConfig config, int siloPort, int gatewayPort, IFollowView view, CancellationToken cancel) =>
        TrainCommand.RunAsync(config, siloPort, gatewayPort, view, cancel, async (campaign, run) =>
        {
            // A sample episode on an in-distribution problem with a few operations, so the transcript shows several rounds.
            string set = config.Eval.Sets.FirstOrDefault() ?? "test";
            ITask task = TaskCatalog.Default().Create(config.Task.Name, config.Task.Options);
            var problems = task.Load(set);
            int index = Math.Max(0, problems.ToList().FindIndex(p => p.Question.Count(ch => ch is '+' or '-' or '*') >= 3));
            EpisodeOutcome sample = await campaign.SampleEpisode(set, index);
            IReadOnlyList<EvalResult>? swap = await RoleSwapAsync(config, set, view);
            string path = DemoReport.Write(run, sample, problems[index].Question, Path.Combine("runs", config.Name), swap);
            view.Line($"report: {path}");
        });

    /// <summary>
    /// Where RL's change lives, for a shared-parameter multi-turn campaign with an SFT stage: the four pairings of the
    /// SFT checkpoint and the final one as meta agent and reasoner (<see cref="EvalCommand.SwapAsync"/>) on the
    /// in-distribution set; null where the campaign has no such pair of checkpoints.
    /// </summary>
    public static async Task<IReadOnlyList<EvalResult>?> RoleSwapAsync(CampaignConfig config, string set, IFollowView view)
    {
        string root = Path.Combine("runs", config.Name, "checkpoints", $"{config.Name}.shared");
        if (config.Protocol != "rema-multi-turn" || config.Roles.Parameters != "shared" || !config.Sft.Enabled || !Directory.Exists(root))
        {
            return null;
        }
        string? sft = Directory.GetDirectories(root, "step-*").Where(d => long.TryParse(Path.GetFileName(d)["step-".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            .FirstOrDefault(d => TrainingCheckpoint.Metadata(d).TryGetValue("stage", out string? stage) && stage == "sft");
        string? final = TrainingCheckpoint.Latest(root);
        if (sft is null || final is null || sft == final)
        {
            return null;
        }
        view.Line("role swap: evaluating the SFT and final checkpoints as meta agent and reasoner ...");
        return await EvalCommand.SwapAsync(sft, final, config.Task.Name, config.Task.Options, set, config.Protocol, config.View,
            config.Eval.MaxProblems, config.Limits.MaxTurns, config.Limits.MaxTokensPerTurn, "cpu");
    }
}
