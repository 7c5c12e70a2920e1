using ReMA.Tasks.Core;
using ReMA.Tasks.MathProblems;
using ReMA.Tasks.Tests.Verification;

namespace ReMA.Tasks.Tests;

public class MathTaskTests
{
    private static readonly TaskRegistry Catalog = TaskCatalog.Default();

    [Fact]
    public void MathTask_LoadsRealSetsAndJudgesBoxedAnswersByEquivalence()
    {
        ITask task = Catalog.Create(MathTask.TaskName, new Dictionary<string, string>
        {
            ["train_path"] = TestData.RequireFile("gsm8k/train.jsonl"),
            ["train_format"] = "gsm8k",
            ["test_path"] = TestData.RequireFile("math500/test.jsonl"),
            ["eval_sets"] = $"aime24={TestData.RequireFile("aime24/test.jsonl")};amc23={TestData.RequireFile("amc23/test.jsonl")}",
        });
        Assert.Equal(["train", "test", "aime24", "amc23"], task.Splits);
        Assert.Equal(7473, task.Load("train").Count);
        Assert.Equal(30, task.Load("aime24").Count);
        Problem amc = task.Load("amc23")[0];
        Assert.Equal("27.0", amc.Answer);
        Assert.True(task.Judge(amc, "They meet after 1.5 hours, so \\boxed{27}.").Correct);
        Problem first = task.Load("test")[0];           // answer \left( 3, \frac{\pi}{2} \right)
        Assert.True(task.Judge(first, "so the point is $\\boxed{(3,\\tfrac{\\pi}{2})}$").Correct);
        Judgement wrong = task.Judge(first, "\\boxed{(3, \\pi)}");
        Assert.False(wrong.Correct);
        Assert.True(wrong.HasAnswerFormat);
        // Lenient extraction (the default) reads an answer stated in prose; boxed extraction finds none there.
        Assert.True(task.Judge(first, "So the point in polar coordinates is $\\left(3, \\frac{\\pi}{2}\\right)$.").Correct);
        Assert.True(task.Judge(amc, "They meet after 1.5 hours. Final Answer: The distance is 27 miles.").Correct);
        Assert.False(task.Judge(amc, "They meet after 1.5 hours. Final Answer: The distance is 26 miles.").Correct);
        Assert.False(task.Judge(first, "I cannot tell.").HasAnswerFormat);
        ITask boxed = Catalog.Create(MathTask.TaskName, new Dictionary<string, string>
        {
            ["test_path"] = TestData.RequireFile("math500/test.jsonl"),
            ["answer_extraction"] = "boxed",
        });
        Assert.False(boxed.Judge(first, "So the point in polar coordinates is $\\left(3, \\frac{\\pi}{2}\\right)$.").HasAnswerFormat);
        Assert.True(boxed.Judge(first, "so the point is $\\boxed{(3,\\tfrac{\\pi}{2})}$").Correct);
        var bad = Assert.Throws<ArgumentException>(() => Catalog.Create(MathTask.TaskName, new Dictionary<string, string>
        {
            ["test_path"] = TestData.RequireFile("math500/test.jsonl"),
            ["answer_extraction"] = "prose",
        }));
        Assert.Contains("answer_extraction", bad.Message);
        Assert.Contains("prose", bad.Message);
    }

    [Fact]
    public void MathTask_CarvesATestSplitAndOffersTheFinalLineFallback()
    {
        ITask task = Catalog.Create(MathTask.TaskName, new Dictionary<string, string>
        {
            ["train_path"] = TestData.RequireFile("math500/test.jsonl"),
            ["eval_count"] = "50",
            ["answer_extraction"] = "boxed",
            ["final_line_fallback"] = "true",
        });
        Assert.Equal(450, task.Load("train").Count);
        Assert.Equal(50, task.Load("test").Count);
        var p = new Problem("p", "q", "\\frac{1}{2}", "test");
        Assert.True(task.Judge(p, "Working...\nThe answer is 0.5").Correct);
        Assert.False(task.Judge(p, "Working... so 0.5").HasAnswerFormat);   // boxed: neither a box nor an answer line
    }

    [Fact]
    public void MathTask_OptionErrorsNameTheOption()
    {
        var error = Assert.Throws<ArgumentException>(() => Catalog.Create(MathTask.TaskName, new Dictionary<string, string> { ["train_format"] = "csv", ["eval_sets"] = "broken" }));
        Assert.Contains("option 'train_format' must be plain, gsm8k or boxed (got 'csv')", error.Message);
        Assert.Contains("'eval_sets' entry 'broken' must be name=path", error.Message);
        Assert.Contains("give at least one of train_path, test_path or eval_sets", error.Message);
    }

    [Fact]
    public void Catalog_HasTheBuiltInTasks()
    {
        Assert.Equal(["arithmetic", "arithmetic-judge", "judge", "math"], Catalog.Names.Order());
        ITask judge = Catalog.Create("arithmetic-judge", new Dictionary<string, string> { ["train_size"] = "30", ["eval_size"] = "10", ["swap"] = "both" });
        Assert.Equal(20, judge.Load("test").Count);
        Assert.Contains("[[A]]", judge.SystemPrompt(Protocol.RemaSingleTurn, Roles.Reasoner));
    }

    [Fact]
    public void CatalogSplits_KnownFromTheOptionsAlone_AgreeWithTheBuiltTasks()
    {
        string dir = Directory.CreateTempSubdirectory("rema-splits-").FullName;
        string problems = Path.Combine(dir, "p.jsonl"), rows = Path.Combine(dir, "j.jsonl");
        File.WriteAllText(problems, string.Join("\n", Enumerable.Range(1, 10).Select(i => $$"""{"question": "{{i}}+1?", "answer": "{{i + 1}}"}""")));
        File.WriteAllText(rows, """{"question": "q", "response_a": "a", "response_b": "b", "label": "A"}""");
        var cases = new (string Task, Dictionary<string, string> Options)[]
        {
            ("arithmetic", new() { ["train_size"] = "20", ["eval_size"] = "5" }),
            ("arithmetic-judge", new() { ["train_size"] = "20", ["eval_size"] = "5" }),
            ("math", new() { ["test_path"] = problems }),
            ("math", new() { ["train_path"] = problems }),
            ("math", new() { ["train_path"] = problems, ["eval_count"] = "3", ["eval_sets"] = $"extra={problems}; other={problems}" }),
            ("math", new() { ["eval_sets"] = $"only={problems}" }),
            ("judge", new() { ["test_path"] = rows }),
            ("judge", new() { ["train_path"] = rows, ["test_path"] = rows }),
        };
        foreach ((string task, Dictionary<string, string> options) in cases)
        {
            Assert.Equal(Catalog.Create(task, options).Splits.Order(), TaskCatalog.Splits(task, options)!.Order());
        }
        Assert.Equal(["train", "test", "validation", "ood-operands", "ood-large", "ood-nested"], TaskCatalog.Splits("arithmetic", null));
        Assert.Null(TaskCatalog.Splits("no-such-task", null));
        Directory.Delete(dir, true);
    }
}
