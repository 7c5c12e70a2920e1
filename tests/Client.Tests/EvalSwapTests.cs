using System.Text.Json;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Client.Tests;

[Collection("console")]
public class EvalSwapTests
{
    private static readonly Dictionary<string, string> Options = new() { ["prompts"] = "none", ["eval_size"] = "6" };

    private static string[] FirstTurns(string file, string role) => [.. File.ReadAllLines(file).Select(line =>
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.GetProperty("turns").EnumerateArray().Where(t => t.GetProperty("role").GetString() == role).Select(t => t.GetProperty("text").GetString()!).FirstOrDefault() ?? "(none)";
    })];

    [Fact]
    public async Task Swap_EvaluatesTheFourPairings_EachRoleFromItsOwnCheckpoint()
    {
        string root = Path.Combine(Path.GetTempPath(), "swap-" + Guid.NewGuid().ToString("N")[..8]);
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        // A: a few SFT steps on demonstrations, enough to speak the format; B: untrained (it says only newlines).
        foreach ((string dir, int sftSteps) in new[] { (a, 60), (b, 0) })
        {
            (var model, var tokenizer) = PolicyModelLoader.Load(new PolicySource { Preset = "nano", Seed = 5 });
            using (model)
            {
                var chat = new ChatTemplate(tokenizer);
                var task = new ArithmeticTask(trainSize: 200, evalSize: 6, prompts: PromptStyle.None);
                var rows = new List<TrajectoryRow>();
                var settings = new EpisodeSettings { View = ViewMode.Compact, MaxTurns = 100, MaxTokensPerTurn = 4096, MaxContextTokens = 100_000, StopWhenTruncated = false };
                foreach (Problem p in task.Load("train"))
                {
                    var demo = task.Demonstrate(p, Protocol.RemaMultiTurn);
                    rows.AddRange((await new EpisodeRunner(task, settings, new DemonstrationGenerator(demo, _ => chat)).RunAsync(p, p.Id, p.Id)).Rows);
                }
                using var trainer = new SftTrainer(model, null, new LearningRateSchedule { Peak = 3e-3 }, null, 1);
                for (int step = 0; step < sftSteps; step++)
                {
                    trainer.Step(trainer.EpochBatches(rows, 64).First());
                }
                ModelFolder.Save(model, dir, tokenizer);
            }
        }
        string prefix = Path.Combine(root, "t");
        var pairings = await EvalCommand.SwapAsync(a, b, "arithmetic", Options, "test", "rema-multi-turn", "compact", 6, 2, 24, "cpu", prefix);
        Assert.Equal([(a, a), (b, a), (a, b), (b, b)], pairings.Select(p => (p.MetaCheckpoint!, p.ReasonerCheckpoint!)));
        Assert.All(pairings, p => Assert.Equal(6, p.Problems));
        // Every wrong greedy episode has exactly one first cause.
        Assert.All(pairings, p => Assert.Equal(6 - (int)Math.Round(p.PassAt1 * 6), p.FailureCauses!.Values.Sum()));
        Assert.Contains(pairings[3].FailureCauses!.Keys, c => c.StartsWith("meta: ", StringComparison.Ordinal));   // B says only newlines
        // Every meta turn of every pairing is checked against its state (neither checkpoint is good enough to be right).
        Assert.All(pairings, p => Assert.InRange(p.MetaStepAccuracy!.Value, 0, 1));

        // A/A is the single-checkpoint evaluation of A, episode for episode.
        string single = Path.Combine(root, "single.jsonl");
        EvalResult alone = await EvalCommand.RunAsync(a, "arithmetic", Options, "test", "rema-multi-turn", "compact", 6, 1, 2, 24, "cpu", single);
        Assert.Equal(alone.PassAt1, pairings[0].PassAt1);
        Assert.Equal(File.ReadAllLines(single), File.ReadAllLines(prefix + ".AA.jsonl"));

        // The meta agent's first turn sees only the problem, so it is its checkpoint's whatever the reasoner; the two
        // checkpoints say different things there, so a role served by the wrong checkpoint would show.
        Assert.Equal(FirstTurns(prefix + ".AA.jsonl", "meta"), FirstTurns(prefix + ".AB.jsonl", "meta"));
        Assert.Equal(FirstTurns(prefix + ".BB.jsonl", "meta"), FirstTurns(prefix + ".BA.jsonl", "meta"));
        Assert.NotEqual(FirstTurns(prefix + ".AA.jsonl", "meta"), FirstTurns(prefix + ".BB.jsonl", "meta"));
        // The reasoner's first turn depends on the meta's message too; where the metas agree it is the reasoner's own.
        string[] aaReasoner = FirstTurns(prefix + ".AA.jsonl", "reasoner");
        Assert.NotEqual(FirstTurns(prefix + ".AB.jsonl", "reasoner"), aaReasoner);

        string table = EvalCommand.SwapTable(pairings, a, b);
        Assert.Contains("meta  reasoner  pass@1   change vs A/A  meta step accuracy  reasoner step accuracy", table);
        Assert.Contains($"A = {a}", table);
        Directory.Delete(root, true);
    }

    [Fact]
    public async Task Swap_IsRefused_ForASingleAgentProtocol_AndWithSamples()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => EvalCommand.SwapAsync("x", "y", "arithmetic", Options, "test", "vrp", "full", 2, 2, 6, "cpu"));
        Assert.Contains("--swap needs a protocol with a meta agent and a reasoner (got vrp)", error.Message);
        (int code, string output) = await CliRunner.RunAsync("eval", "--checkpoint", ".", "--swap", ".", "--k", "2");
        Assert.Equal(2, code);
        Assert.Contains("--swap evaluates four greedy pairings; it does not take --k", output);
        (code, output) = await CliRunner.RunAsync("eval", "--checkpoint", ".", "--swap", "no-such-folder");
        Assert.Equal(2, code);
        Assert.Contains("--swap: folder 'no-such-folder' does not exist", output);
    }
}
