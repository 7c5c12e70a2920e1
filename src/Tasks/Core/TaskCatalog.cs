using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Judge;
using ReMA.Tasks.MathProblems;

namespace ReMA.Tasks.Core;

/// <summary>The built-in tasks: what campaign configs can name.</summary>
public static class TaskCatalog
{
    /// <summary>
    /// arithmetic (the embedded default), math (datasets judged by the math verifier), arithmetic-judge (synthetic
    /// pairwise judging built from the arithmetic task), judge (pairwise rows from JSONL files).
    /// </summary>
    public static TaskRegistry Default() => new TaskRegistry()
        .Register(ArithmeticTask.TaskName, ArithmeticTask.FromOptions)
        .Register(MathTask.TaskName, MathTask.FromOptions)
        .Register("arithmetic-judge", o =>
        {
            ArithmeticTask source = ArithmeticTask.FromOptions(o);
            int seed = o.Int("judge_seed", 7);
            PositionSwap swap = ParseSwap(o);
            return new JudgeTask("arithmetic-judge", new Dictionary<string, IReadOnlyList<JudgeRow>>
            {
                ["train"] = ArithmeticJudgeRows.From(source.Load("train"), seed),
                ["test"] = ArithmeticJudgeRows.From(source.Load("test"), seed + 1),
            }, swap);
        })
        .Register("judge", o =>
        {
            var splits = new Dictionary<string, IReadOnlyList<JudgeRow>>();
            foreach (string split in new[] { "train", "test" })
            {
                if (o.String($"{split}_path") is string path)
                {
                    splits[split] = JudgeTask.LoadJsonl(path);
                }
            }
            if (splits.Count == 0)
            {
                o.AddError("give train_path and/or test_path (JSONL rows: question, response_a, response_b, label)");
            }
            return new JudgeTask("judge", splits, ParseSwap(o));
        });

    /// <summary>
    /// The splits the built-in task <paramref name="name"/> has with these options, known without building it (no dataset
    /// is read, so a client can check a campaign before submitting it); null for a name the catalog does not know. Must
    /// agree with the factories above (a test builds each task and compares).
    /// </summary>
    public static IReadOnlyList<string>? Splits(string name, IReadOnlyDictionary<string, string>? options)
    {
        options ??= new Dictionary<string, string>();
        return name switch
        {
            ArithmeticTask.TaskName => ArithmeticTask.SplitNames,
            MathTask.TaskName => MathTask.SplitsOf(options),
            "arithmetic-judge" => ["train", "test"],
            "judge" => [.. new[] { "train", "test" }.Where(split => options.ContainsKey($"{split}_path"))],
            _ => null,
        };
    }

    private static PositionSwap ParseSwap(TaskOptions o)
    {
        string value = o.String("swap", "none");
        switch (value)
        {
            case "none":
                return PositionSwap.None;
            case "random":
                return PositionSwap.Random;
            case "both":
                return PositionSwap.Both;
            default:
                o.AddError($"option 'swap' must be none, random or both (got '{value}')");
                return PositionSwap.None;
        }
    }
}
