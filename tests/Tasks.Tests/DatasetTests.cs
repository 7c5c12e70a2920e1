using Parquet.Serialization;
using ReMA.Tasks.Core;
using ReMA.Tasks.Datasets;

namespace ReMA.Tasks.Tests;

public class DatasetTests
{
    private static string Temp(string name, string content)
    {
        string dir = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Jsonl_MapsFieldsAndAnswerFormats()
    {
        string plain = Temp("math.jsonl", """
            {"problem": "What is 1/2 + 1/2?", "answer": "1", "unique_id": "m1"}
            {"problem": "AMC", "answer": 27.0, "id": 5}

            """);
        Dataset d = DatasetLoader.Load(plain);
        Assert.Equal(["1", "27.0"], d.Problems.Select(p => p.Answer));
        Assert.Equal(["m1", "5"], d.Problems.Select(p => p.Id));

        string gsm = Temp("gsm.jsonl", """{"question": "q", "answer": "So 1,000 + 2 = 1002\n#### 1,002"}""");
        Assert.Equal("1002", DatasetLoader.Load(gsm, FieldMapping.Gsm8k).Problems[0].Answer);

        string math = Temp("sol.jsonl", """{"problem": "q", "solution": "Thus $\\boxed{\\frac{1}{2}}$."}""");
        Assert.Equal("\\frac{1}{2}", DatasetLoader.Load(math, FieldMapping.MathSolutions).Problems[0].Answer);
    }

    [Fact]
    public void MalformedRows_AreNamedByFileLineAndField_OrSkippedAndCounted()
    {
        string path = Temp("bad.jsonl", """
            {"question": "ok", "answer": "1"}
            {"question": "no answer here"}
            not json
            {"question": "gsm without marker", "answer": "5"}
            """);
        var missing = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(path));
        Assert.Contains($"{path}:2: field 'answer' is missing", missing.Message);

        Dataset skipped = DatasetLoader.Load(path, options: new DatasetOptions { SkipMalformed = true });
        Assert.Equal(2, skipped.Problems.Count);
        Assert.Equal(2, skipped.Skipped.Count);
        Assert.Contains(skipped.Skipped, s => s.Contains(":3: not valid JSON", StringComparison.Ordinal));

        var gsm = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(path, FieldMapping.Gsm8k, new DatasetOptions()));
        Assert.Contains(":1: field 'answer' has no answer; expected a final line '#### N'", gsm.Message);
    }

    private sealed class Row
    {
        public string Question { get; set; } = "";
        public string Answer { get; set; } = "";
        public int Idx { get; set; }
    }

    [Fact]
    public async Task Parquet_LoadsWithTheSameMapping()
    {
        string dir = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "data.parquet");
        await ParquetSerializer.SerializeAsync(new[] { new Row { Question = "2+2?", Answer = "4", Idx = 7 }, new Row { Question = "3*3?", Answer = "", Idx = 8 } }, path);
        var mapping = new FieldMapping { Question = ["Question"], Answer = ["Answer"], Id = ["Idx"] };
        var error = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(path, mapping));
        Assert.Contains(":2: field 'Answer' is missing or empty", error.Message);
        Dataset d = DatasetLoader.Load(path, mapping, new DatasetOptions { SkipMalformed = true });
        Assert.Equal("4", Assert.Single(d.Problems).Answer);
        Assert.Equal("7", d.Problems[0].Id);
    }

    [Fact]
    public void Splits_AreDeterministicBySeed()
    {
        var problems = Enumerable.Range(0, 50).Select(i => new Problem($"p{i}", $"q{i}", $"{i}", "all")).ToList();
        var (train, eval) = DatasetSplits.TrainEval(problems, 10, seed: 4);
        Assert.Equal(10, eval.Count);
        Assert.Equal(40, train.Count);
        Assert.Empty(train.Select(p => p.Id).Intersect(eval.Select(p => p.Id)));
        Assert.Equal(eval.Select(p => p.Id), DatasetSplits.TrainEval(problems, 10, seed: 4).Eval.Select(p => p.Id));
        Assert.NotEqual(eval.Select(p => p.Id), DatasetSplits.TrainEval(problems, 10, seed: 5).Eval.Select(p => p.Id));
    }

    /// <summary>Real data: every GSM8K test answer ends in "#### N" and N is extracted (a number).</summary>
    [Fact]
    public void Gsm8k_EveryTestAnswerIsExtracted()
    {
        string path = Verification.TestData.RequireFile("gsm8k/test.jsonl");
        Dataset d = DatasetLoader.Load(path, FieldMapping.Gsm8k);
        Assert.Equal(1319, d.Problems.Count);
        Assert.All(d.Problems, p => Assert.True(decimal.TryParse(p.Answer, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out _), $"{p.Id}: '{p.Answer}'"));
        Assert.Equal("18", d.Problems[0].Answer);
    }
}
