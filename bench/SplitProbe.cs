using System.Diagnostics;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Bench;

/// <summary>
/// Would the decode step run faster as independent engines, one per core, each on one torch thread, than as one
/// engine whose ops use both cores? Generates the batch (stories15m, random weights, 32-token prompts, 128 new
/// tokens) both ways, three rounds, then one part alone on one thread (the per-core rate).
/// </summary>
public static class SplitProbe
{
    public static int Run(string[] args)
    {
        int batch = int.Parse(BenchArgs.Value(args, "--batch") ?? "64");
        int parts = int.Parse(BenchArgs.Value(args, "--parts") ?? "2");
        if (batch <= 0 || parts <= 0 || batch % parts != 0)
        {
            Console.Error.WriteLine($"split-probe: --batch ({batch}) must be a positive multiple of --parts ({parts}).");
            return 2;
        }
        using var model = new CausalLM(ModelPresets.Get("stories15m"), CPU, ScalarType.Float32, seed: 0);
        model.eval();
        var tokenizer = new CharTokenizer();
        long parameters = model.ParameterCount();
        string Rate(long tokens, double seconds) => $"{tokens / seconds,6:F0} tokens/s {2.0 * parameters * tokens / seconds / 1e9,5:F1} GFLOP/s";
        // The benchmark's own requests (32-token prompts, 128 new tokens, end tokens ignored) and engine.
        long Generate(int size, int newTokens = 128) => GenerateBenchmark.Measure(model, tokenizer, size, true, 32, newTokens, sampleOnHost: true).Tokens;
        Generate(batch, 16);   // warm-up
        for (int round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            long tokens = Generate(batch);
            Console.WriteLine($"batch {batch}, one engine, {get_num_threads()} torch threads:      {Rate(tokens, clock.Elapsed.TotalSeconds)}");
            (tokens, double seconds) = OnThreads(parts, _ => Generate(batch / parts));
            Console.WriteLine($"batch {batch}, {parts} engines of {batch / parts}, 1 torch thread each: {Rate(tokens, seconds)}");
        }
        (long alone, double aloneSeconds) = OnThreads(1, _ => Generate(batch / parts));
        Console.WriteLine($"batch {batch / parts}, one engine alone, 1 torch thread:   {Rate(alone, aloneSeconds)}");
        Console.WriteLine($"same-process 1024x1024 matmul: {GenerateBenchmark.MatmulGflops(CPU):F1} GFLOP/s");
        return 0;
    }

    /// <summary>Runs <paramref name="work"/> on that many new threads at once, each limited to one torch thread.</summary>
    private static (long Tokens, double Seconds) OnThreads(int count, Func<int, long> work)
    {
        long total = 0;
        var clock = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, count).Select(k => new Thread(() =>
        {
            set_num_threads(1);   // per calling thread with libtorch's OpenMP build
            Interlocked.Add(ref total, work(k));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return (total, clock.Elapsed.TotalSeconds);
    }
}
