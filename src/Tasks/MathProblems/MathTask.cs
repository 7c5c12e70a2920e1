using System.Globalization;
using ReMA.Tasks.Core;
using ReMA.Tasks.Datasets;
using ReMA.Tasks.Verification;

namespace ReMA.Tasks.MathProblems;

/// <summary>
/// Math word problems from datasets (MATH, GSM8K, AIME, AMC, ...), judged by the math verifier: the final answer of the
/// reasoner's last message (option answer_extraction: lenient, the default, reads boxes, then an answer phrase, a bare
/// answer, the last math span or the last number; boxed reads boxes only, optionally with a final-answer line), compared
/// with the reference by mathematical equivalence under a time limit (a timeout scores 0).
/// Splits: train (when a training file is given), test, and any evaluation-only sets.
/// </summary>
public sealed class MathTask : ITask
{
    public const string TaskName = "math";
    private readonly Dictionary<string, IReadOnlyList<Problem>> _splits;
    private readonly bool _finalLineFallback;
    private readonly TimeSpan _timeout;

    /// <param name="extraction">how the final answer is found (<see cref="AnswerExtraction.ExtractFinal"/>)</param>
    /// <param name="finalLineFallback">boxed extraction only: a final-answer line counts when there is no box</param>
    public MathTask(IReadOnlyDictionary<string, IReadOnlyList<Problem>> splits, bool finalLineFallback = false, TimeSpan? timeout = null,
        ExtractionMode extraction = ExtractionMode.Lenient)
    {
        _splits = splits.ToDictionary(kv => kv.Key, kv => kv.Value);
        _finalLineFallback = finalLineFallback;
        _timeout = timeout ?? TimeSpan.FromSeconds(2);
        Extraction = extraction;
    }

    public ExtractionMode Extraction { get; }

    /// <summary>
    /// Options: train_path and train_format (plain | gsm8k | boxed), test_path and test_format, eval_sets
    /// ("name=path;name=path", plain answers), eval_count (test split carved from train when no test_path), seed,
    /// skip_malformed, answer_extraction (lenient | boxed), final_line_fallback (boxed: a final-answer line counts when there
    /// is no box; lenient reads those lines anyway), timeout_ms.
    /// </summary>
    public static MathTask FromOptions(TaskOptions o)
    {
        var splits = new Dictionary<string, IReadOnlyList<Problem>>();
        var load = new DatasetOptions { SkipMalformed = o.Bool("skip_malformed", false) };
        string? trainPath = o.String("train_path");
        string? testPath = o.String("test_path");
        FieldMapping Mapping(string formatOption)
        {
            string format = o.String(formatOption, "plain");
            switch (format)
            {
                case "plain":
                    return new FieldMapping();
                case "gsm8k":
                    return FieldMapping.Gsm8k;
                case "boxed":
                    return FieldMapping.MathSolutions;
                default:
                    o.AddError($"option '{formatOption}' must be plain, gsm8k or boxed (got '{format}')");
                    return new FieldMapping();
            }
        }
        FieldMapping trainMapping = Mapping("train_format"), testMapping = Mapping("test_format");
        int evalCount = o.Int("eval_count", 0);
        int seed = o.Int("seed", 1);
        if (trainPath is not null)
        {
            var train = DatasetLoader.Load(trainPath, trainMapping, load with { Split = "train" }).Problems;
            if (testPath is null && evalCount > 0)
            {
                (var t, var e) = DatasetSplits.TrainEval(train, evalCount, seed);
                splits["train"] = t;
                splits["test"] = e;
            }
            else
            {
                splits["train"] = DatasetSplits.Shuffle(train, seed);
            }
        }
        if (testPath is not null)
        {
            splits["test"] = DatasetLoader.Load(testPath, testMapping, load with { Split = "test" }).Problems;
        }
        foreach (string pair in (o.String("eval_sets") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                o.AddError($"option 'eval_sets' entry '{pair}' must be name=path");
                continue;
            }
            string name = pair[..eq];
            splits[name] = DatasetLoader.Load(pair[(eq + 1)..], new FieldMapping(), load with { Split = name }).Problems;
        }
        if (splits.Count == 0)
        {
            o.AddError("give at least one of train_path, test_path or eval_sets");
        }
        ExtractionMode extraction = o.Choice("answer_extraction", "lenient", ["lenient", "boxed"]) == "boxed" ? ExtractionMode.Boxed : ExtractionMode.Lenient;
        bool finalLine = o.Bool("final_line_fallback", false);   // boxed only: lenient extraction reads final-answer lines anyway
        return new MathTask(splits, finalLine, TimeSpan.FromMilliseconds(o.Int("timeout_ms", 2000)), extraction);
    }

    /// <summary>
    /// The splits <see cref="FromOptions"/> builds from these options, read from the options alone: no dataset is opened
    /// (the files may live on the silos, not where a campaign is submitted). Whether the files exist and hold problems
    /// is not checked here; building the task does that.
    /// </summary>
    public static IReadOnlyList<string> SplitsOf(IReadOnlyDictionary<string, string> options)
    {
        var splits = new List<string>();
        bool train = options.ContainsKey("train_path"), test = options.ContainsKey("test_path");
        if (train)
        {
            splits.Add("train");
        }
        int evalCount = options.TryGetValue("eval_count", out string? count) && int.TryParse(count, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 0;
        if (test || (train && evalCount > 0))
        {
            splits.Add("test");
        }
        string sets = options.TryGetValue("eval_sets", out string? value) ? value : "";
        foreach (string pair in sets.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && !splits.Contains(pair[..eq]))
            {
                splits.Add(pair[..eq]);
            }
        }
        return splits;
    }

    public string Name => TaskName;
    public IReadOnlyList<string> Splits => [.. _splits.Keys];

    public IReadOnlyList<Problem> Load(string split) => _splits.TryGetValue(split, out var problems) ? problems
        : throw new ArgumentException($"{TaskName}: split '{split}' is not known; splits: {string.Join(", ", _splits.Keys)}.");

    public string SystemPrompt(Protocol protocol, string role) => RolePrompts.For(protocol, role);

    public Judgement Judge(Problem problem, string finalMessage)
    {
        string? extracted;
        try
        {
            // Boxed: the boxes (adjacent ones as a list, as rema grade --extraction boxed reads them), then optionally a final-answer line.
            extracted = AnswerExtraction.ExtractFinal(finalMessage, Extraction)?.Text
                ?? (Extraction == ExtractionMode.Boxed && _finalLineFallback ? AnswerExtraction.ExtractFinalAnswerLine(finalMessage) : null);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return new Judgement(false, null, false, true);   // a pathological message: scored 0 as a timeout
        }
        if (extracted is null)
        {
            return Judgement.Missing;
        }
        Verdict verdict = MathEquivalence.Check(problem.Answer, extracted, _timeout);
        return new Judgement(verdict.Equivalent, extracted, true, verdict.TimedOut);
    }
}
