using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Learner.Generation;
using ReMA.Learner.Tokenization;
using ReMA.Silo;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Bench;

public sealed record RolloutRow(
    [property: JsonPropertyName("concurrency")] int Concurrency,
    [property: JsonPropertyName("episodes")] int Episodes,
    [property: JsonPropertyName("grains_seconds")] double GrainsSeconds,
    [property: JsonPropertyName("direct_seconds")] double DirectSeconds,
    [property: JsonPropertyName("grains_tokens_per_s")] double GrainsTokensPerSecond,
    [property: JsonPropertyName("direct_tokens_per_s")] double DirectTokensPerSecond,
    [property: JsonPropertyName("grains_episodes_per_s")] double GrainsEpisodesPerSecond,
    [property: JsonPropertyName("direct_episodes_per_s")] double DirectEpisodesPerSecond,
    [property: JsonPropertyName("orleans_share")] double OrleansShare);

/// <summary>
/// Rollout throughput of ReMA multi-turn episodes (arithmetic, compact view, nano model, 4 rounds x 16 tokens at most)
/// at 1, 16 and 256 concurrent episodes: through episode and policy grains on an in-process silo, and the same
/// episodes driven directly on an engine in this process. Orleans share = 1 - direct time / grains time.
/// </summary>
public static class RolloutBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string[] args)
    {
        bool json = args.Contains("--json");
        string output = BenchArgs.Value(args, "--out") ?? Path.Combine("bench", "results", "rollout.json");
        var options = new Dictionary<string, string> { ["train_size"] = "256", ["eval_size"] = "16" };
        var task = new ArithmeticTask(trainSize: 256, evalSize: 16);
        var problems = task.Load("train");
        var spec = new EpisodeSpec("rema-multi-turn", "compact", MaxTurns: 4, MaxTokensPerTurn: 16, MaxContextTokens: 2000, StopWhenTruncated: false, new SamplingSpec(Seed: 1));
        var settings = new EpisodeSettings { View = ViewMode.Compact, MaxTurns = 4, MaxTokensPerTurn = 16, MaxContextTokens = 2000, StopWhenTruncated = false, Sampling = spec.Sampling };

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReMA:Policies:bench:Preset"] = "nano",
            ["ReMA:Policies:bench:MaxBatch"] = "256",
        });
        builder.AddReMAEmbeddedSilo(11311, 30311);
        using IHost host = builder.Build();
        await host.StartAsync();
        IGrainFactory grains = host.Services.GetRequiredService<IGrainFactory>();
        var policies = new Dictionary<string, string> { [Roles.Meta] = "bench/0", [Roles.Reasoner] = "bench/0" };
        await grains.GetGrain<IPolicyGrain>("bench/0").GetInfo();

        (var model, var tokenizer) = PolicyModelLoader.Load(new PolicySource { Preset = "nano" });
        using var engine = new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = 256 });
        var direct = new EpisodeRunner(task, settings, EngineRoleGenerator.Shared(engine, new ChatTemplate(tokenizer), Roles.Meta, Roles.Reasoner));

        var rows = new List<RolloutRow>();
        int run = 0;
        foreach (int concurrency in new[] { 1, 16, 256 })
        {
            int episodes = Math.Max(concurrency, 32);
            async Task<(double Seconds, long Tokens)> Grains()
            {
                int batch = run++;
                var clock = Stopwatch.StartNew();
                long tokens = 0;
                for (int start = 0; start < episodes; start += concurrency)
                {
                    var outcomes = await Task.WhenAll(Enumerable.Range(start, Math.Min(concurrency, episodes - start)).Select(i =>
                    {
                        Problem p = problems[i % problems.Count];
                        string id = $"bench-{batch}-{i}";
                        return grains.GetGrain<IEpisodeGrain>(id).Run(new EpisodeRequest(id, id,
                            new ProblemRecord(p.Id, p.Question, p.Answer, p.Split, new Dictionary<string, string>(p.Metadata)), "arithmetic", options, spec, policies));
                    }));
                    tokens += outcomes.Sum(o => (long)o.Transcript.Sum(t => t.Tokens));
                }
                return (clock.Elapsed.TotalSeconds, tokens);
            }
            async Task<(double Seconds, long Tokens)> Direct()
            {
                var clock = Stopwatch.StartNew();
                long tokens = 0;
                for (int start = 0; start < episodes; start += concurrency)
                {
                    var results = await Task.WhenAll(Enumerable.Range(start, Math.Min(concurrency, episodes - start)).Select(i =>
                        direct.RunAsync(problems[i % problems.Count], $"direct-{i}", $"direct-{i}")));
                    tokens += results.Sum(r => (long)r.Transcript.Sum(t => t.Tokens));
                }
                return (clock.Elapsed.TotalSeconds, tokens);
            }
            await Grains();   // warm-up of this concurrency
            await Direct();
            var g = await Grains();
            var d = await Direct();
            var row = new RolloutRow(concurrency, episodes, g.Seconds, d.Seconds, g.Tokens / g.Seconds, d.Tokens / d.Seconds,
                episodes / g.Seconds, episodes / d.Seconds, 1 - d.Seconds / g.Seconds);
            rows.Add(row);
            if (!json)
            {
                Console.WriteLine($"concurrency {concurrency,3}: grains {row.GrainsTokensPerSecond,7:F0} tok/s ({row.GrainsEpisodesPerSecond:F1} ep/s), direct {row.DirectTokensPerSecond,7:F0} tok/s ({row.DirectEpisodesPerSecond:F1} ep/s), Orleans share {row.OrleansShare:P0}");
            }
        }
        await host.StopAsync();
        model.Dispose();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, JsonSerializer.Serialize(new { machine = Environment.GetEnvironmentVariable("REMA_MACHINE") ?? $"{Environment.ProcessorCount} cores", rows }, Indented));
        Console.WriteLine(json ? File.ReadAllText(output) : $"written: {output}");
        return 0;
    }
}
