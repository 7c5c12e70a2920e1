using ReMA.Tasks.Core;
using ReMA.Tasks.Datasets;

namespace ReMA.Tasks.Judge;

/// <summary>A pairwise comparison: which response answers the question better (label "A" or "B").</summary>
public sealed record JudgeRow(string Id, string Question, string ResponseA, string ResponseB, string Label);

public enum PositionSwap
{
    /// <summary>Rows as given.</summary>
    None,
    /// <summary>Each row swapped or not by a stable coin per row id (balances labels).</summary>
    Random,
    /// <summary>Each row twice, once swapped: a judge must get both to be position-independent.</summary>
    Both,
}

/// <summary>
/// LLM-as-a-judge: the meta agent writes an evaluation plan for the question; the reasoner applies it to the two
/// responses and answers [[A]] or [[B]]. Reward: the verdict equals the label (an invalid verdict scores 0).
/// </summary>
public sealed class JudgeTask : ITask
{
    private readonly Dictionary<string, IReadOnlyList<JudgeRow>> _splits;
    private readonly PositionSwap _swap;

    public JudgeTask(string name, IReadOnlyDictionary<string, IReadOnlyList<JudgeRow>> splits, PositionSwap swap = PositionSwap.None)
    {
        Name = name;
        _splits = splits.ToDictionary(kv => kv.Key, kv => kv.Value);
        _swap = swap;
        foreach (JudgeRow row in _splits.Values.SelectMany(r => r))
        {
            if (row.Label is not ("A" or "B"))
            {
                throw new ArgumentException($"{name}: row {row.Id} has label '{row.Label}'; expected A or B.");
            }
        }
    }

    public string Name { get; }
    public IReadOnlyList<string> Splits => [.. _splits.Keys];

    /// <summary>Reads pairwise rows from JSONL: question, response_a (or answer_a), response_b (or answer_b), label (or winner).</summary>
    public static IReadOnlyList<JudgeRow> LoadJsonl(string path, DatasetOptions? options = null)
    {
        var question = new FieldMapping { Question = ["question", "prompt"], Answer = ["label", "winner"], Id = ["id"] };
        Dataset labels = DatasetLoader.Load(path, question, options);
        Dataset a = DatasetLoader.Load(path, question with { Answer = ["response_a", "answer_a"] }, options);
        Dataset b = DatasetLoader.Load(path, question with { Answer = ["response_b", "answer_b"] }, options);
        if (labels.Problems.Count != a.Problems.Count || a.Problems.Count != b.Problems.Count)
        {
            throw new InvalidDataException($"{path}: some rows lack a label, response_a or response_b ({string.Join("; ", labels.Skipped.Concat(a.Skipped).Concat(b.Skipped).Take(3))}).");
        }
        return labels.Problems.Select((p, i) => new JudgeRow(p.Id, p.Question, a.Problems[i].Answer, b.Problems[i].Answer,
            p.Answer.Trim().ToUpperInvariant() switch
            {
                "A" or "MODEL_A" => "A",
                "B" or "MODEL_B" => "B",
                string other => throw new InvalidDataException($"{path}: row {p.Id} has label '{other}'; expected A or B."),
            })).ToList();
    }

    public IReadOnlyList<Problem> Load(string split)
    {
        if (!_splits.TryGetValue(split, out var rows))
        {
            throw new ArgumentException($"{Name}: split '{split}' is not known; splits: {string.Join(", ", _splits.Keys)}.");
        }
        return rows.SelectMany(r => _swap switch
        {
            PositionSwap.None => [ToProblem(r, false, split)],
            PositionSwap.Random => [ToProblem(r, StableCoin(r.Id), split)],
            _ => new[] { ToProblem(r, false, split), ToProblem(r, true, split) },
        }).ToList();
    }

    private static bool StableCoin(string id) => (StableHash.Of(id) & 1) == 1;

    private static Problem ToProblem(JudgeRow row, bool swapped, string split)
    {
        (string first, string second) = swapped ? (row.ResponseB, row.ResponseA) : (row.ResponseA, row.ResponseB);
        string label = swapped ? (row.Label == "A" ? "B" : "A") : row.Label;
        string question = $"Question:\n{row.Question}\n\n[Response A]\n{first}\n\n[Response B]\n{second}";
        return new Problem(swapped ? row.Id + "/swapped" : row.Id, question, label, split)
        {
            Metadata = new Dictionary<string, string> { ["swapped"] = swapped ? "true" : "false" },
        };
    }

    public string SystemPrompt(Protocol protocol, string role) => role switch
    {
        Roles.Meta => "You plan how to judge two responses to a question: list what a correct, helpful answer must get right and how to check it. Do not pick a winner.",
        _ => "Compare the two responses using the evaluation plan. Ignore their order and their length. End with [[A]] if Response A is better or [[B]] if Response B is better.",
    };

    public Judgement Judge(Problem problem, string finalMessage)
    {
        string? verdict = JudgeVerdict.Parse(finalMessage);
        return new Judgement(verdict == problem.Answer, verdict, verdict is not null);
    }
}
