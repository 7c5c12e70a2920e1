using ReMA.Tasks.Verification;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace ReMA.Tasks.Tests.Verification;

/// <summary>
/// Runs the verifier over MATH-500 once for all tests in <see cref="Math500Tests"/>: each solution's boxed answer
/// against its own reference (agreement) and against the next row's reference (false positives), timing every check,
/// and writes the disagreements to <c>math500-disagreements.md</c> in the work folder.
/// </summary>
public sealed class Math500Fixture
{
    /// <summary>File name of the report written next to the Verifier projects.</summary>
    public const string ReportName = "math500-disagreements.md";

    public Math500Fixture()
    {
        List<JsonElement> rows = TestData.ReadJsonLines(Path.Combine("math500", "test.jsonl"));
        Rows = rows.Count;
        string[] answers = [.. rows.Select(r => r.Field("answer"))];
        string?[] extracted = [.. rows.Select(r => AnswerExtraction.ExtractBoxed(r.Field("solution")))];

        for (int i = 0; i < Rows; i++)
        {
            _ = MathEquivalence.Check(answers[i], extracted[i] ?? "");
        }

        var clock = new Stopwatch();
        for (int i = 0; i < Rows; i++)
        {
            Verdict own = Timed(clock, answers[i], extracted[i] ?? "");
            if (!own.Equivalent)
            {
                Disagreements.Add((i, answers[i], extracted[i], own));
            }

            string next = answers[(i + 1) % Rows];
            Verdict cross = Timed(clock, next, extracted[i] ?? "");
            if (cross.Equivalent && cross.GoldNormalized != cross.PredictionNormalized)
            {
                FalsePositives.Add((i, next, extracted[i], cross));
            }
        }

        PairsPerSecond = 2 * Rows / clock.Elapsed.TotalSeconds;
        File.WriteAllText(Path.Combine(TestData.WorkDirectory, ReportName), Report());
    }

    /// <summary>Number of MATH-500 rows read.</summary>
    public int Rows { get; }

    /// <summary>Rows whose boxed solution answer was not judged equivalent to the reference answer.</summary>
    public List<(int Row, string Gold, string? Extracted, Verdict Verdict)> Disagreements { get; } = [];

    /// <summary>Cross pairs (solution i against answer i+1) judged equivalent although their normalised forms differ.</summary>
    public List<(int Row, string Gold, string? Extracted, Verdict Verdict)> FalsePositives { get; } = [];

    /// <summary>Checks per second over the timed pass (both pair kinds, one thread).</summary>
    public double PairsPerSecond { get; }

    /// <summary>Slowest single check in the timed pass, in milliseconds.</summary>
    public double WorstMilliseconds { get; private set; }

    private Verdict Timed(Stopwatch total, string gold, string prediction)
    {
        long start = Stopwatch.GetTimestamp();
        total.Start();
        Verdict verdict = MathEquivalence.Check(gold, prediction);
        total.Stop();
        WorstMilliseconds = System.Math.Max(WorstMilliseconds, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        return verdict;
    }

    private string Report()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# MATH-500: verifier disagreements");
        sb.AppendLine();
        sb.AppendLine($"Agreement: {Rows - Disagreements.Count}/{Rows}. False positives (solution i vs answer i+1, normalised forms differ): {FalsePositives.Count}/{Rows}.");
        sb.AppendLine($"Throughput: {PairsPerSecond:F0} checks/s on one thread; slowest check {WorstMilliseconds:F1} ms.");
        AppendTable(sb, "Disagreements (boxed solution answer vs reference answer)", Disagreements);
        AppendTable(sb, "False positives (boxed solution answer vs next row's answer)", FalsePositives);
        return sb.ToString();
    }

    private static void AppendTable(StringBuilder sb, string title, List<(int Row, string Gold, string? Extracted, Verdict Verdict)> entries)
    {
        sb.AppendLine();
        sb.AppendLine($"## {title}");
        sb.AppendLine();
        if (entries.Count == 0)
        {
            sb.AppendLine("None.");
            return;
        }

        sb.AppendLine("| row | reference | extracted | normalised reference | normalised extracted | method |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach ((int row, string gold, string? extracted, Verdict verdict) in entries)
        {
            sb.AppendLine($"| {row} | `{Cell(gold)}` | `{Cell(extracted ?? "(no box)")}` | `{Cell(verdict.GoldNormalized)}` | `{Cell(verdict.PredictionNormalized)}` | {verdict.Method} |");
        }
    }

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
