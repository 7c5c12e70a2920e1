using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Runtime;
using ReMA.Learner.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace ReMA.Bench;

public sealed record GenerateRow(
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("kv_cache")] bool KvCache,
    [property: JsonPropertyName("tokens")] long Tokens,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("tokens_per_s")] double TokensPerSecond,
    [property: JsonPropertyName("gflops")] double Gflops);

public sealed record GenerateResults(
    [property: JsonPropertyName("machine")] string Machine,
    [property: JsonPropertyName("device")] string Device,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("preset")] string Preset,
    [property: JsonPropertyName("parameters")] long Parameters,
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("new_tokens")] int NewTokens,
    [property: JsonPropertyName("matmul_gflops")] double MatmulGflops,
    [property: JsonPropertyName("peak_mb")] double PeakMb,
    [property: JsonPropertyName("rows")] IReadOnlyList<GenerateRow> Rows,
    [property: JsonPropertyName("targets")] IReadOnlyDictionary<string, double> Targets);

/// <summary>
/// Decode throughput of the 15M-parameter preset with random weights: fixed 32-token prompts, 128 new tokens
/// (end tokens ignored), batch 1, 8 and 64, with and without the KV cache; plus the same-process matmul rate.
/// Each row is the faster of two runs; time includes the prompt prefill.
/// </summary>
public static class GenerateBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static int Run(string[] args)
    {
        // --torch-kernels: logits as h W^T, sampling as torch calls and attention by SDPA (the portable path), for comparison.
        bool sampleOnHost = !args.Contains("--torch-kernels");
        bool json = args.Contains("--json");
        bool all = args.Contains("--all");
        string device = BenchArgs.Value(args, "--device") ?? "cpu";
        int newTokens = int.Parse(BenchArgs.Value(args, "--new-tokens") ?? "128");
        string output = BenchArgs.Value(args, "--out") ?? Path.Combine("bench", "results", "generate.json");
        Device dev = TorchDevice.Resolve(device);
        if (args.Contains("--profile"))
        {
            return DecodeProfile.Run(dev, int.Parse(BenchArgs.Value(args, "--batch") ?? "64"), preset: BenchArgs.Value(args, "--preset") ?? "stories15m");
        }
        const int promptTokens = 32;

        double matmulBefore = MatmulGflops(dev);
        ModelConfig config = ModelPresets.Get("stories15m");
        ScalarType dtype = TorchDevice.ResolveDType(BenchArgs.Value(args, "--dtype") ?? "float32");
        using var model = new CausalLM(config, dev, dtype, seed: 0);
        model.eval();
        long parameters = model.ParameterCount();
        var tokenizer = new CharTokenizer();   // ids only matter for the model; text is not inspected

        var rows = new List<GenerateRow>();
        // Warm-up: the first calls pay for JIT, allocation and kernel selection.
        Measure(model, tokenizer, 64, true, promptTokens, 16, sampleOnHost);
        Measure(model, tokenizer, 8, false, promptTokens, 16, sampleOnHost);
        foreach ((int batch, bool kv) in new[] { (1, true), (8, true), (64, true), (1, false), (8, false), (64, false) })
        {
            if (!kv && batch == 64 && !all)
            {
                continue;   // about 4 minutes on 2 cores; --all includes it
            }
            // Best of two runs: this host's speed drifts by tens of percent between seconds.
            (long tokens, double seconds) = Measure(model, tokenizer, batch, kv, promptTokens, newTokens, sampleOnHost);
            seconds = Math.Min(seconds, Measure(model, tokenizer, batch, kv, promptTokens, newTokens, sampleOnHost).Seconds);
            double gflops = 2.0 * parameters * tokens / seconds / 1e9;
            rows.Add(new GenerateRow(batch, kv, tokens, seconds, tokens / seconds, gflops));
            if (!json)
            {
                Console.WriteLine($"batch {batch,3} kv_cache {kv,-5}: {tokens / seconds,9:F0} tokens/s  {gflops,6:F1} GFLOP/s  ({seconds:F2} s)");
            }
        }

        // The host's speed drifts; the higher of two matmul measurements is the stricter yardstick.
        double matmul = Math.Max(matmulBefore, MatmulGflops(dev));
        double Rate(int batch, bool kv) => rows.FirstOrDefault(r => r.Batch == batch && r.KvCache == kv)?.TokensPerSecond ?? double.NaN;
        var targets = new Dictionary<string, double>
        {
            ["batch64_over_batch1"] = Rate(64, true) / Rate(1, true),
            ["batch64_gflops_share_of_matmul"] = rows.First(r => r.Batch == 64 && r.KvCache).Gflops / matmul,
            ["kv_speedup_batch8"] = Rate(8, true) / Rate(8, false),
        };
        var results = new GenerateResults(
            Environment.GetEnvironmentVariable("REMA_MACHINE") ?? $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            device, get_num_threads(), "stories15m", parameters, promptTokens, newTokens, matmul, PeakMegabytes(), rows, targets);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, JsonSerializer.Serialize(results, Indented));
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(results, Indented));
        }
        else
        {
            Console.WriteLine();
            Console.WriteLine(Markdown(results));
            Console.WriteLine($"written: {output}");
        }
        return 0;
    }

    internal static (long Tokens, double Seconds) Measure(CausalLM model, ITokenizer tokenizer, int batch, bool kv, int promptTokens, int newTokens, bool sampleOnHost)
    {
        var random = new Random(batch);
        var requests = Enumerable.Range(0, batch).Select(i => new GenerationRequest(
            Enumerable.Range(0, promptTokens).Select(_ => random.Next(3, tokenizer.VocabSize)).ToArray(),
            new SamplingParams { MaxNewTokens = newTokens, IgnoreEos = true, Seed = (ulong)i })).ToList();
        using var engine = new ContinuousBatcher(model, tokenizer, new EngineOptions { MaxBatch = Math.Max(batch, 1), UseKvCache = kv, SampleOnHost = sampleOnHost, DecodeKernels = sampleOnHost });
        var clock = Stopwatch.StartNew();
        GenerationResult[] results = engine.Generate(requests);
        double seconds = clock.Elapsed.TotalSeconds;
        return (results.Sum(r => (long)r.TokenIds.Length), seconds);
    }

    /// <summary>1024 x 1024 float32 matmul rate in this process (GFLOP/s), best of several runs.</summary>
    public static double MatmulGflops(Device device)
    {
        using var scope = NewDisposeScope();
        const int n = 1024;
        Tensor a = randn(n, n, device: device), b = randn(n, n, device: device);
        for (int i = 0; i < 3; i++)
        {
            a.matmul(b).Dispose();
        }
        double best = 0;
        for (int round = 0; round < 5; round++)
        {
            const int reps = 10;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++)
            {
                a.matmul(b).Dispose();
            }
            if (device.type == DeviceType.CUDA)
            {
                cuda.synchronize();
            }
            best = Math.Max(best, 2.0 * n * n * n * reps / clock.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    /// <summary>Peak resident memory of this process (VmHWM), in MB.</summary>
    public static double PeakMegabytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out long kb))
            {
                return kb / 1024.0;
            }
        }
        return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }

    public static string Markdown(GenerateResults r)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"stories15m preset ({r.Parameters:N0} parameters, random weights), prompt {r.PromptTokens}, {r.NewTokens} new tokens, device {r.Device}, {r.Threads} threads");
        sb.AppendLine();
        sb.AppendLine("| batch | KV cache | tokens/s | achieved GFLOP/s | seconds |");
        sb.AppendLine("|---:|:---:|---:|---:|---:|");
        foreach (GenerateRow row in r.Rows)
        {
            sb.AppendLine($"| {row.Batch} | {(row.KvCache ? "yes" : "no")} | {row.TokensPerSecond:F0} | {row.Gflops:F1} | {row.Seconds:F2} |");
        }
        sb.AppendLine();
        sb.AppendLine($"Same-process 1024x1024 float32 matmul: {r.MatmulGflops:F1} GFLOP/s. Peak memory: {r.PeakMb:F0} MB.");
        sb.AppendLine();
        sb.AppendLine("| target | measured | goal |");
        sb.AppendLine("|---|---:|---:|");
        sb.AppendLine($"| batch-64 tokens/s over batch 1 | {r.Targets["batch64_over_batch1"]:F1}x | >= 10x |");
        sb.AppendLine($"| batch-64 achieved GFLOP/s / matmul GFLOP/s | {r.Targets["batch64_gflops_share_of_matmul"]:P0} | >= 40% |");
        sb.AppendLine($"| KV cache speed-up, batch 8 | {r.Targets["kv_speedup_batch8"]:F1}x | >= 5x |");
        return sb.ToString();
    }
}
