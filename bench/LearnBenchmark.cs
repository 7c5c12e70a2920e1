using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReMA.Learner.Model;
using ReMA.Learner.Runtime;
using ReMA.Learner.Training;
using static TorchSharp.torch;

namespace ReMA.Bench;

public sealed record LearnResults(
    [property: JsonPropertyName("machine")] string Machine,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("preset")] string Preset,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("row_tokens")] int RowTokens,
    [property: JsonPropertyName("micro_batch_tokens")] int MicroBatchTokens,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("gflops")] double Gflops,
    [property: JsonPropertyName("matmul_gflops")] double MatmulGflops,
    [property: JsonPropertyName("peak_mb")] double PeakMb,
    [property: JsonPropertyName("share_of_matmul")] double ShareOfMatmul);

/// <summary>
/// One RL optimizer step (forward, backward, AdamW) of the 15M preset on a 16k-token mini-batch: 64 rows of 256
/// tokens, loss on every position after the first, turn-level GRPO loss, micro-batches of 2048 tokens.
/// </summary>
public static class LearnBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static int Run(string[] args)
    {
        bool json = args.Contains("--json");
        string device = BenchArgs.Value(args, "--device") ?? "cpu";
        int microTokens = int.Parse(BenchArgs.Value(args, "--micro-batch-tokens") ?? "2048");
        string output = BenchArgs.Value(args, "--out") ?? Path.Combine("bench", "results", "learn.json");
        Device dev = TorchDevice.Resolve(device);
        const int rowsCount = 64, rowTokens = 256;

        double matmulBefore = GenerateBenchmark.MatmulGflops(dev);
        using var model = new CausalLM(ModelPresets.Get("stories15m"), dev, seed: 0);
        var rows = Rows(model.Config.VocabSize, rowsCount, rowTokens);
        using var updater = new PolicyUpdater(model, schedule: new LearningRateSchedule { Peak = 1e-4 },
            update: new UpdateOptions { MicroBatchTokens = microTokens });

        updater.Update(rows.Take(4).ToList());   // warm-up
        double best = double.MaxValue;
        for (int run = 0; run < 2; run++)
        {
            var clock = Stopwatch.StartNew();
            updater.Update(rows);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
            if (!json)
            {
                Console.WriteLine($"run {run}: {clock.Elapsed.TotalSeconds:F2} s");
            }
        }
        double matmul = Math.Max(matmulBefore, GenerateBenchmark.MatmulGflops(dev));
        long tokens = (long)rowsCount * rowTokens;
        long parameters = model.ParameterCount();
        double gflops = 6.0 * parameters * tokens / best / 1e9;
        var results = new LearnResults(
            Environment.GetEnvironmentVariable("REMA_MACHINE") ?? $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            device, get_num_threads(), "stories15m", parameters, rowsCount, rowTokens, microTokens, tokens, best, tokens / best,
            gflops, matmul, GenerateBenchmark.PeakMegabytes(), gflops / matmul);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, JsonSerializer.Serialize(results, Indented));
        Console.WriteLine(json ? JsonSerializer.Serialize(results, Indented) : Markdown(results) + $"\nwritten: {output}");
        return 0;
    }

    /// <summary>Rows of random tokens with loss on every position after the first; old log-probs given (no recompute pass).</summary>
    private static List<AdvantagedRow> Rows(int vocab, int count, int length)
    {
        var random = new Random(1);
        return Enumerable.Range(0, count).Select(i =>
        {
            var row = new TrajectoryRow
            {
                EpisodeId = $"e{i}", Role = "reasoner", GroupId = $"g{i / 8}",
                TokenIds = Enumerable.Range(0, length).Select(_ => random.Next(vocab)).ToArray(),
                LossMask = Enumerable.Range(0, length).Select(j => j > 0).ToArray(),
                TurnIndex = Enumerable.Range(0, length).Select(j => j == 0 ? -1 : (j - 1) * 4 / length).ToArray(),
                OldLogProbs = Enumerable.Range(0, length).Select(_ => -10.4f).ToArray(),
                TurnRewards = [0, 0, 0, i % 2],
            };
            return new AdvantagedRow(row, [.. Enumerable.Repeat(i % 2 == 0 ? 1f : -1f, 4)]);
        }).ToList();
    }

    public static string Markdown(LearnResults r)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"stories15m preset ({r.Parameters:N0} parameters), {r.Rows} rows x {r.RowTokens} tokens = {r.Tokens} tokens per optimizer step, micro-batches of {r.MicroBatchTokens} tokens, device {r.Device}, {r.Threads} threads");
        sb.AppendLine();
        sb.AppendLine("| tokens/s | achieved GFLOP/s | matmul GFLOP/s | share | step seconds | peak MB |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|");
        sb.AppendLine($"| {r.TokensPerSecond:F0} | {r.Gflops:F1} | {r.MatmulGflops:F1} | {r.ShareOfMatmul:P0} | {r.Seconds:F2} | {r.PeakMb:F0} |");
        return sb.ToString();
    }
}
