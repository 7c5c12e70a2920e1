using System.Diagnostics;
using System.Globalization;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Learner.Generation;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Bench;

public static class LearnabilityProbe
{
    public static async Task<int> RunAsync(string[] args)
    {
        int demos = int.Parse(BenchArgs.Value(args, "--demos") ?? "4000", CultureInfo.InvariantCulture);
        int steps = int.Parse(BenchArgs.Value(args, "--steps") ?? "800", CultureInfo.InvariantCulture);
        int batch = int.Parse(BenchArgs.Value(args, "--batch") ?? "128", CultureInfo.InvariantCulture);
        double lr = double.Parse(BenchArgs.Value(args, "--lr") ?? "1e-3", CultureInfo.InvariantCulture);
        int evalN = int.Parse(BenchArgs.Value(args, "--eval") ?? "200", CultureInfo.InvariantCulture);
        var task = new ArithmeticTask(trainSize: demos, evalSize: evalN, prompts: PromptStyle.None);
        var settings = new EpisodeSettings { View = ViewMode.Compact, MaxTurns = 8, MaxTokensPerTurn = 24, MaxContextTokens = 400, StopWhenTruncated = true, Sampling = new SamplingSpec(Temperature: 0) };
        (var model, var tokenizer) = PolicyModelLoader.Load(new PolicySource { Preset = "nano" });
        var chat = new ChatTemplate(tokenizer);
        var rows = new List<TrajectoryRow>();
        foreach (Problem p in task.Load("train"))
        {
            var demo = task.Demonstrate(p, Protocol.RemaMultiTurn);
            var r = await new EpisodeRunner(task, settings, new DemonstrationGenerator(demo, _ => chat)).RunAsync(p, p.Id, p.Id);
            rows.AddRange(r.Rows);
        }
        Console.WriteLine($"{rows.Count} rows, mean length {rows.Average(r => r.Length):F0}, loss tokens {rows.Average(r => r.LossTokens):F1}");
        var clock = Stopwatch.StartNew();
        using (var trainer = new SftTrainer(model, null, new LearningRateSchedule { Kind = ScheduleKind.Cosine, Peak = lr, WarmupSteps = steps / 20, TotalSteps = steps, MinRatio = 0.1 }, null, 1))
        {
            int done = 0;
            while (done < steps)
            {
                foreach (var b in trainer.EpochBatches(rows, batch))
                {
                    var m = trainer.Step(b);
                    if (++done % 100 == 0)
                    {
                        Console.WriteLine($"step {done}: loss {m.Loss:F4} ({clock.Elapsed.TotalSeconds:F0} s)");
                    }
                    if (done == steps)
                    {
                        break;
                    }
                }
            }
        }
        model.eval();
        using var engine = new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = 256 });
        var runner = new EpisodeRunner(task, settings, EngineRoleGenerator.Shared(engine, chat, Roles.Meta, Roles.Reasoner));
        foreach (string split in new[] { "test", "ood-operands" })
        {
            var problems = task.Load(split);
            var results = await Task.WhenAll(problems.Select(p => runner.RunAsync(p, "e" + p.Id, "e" + p.Id)));
            double acc = results.Average(r => r.Correct ? 1.0 : 0.0);
            var fin = string.Join(" ", results.GroupBy(r => r.FinishReason).Select(g => $"{g.Key}={g.Count()}"));
            Console.WriteLine($"{split}: accuracy {acc:P1} [{fin}]");
            foreach (var r in results.Where(r => !r.Correct).Take(3))
            {
                Console.WriteLine("  --- " + problems.First(p => p.Id == r.ProblemId).Question);
                foreach (var t in r.Transcript)
                {
                    Console.WriteLine($"  {t.Role}: {t.Text.Replace("\n", " | ")}");
                }
            }
        }
        return 0;
    }
}
