using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReMA.Tasks.Datasets;
using ReMA.Tasks.Verification;

namespace ReMA.Bench;

public sealed record VerifyResults(
    [property: JsonPropertyName("machine")] string Machine,
    [property: JsonPropertyName("dataset")] string Dataset,
    [property: JsonPropertyName("pairs")] int Pairs,
    [property: JsonPropertyName("agree")] int Agree,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("pairs_per_s")] double PairsPerSecond,
    [property: JsonPropertyName("worst_ms")] double WorstMs,
    [property: JsonPropertyName("worst_pair")] string WorstPair,
    [property: JsonPropertyName("timeouts")] int Timeouts,
    [property: JsonPropertyName("warm_passes")] int WarmPasses,
    [property: JsonPropertyName("warm_pairs_per_s")] double WarmPairsPerSecond,
    [property: JsonPropertyName("graded_responses")] int GradedResponses,
    [property: JsonPropertyName("graded_agree")] int GradedAgree,
    [property: JsonPropertyName("graded_per_s")] double GradedPerSecond,
    [property: JsonPropertyName("graded_worst_ms")] double GradedWorstMs,
    [property: JsonPropertyName("graded_timeouts")] int GradedTimeouts);

/// <summary>
/// Verifier throughput on MATH-500, one check at a time on one thread: per row, its solution's boxed answer, the next
/// row's answer and a reformatted spelling, each against the row's reference; pairs per second and the slowest check.
/// Then the same pairs again (--passes, default 4) for the steady rate; then whole responses through <see cref="MathVerifier.Grade"/> (lenient extraction): each row's full worked solution,
/// and a prose sentence stating the answer without a box.
/// </summary>
public static class VerifyBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static int Run(string[] args)
    {
        bool json = args.Contains("--json");
        string data = BenchArgs.Value(args, "--data") ?? Path.Combine("..", "shared", "data", "math500", "test.jsonl");
        string output = BenchArgs.Value(args, "--out") ?? Path.Combine("bench", "results", "verify.json");
        var answers = DatasetLoader.Load(data).Problems;
        var solutions = DatasetLoader.Load(data, FieldMapping.MathSolutions).Problems;
        // Three checks per row: the solution's boxed answer (the real-data agreement check), the next row's answer
        // (a mismatch, which must run every comparison rule before saying no) and a reformatted spelling.
        var pairs = answers.Zip(solutions, (a, s) => (Gold: a.Answer, Prediction: s.Answer))
            .Concat(answers.Select((a, i) => (Gold: a.Answer, Prediction: answers[(i + 1) % answers.Count].Answer)))
            .Concat(answers.Select(a => (Gold: a.Answer, Prediction: "$" + a.Answer.Replace("\\frac", "\\dfrac", StringComparison.Ordinal) + "$")))
            .ToList();

        foreach (var (gold, prediction) in pairs.Take(50))
        {
            MathEquivalence.Check(gold, prediction);   // warm-up (JIT, regex construction)
        }
        double worst = 0;
        string worstPair = "";
        int timeouts = 0;
        // One pass over the pairs, one check at a time: how many were judged equivalent; the slowest check and timeouts accumulate.
        int Pass()
        {
            int equivalent = 0;
            foreach (var (gold, prediction) in pairs)
            {
                var one = Stopwatch.StartNew();
                Verdict v = MathEquivalence.Check(gold, prediction);
                double ms = one.Elapsed.TotalMilliseconds;
                if (ms > worst)
                {
                    worst = ms;
                    worstPair = $"{gold} | {prediction}";
                }
                equivalent += v.Equivalent ? 1 : 0;
                timeouts += v.TimedOut ? 1 : 0;
            }
            return equivalent;
        }
        var total = Stopwatch.StartNew();
        int agree = Pass();
        double seconds = total.Elapsed.TotalSeconds;

        // The first pass runs partly on the JIT's first-tier code (1,500 checks take a fifth of a second): further passes
        // over the same pairs give the steady rate, which compares two builds far more stably.
        int passes = int.TryParse(BenchArgs.Value(args, "--passes"), out int p) && p >= 0 ? p : 4;
        var warm = Stopwatch.StartNew();
        for (int pass = 0; pass < passes; pass++)
        {
            Pass();
        }
        double warmRate = passes == 0 ? 0 : passes * pairs.Count / warm.Elapsed.TotalSeconds;

        // Whole responses: the solution text (prose with its box) and an unboxed prose statement of the answer.
        var rawSolutions = DatasetLoader.Load(data, new FieldMapping { Answer = ["solution"], Format = AnswerFormat.Plain }).Problems;
        var responses = answers.Zip(rawSolutions, (a, s) => (Gold: a.Answer, Response: s.Answer))
            .Concat(answers.Select(a => (Gold: a.Answer, Response: $"Putting everything together, the final answer is ${a.Answer}$.")))
            .ToList();
        foreach (var (gold, response) in responses.Take(50))
        {
            MathVerifier.Grade(gold, response);   // warm-up
        }
        double gradedWorst = 0;
        int gradedAgree = 0, gradedTimeouts = 0;
        var graded = Stopwatch.StartNew();
        foreach (var (gold, response) in responses)
        {
            var one = Stopwatch.StartNew();
            Verdict v = MathVerifier.Grade(gold, response).Verdict;
            gradedWorst = Math.Max(gradedWorst, one.Elapsed.TotalMilliseconds);
            gradedAgree += v.Equivalent ? 1 : 0;
            gradedTimeouts += v.TimedOut ? 1 : 0;
        }
        double gradedSeconds = graded.Elapsed.TotalSeconds;
        var results = new VerifyResults(
            Environment.GetEnvironmentVariable("REMA_MACHINE") ?? $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            data, pairs.Count, agree, seconds, pairs.Count / seconds, worst, worstPair, timeouts, passes, warmRate,
            responses.Count, gradedAgree, responses.Count / gradedSeconds, gradedWorst, gradedTimeouts);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, JsonSerializer.Serialize(results, Indented));
        Console.WriteLine(json ? JsonSerializer.Serialize(results, Indented)
            : $"| pairs | agree | pairs/s | worst ms | timeouts |\n|---:|---:|---:|---:|---:|\n| {results.Pairs} | {results.Agree} | {results.PairsPerSecond:F0} | {results.WorstMs:F1} | {results.Timeouts} |\nslowest pair: {worstPair}\n"
              + $"warm: {results.WarmPasses} more passes at {results.WarmPairsPerSecond:F0} pairs/s\n"
              + $"whole responses (lenient extraction): {results.GradedResponses} graded, {results.GradedAgree} equivalent, {results.GradedPerSecond:F0}/s, worst {results.GradedWorstMs:F1} ms, {results.GradedTimeouts} timeouts\nwritten: {output}");
        return 0;
    }
}
