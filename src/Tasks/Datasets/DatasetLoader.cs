using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet.Serialization;
using ReMA.Tasks.Verification;
using ReMA.Tasks.Core;

namespace ReMA.Tasks.Datasets;

/// <summary>How the reference answer is stored in a dataset's answer field.</summary>
public enum AnswerFormat
{
    /// <summary>The field is the bare answer (MATH-500 "answer", AMC/AIME "answer", SVAMP "Answer").</summary>
    Plain,
    /// <summary>A worked solution ending in "#### N" (GSM8K).</summary>
    Gsm8k,
    /// <summary>A worked solution whose last \boxed{...} is the answer (MATH "solution").</summary>
    BoxedInSolution,
}

/// <summary>Which fields hold the question, the answer and the id; the first name present in a row is used.</summary>
public sealed record FieldMapping
{
    public IReadOnlyList<string> Question { get; init; } = ["question", "problem", "Question"];
    public IReadOnlyList<string> Answer { get; init; } = ["answer", "ground_truth", "Answer", "solution"];
    public IReadOnlyList<string> Id { get; init; } = ["id", "unique_id", "idx", "ID"];
    public AnswerFormat Format { get; init; } = AnswerFormat.Plain;

    public static FieldMapping Gsm8k => new() { Answer = ["answer"], Format = AnswerFormat.Gsm8k };
    public static FieldMapping MathSolutions => new() { Answer = ["solution"], Format = AnswerFormat.BoxedInSolution };
}

public sealed record DatasetOptions
{
    /// <summary>Skip (and count) malformed rows instead of failing on the first one.</summary>
    public bool SkipMalformed { get; init; }
    public string Split { get; init; } = "test";
}

/// <summary>Problems read from one file; <see cref="Skipped"/> lists the rows left out (only with SkipMalformed).</summary>
public sealed record Dataset(string Path, IReadOnlyList<Problem> Problems, IReadOnlyList<string> Skipped);

/// <summary>
/// Loads question/answer datasets from JSONL (one JSON object per line) or Parquet, with a field mapping. A malformed
/// row is an error naming the file, the line (or row) and the field; with SkipMalformed it is left out and listed.
/// </summary>
public static class DatasetLoader
{
    public static Dataset Load(string path, FieldMapping? mapping = null, DatasetOptions? options = null)
    {
        mapping ??= new FieldMapping();
        options ??= new DatasetOptions();
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: dataset file not found.", path);
        }
        IEnumerable<(int Line, Func<string, string?> Field)> rows = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jsonl" or ".json" => JsonlRows(path),
            ".parquet" => ParquetRows(path),
            string ext => throw new ArgumentException($"{path}: extension '{ext}' is not supported; expected .jsonl or .parquet."),
        };
        var problems = new List<Problem>();
        var skipped = new List<string>();
        foreach ((int line, Func<string, string?> field) in rows)
        {
            try
            {
                problems.Add(ToProblem(line, field, mapping, options.Split));
            }
            catch (InvalidDataException e) when (options.SkipMalformed)
            {
                skipped.Add($"{path}:{e.Message}");
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}:{e.Message}", e);
            }
        }
        return new Dataset(path, problems, skipped);
    }

    private static Problem ToProblem(int line, Func<string, string?> field, FieldMapping mapping, string split)
    {
        (string question, _) = Require(line, field, mapping.Question);
        (string raw, string answerField) = Require(line, field, mapping.Answer);
        string? answer = mapping.Format switch
        {
            AnswerFormat.Plain => raw.Trim(),
            AnswerFormat.Gsm8k => Gsm8kAnswer(raw),
            AnswerFormat.BoxedInSolution => AnswerExtraction.ExtractBoxed(raw),
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(answer))
        {
            string expected = mapping.Format switch
            {
                AnswerFormat.Gsm8k => "a final line '#### N'",
                AnswerFormat.BoxedInSolution => "a \\boxed{...} answer",
                _ => "a non-empty answer",
            };
            throw new InvalidDataException($"{line}: field '{answerField}' has no answer; expected {expected}.");
        }
        string id = mapping.Id.Select(field).FirstOrDefault(v => v is not null) ?? $"line{line}";
        return new Problem(id, question, answer, split);
    }

    private static (string Value, string Field) Require(int line, Func<string, string?> field, IReadOnlyList<string> names)
    {
        foreach (string name in names)
        {
            if (field(name) is string v && v.Length > 0)
            {
                return (v, name);
            }
        }
        throw new InvalidDataException($"{line}: field '{names[0]}' is missing or empty (looked for {string.Join(", ", names)}).");
    }

    /// <summary>GSM8K's answer: the text after the last "####", with thousands separators removed.</summary>
    public static string? Gsm8kAnswer(string solution)
    {
        int at = solution.LastIndexOf("####", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }
        string value = solution[(at + 4)..].Trim().Replace(",", "", StringComparison.Ordinal);
        return value.Length == 0 ? null : value;
    }

    private static IEnumerable<(int, Func<string, string?>)> JsonlRows(string path)
    {
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            (JsonObject? obj, string? error) = ParseObject(text);
            if (obj is null)
            {
                int at = line;
                yield return (at, _ => throw new InvalidDataException($"{at}: {error}"));
                continue;
            }
            yield return (line, name => Text(obj[name]));
        }
    }

    private static (JsonObject? Obj, string? Error) ParseObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) is JsonObject o ? (o, null) : (null, "expected a JSON object.");
        }
        catch (JsonException e)
        {
            return (null, $"not valid JSON ({e.Message}).");
        }
    }

    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonValue v => v.ToJsonString(),
        _ => node.ToJsonString(),
    };

    private static IEnumerable<(int, Func<string, string?>)> ParquetRows(string path)
    {
        IList<Dictionary<string, object>> data;
        using (FileStream stream = File.OpenRead(path))
        {
            try
            {
                data = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult().Data;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException)
            {
                throw new InvalidDataException($"{path}: not a readable Parquet file ({e.Message}).", e);
            }
        }
        for (int i = 0; i < data.Count; i++)
        {
            Dictionary<string, object> row = data[i];
            yield return (i + 1, name => row.TryGetValue(name, out object? v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : null);
        }
    }
}
