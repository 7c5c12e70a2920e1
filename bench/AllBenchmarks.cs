using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReMA.Bench;

/// <summary>
/// <c>all [--json] [--only a,b] [--summary-only]</c>: runs generate, learn, rollout, verify and cluster one after another
/// (each writes bench/results/NAME.json as when run alone), then rewrites the summary table at the top of
/// docs/benchmarks.md (between its summary markers) from the result files: each figure, its ratio to its reference, the
/// issue's target where there is one, the command and the machine. The detailed sections below stay as written.
/// <c>--summary-only</c> skips the runs and rebuilds the table from the stored results.
/// </summary>
internal static class AllBenchmarks
{
    public const string Start = "<!-- summary:start (written by `dotnet run -c Release --project bench -- all`) -->";
    public const string End = "<!-- summary:end -->";
    private static readonly string[] Order = ["generate", "learn", "rollout", "verify", "cluster"];
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public sealed record Row(string Benchmark, string Figure, string Measured, string Reference, string Target, string Met, string Command);

    public static async Task<int> RunAsync(string[] args)
    {
        string[] only = BenchArgs.Value(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Order;
        string[] unknown = [.. only.Where(o => !Order.Contains(o))];
        if (unknown.Length > 0)
        {
            Console.Error.WriteLine($"error: --only names unknown benchmarks: {string.Join(", ", unknown)} (known: {string.Join(", ", Order)}).");
            return 2;
        }
        var failed = new List<string>();
        if (!args.Contains("--summary-only"))
        {
            foreach (string name in Order.Where(only.Contains))
            {
                Console.WriteLine($"== {name}");
                int code = name switch
                {
                    "generate" => GenerateBenchmark.Run([]),
                    "learn" => LearnBenchmark.Run([]),
                    "rollout" => await RolloutBenchmark.RunAsync([]),
                    "verify" => VerifyBenchmark.Run([]),
                    _ => await ClusterBenchmark.RunAsync([]),
                };
                if (code != 0)
                {
                    failed.Add(name);
                    Console.Error.WriteLine($"{name} failed with exit code {code}; its stored result (if any) is used in the summary.");
                }
            }
        }
        string machine = Environment.GetEnvironmentVariable("REMA_MACHINE") ?? $"{Environment.ProcessorCount} cores, {Environment.OSVersion}";
        List<Row> rows = Summary(Path.Combine("bench", "results"));
        string table = Table(rows, machine);
        string docs = Path.Combine("docs", "benchmarks.md");
        string text = File.Exists(docs) ? File.ReadAllText(docs) : "# Benchmarks\n";
        File.WriteAllText(docs, Splice(text, table));
        if (args.Contains("--json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new { machine, failed, rows }, Indented));
        }
        else
        {
            Console.WriteLine(table);
        }
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>The summary inserted after the document's title, or in place of the previous one.</summary>
    public static string Splice(string document, string table)
    {
        string block = $"{Start}\n{table}{End}";
        int start = document.IndexOf(Start, StringComparison.Ordinal), end = document.IndexOf(End, StringComparison.Ordinal);
        if (start >= 0 && end > start)
        {
            return document[..start] + block + document[(end + End.Length)..];
        }
        int title = document.IndexOf('\n', StringComparison.Ordinal);
        return title < 0 ? document + "\n\n" + block + "\n" : document[..(title + 1)] + "\n" + block + "\n" + document[(title + 1)..];
    }

    private static string Table(IReadOnlyList<Row> rows, string machine)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"## Summary\n\nMachine: {machine}. Written {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC from bench/results/*.json. Targets are the issues' (benchmarks, never tests).\n\n");
        b.Append("| benchmark | figure | measured | reference (ratio) | target | met | command |\n|---|---|---:|---|---|:---:|---|\n");
        foreach (Row r in rows)
        {
            b.Append(CultureInfo.InvariantCulture, $"| {r.Benchmark} | {r.Figure} | {r.Measured} | {r.Reference} | {r.Target} | {r.Met} | `{r.Command}` |\n");
        }
        return b.ToString();
    }

    private static string Cmd(string name) => $"dotnet run -c Release --project bench -- {name}";

    private static string Met(bool met) => met ? "yes" : "no";

    public static List<Row> Summary(string folder)
    {
        var rows = new List<Row>();
        JsonNode? Load(string name)
        {
            string path = Path.Combine(folder, name + ".json");
            if (!File.Exists(path))
            {
                rows.Add(new Row(name, "no result", "-", "-", "-", "-", Cmd(name)));
                return null;
            }
            return JsonNode.Parse(File.ReadAllText(path));
        }
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

        if (Load("generate") is JsonNode g)
        {
            var all = g["rows"]!.AsArray();
            JsonNode? Row(int batch, bool cache) => all.FirstOrDefault(r => (int)r!["batch"]! == batch && (bool)r!["kv_cache"]! == cache);
            double matmul = (double)g["matmul_gflops"]!;
            if (Row(64, true) is JsonNode b64 && Row(1, true) is JsonNode b1)
            {
                double t64 = (double)b64["tokens_per_s"]!, t1 = (double)b1["tokens_per_s"]!, gf = (double)b64["gflops"]!;
                rows.Add(new Row("generate", "decode tokens/s, batch 64, KV cache", F(t64, "F0"), $"batch 1: {F(t1, "F0")} ({F(t64 / t1, "F1")}x)", ">= 10x batch 1", Met(t64 / t1 >= 10), Cmd("generate")));
                rows.Add(new Row("generate", "achieved GFLOP/s, batch 64", F(gf, "F1"), $"same-process matmul {F(matmul, "F1")} ({F(gf / matmul * 100, "F0")} %)", ">= 40 % of matmul", Met(gf / matmul >= 0.40), Cmd("generate")));
            }
            if (Row(8, true) is JsonNode c8 && Row(8, false) is JsonNode n8)
            {
                double kv = (double)c8["tokens_per_s"]!, plain = (double)n8["tokens_per_s"]!;
                rows.Add(new Row("generate", "decode tokens/s, batch 8, KV cache", F(kv, "F0"), $"no cache: {F(plain, "F0")} ({F(kv / plain, "F1")}x)", ">= 5x without cache", Met(kv / plain >= 5), Cmd("generate")));
            }
        }
        if (Load("learn") is JsonNode l)
        {
            double share = (double)l["share_of_matmul"]!;
            rows.Add(new Row("learn", "RL update tokens/s (15M, 16,384 tokens)", F((double)l["tokens_per_s"]!, "F0"),
                $"matmul {F((double)l["matmul_gflops"]!, "F1")} GFLOP/s ({F(share * 100, "F0")} % achieved)", ">= 35 % of matmul", Met(share >= 0.35), Cmd("learn")));
        }
        if (Load("rollout") is JsonNode r)
        {
            var top = r["rows"]!.AsArray().OrderBy(x => (int)x!["concurrency"]!).Last()!;
            double grains = (double)top["grains_tokens_per_s"]!, direct = (double)top["direct_tokens_per_s"]!;
            rows.Add(new Row("rollout", $"tokens/s through grains, {(int)top["concurrency"]!} concurrent episodes", F(grains, "F0"),
                $"engine direct {F(direct, "F0")} ({F(grains / direct * 100, "F0")} %)", ">= 90 % of direct at 256", Met(grains / direct >= 0.90), Cmd("rollout")));
        }
        if (Load("verify") is JsonNode v)
        {
            rows.Add(new Row("verify", "math equivalence checks/s (MATH-500 pairs)", F((double)v["pairs_per_s"]!, "F0"),
                $"slowest {F((double)v["worst_ms"]!, "F1")} ms, {(int)v["timeouts"]!} timeouts", "-", "-", Cmd("verify")));
        }
        if (Load("cluster") is JsonNode c)
        {
            var runs = c.AsArray();
            JsonNode? one = runs.FirstOrDefault(x => (int)x!["silos"]! == 1), three = runs.FirstOrDefault(x => (int)x!["silos"]! == 3);
            if (one is not null && three is not null)
            {
                double e1 = (double)one["episodes_per_s"]!, e3 = (double)three["episodes_per_s"]!;
                rows.Add(new Row("cluster", "episodes/s, 3 silos x 1 thread", F(e3, "F1"), $"1 silo x 2 threads: {F(e1, "F1")} ({F(e3 / e1 * 100, "F0")} %)", "-", "-", Cmd("cluster")));
                if (three["recovery_seconds"] is JsonNode recovery)
                {
                    rows.Add(new Row("cluster", "recovery after kill -9 of a rollout silo (s)", F((double)recovery, "F1"), "-", "-", "-", Cmd("cluster")));
                }
            }
        }
        return rows;
    }
}
