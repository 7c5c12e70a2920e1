using System.Globalization;
using System.Text.RegularExpressions;
using ReMA.Tasks.Verification;
using ReMA.Tasks.Core;

namespace ReMA.Tasks.Arithmetic;

/// <summary>
/// The synthetic arithmetic task, the embedded default: multi-step integer expressions whose ground-truth
/// decomposition drives demonstrations for every protocol, and whose environment substitutes each computed result
/// (so episodes can show the current expression instead of the whole dialogue).
/// Splits: train, test (same distribution, disjoint questions), validation (the same distribution again, disjoint from
/// both: for choosing settings without looking at test), ood-operands, ood-large, ood-nested.
/// </summary>
/// <summary>How much role prompt the arithmetic task gives each role.</summary>
public enum PromptStyle
{
    Full,
    Short,
    None,
}

public sealed partial class ArithmeticTask : ITask, IDemonstrationSource, IStatefulTask, IFailureDiagnosis, IFreshProblems
{
    public const string TaskName = "arithmetic";
    private readonly ArithmeticSettings _settings;
    private readonly int _seed, _trainSize, _evalSize;
    private readonly PromptStyle _prompts;
    private readonly bool _shortTurns, _fresh, _terseViews;

    /// <param name="prompts">
    /// Role prompts: the paper-style paragraphs (full), one line (short) or none. A character-level model re-reads its
    /// system prompt every turn, so long prompts dominate its compute and context; with none, the roles are told apart
    /// by their views (the meta agent sees "Last:", the reasoner "Instruction:", or "Do:" with format terse).
    /// </param>
    /// <param name="shortTurns">
    /// The meta agent's instructions as the bare operation ("4*7") instead of "Next: 4*7": turns about as short as the
    /// reference GRPO's (option <c>format: short</c>; the environment reads both forms).
    /// </param>
    /// <param name="terseViews">
    /// Option <c>format: terse</c> (short turns as well): the compact views without the "Current: " label and with
    /// "Do: " for "Instruction: " (meta "7*3-2\nLast: -", reasoner "7*3-2\nDo: 7*3"), about 14 characters fewer per
    /// turn; "Last:" still tells the roles apart.
    /// </param>
    /// <param name="freshProblems">
    /// Option <c>problems: fresh</c>: the splits are independent draws from the generator (a question may repeat, so
    /// short expressions keep their share) instead of distinct questions, and training draws new problems for every
    /// RL step and the SFT warm start (<see cref="IFreshProblems"/>) instead of a pool of train_size. Test and
    /// validation draw from two disjoint tenths of the questions that training never shows.
    /// </param>
    public ArithmeticTask(ArithmeticSettings? settings = null, int seed = 1, int trainSize = 5000, int evalSize = 200, PromptStyle prompts = PromptStyle.Full,
        bool shortTurns = false, bool freshProblems = false, bool terseViews = false)
    {
        _prompts = prompts;
        _shortTurns = shortTurns || terseViews;
        _terseViews = terseViews;
        _fresh = freshProblems;
        _settings = settings ?? new ArithmeticSettings();
        _settings.Validate(TaskName);
        if (trainSize <= 0 || evalSize <= 0)
        {
            throw new ArgumentException($"{TaskName}: train_size and eval_size must be positive (got {trainSize}, {evalSize}).");
        }
        _seed = seed;
        _trainSize = trainSize;
        _evalSize = evalSize;
    }

    /// <summary>Builds the task from campaign options (operand counts and ranges, sizes, seed).</summary>
    public static ArithmeticTask FromOptions(TaskOptions o)
    {
        var defaults = new ArithmeticSettings();
        var settings = new ArithmeticSettings
        {
            MinOperands = o.Int("min_operands", defaults.MinOperands),
            MaxOperands = o.Int("max_operands", defaults.MaxOperands),
            MinOperand = o.Int("min_operand", defaults.MinOperand),
            MaxOperand = o.Int("max_operand", defaults.MaxOperand),
            MaxIntermediate = o.Int("max_intermediate", defaults.MaxIntermediate),
            ParenthesesProbability = o.Double("parentheses_probability", defaults.ParenthesesProbability),
            ParenthesesDepth = o.Int("parentheses_depth", defaults.ParenthesesDepth),
            MultiplicationFirst = o.Choice("order", "leftmost", ["leftmost", "multiplication-first"]) == "multiplication-first",
        };
        string format = o.Choice("format", "labelled", ["labelled", "short", "terse"]);
        bool fresh = o.Choice("problems", "pool", ["pool", "fresh"]) == "fresh";
        string prompts = o.String("prompts", "full");
        PromptStyle style = prompts switch
        {
            "full" => PromptStyle.Full,
            "short" => PromptStyle.Short,
            "none" => PromptStyle.None,
            _ => PromptStyle.Full,
        };
        if (prompts is not ("full" or "short" or "none"))
        {
            o.AddError($"option 'prompts' must be full, short or none (got '{prompts}')");
        }
        return new ArithmeticTask(settings, o.Int("seed", 1), o.Int("train_size", 5000), o.Int("eval_size", 200), style,
            shortTurns: format == "short", freshProblems: fresh, terseViews: format == "terse");
    }

    public string Name => TaskName;
    public IReadOnlyList<string> Splits => SplitNames;

    /// <summary>The splits, whatever the options.</summary>
    public static IReadOnlyList<string> SplitNames { get; } = ["train", "test", "validation", "ood-operands", "ood-large", "ood-nested"];

    public IReadOnlyList<Problem> Load(string split) => split switch
    {
        "train" when _fresh => DrawTraining(_trainSize, 0),
        "test" when _fresh => DrawIndependent(_seed + 1, split, _evalSize, q => EvalClass(q) == 0),
        "validation" when _fresh => DrawIndependent(_seed + 5, split, _evalSize, q => EvalClass(q) == 1),
        "train" => Draw(_settings, _seed, split, _trainSize, q => !IsEvalQuestion(q)),
        "test" => Draw(_settings, _seed + 1, split, _evalSize, IsEvalQuestion),
        "validation" => Validation(),
        "ood-operands" => Draw(_settings.MoreOperands(), _seed + 2, split, _evalSize, _ => true),
        "ood-large" => Draw(_settings.LargerOperands(), _seed + 3, split, _evalSize, _ => true),
        "ood-nested" => Draw(_settings.NestedParentheses(), _seed + 4, split, _evalSize, _ => true),
        _ => throw new ArgumentException($"{TaskName}: split '{split}' is not known; splits: {string.Join(", ", Splits)}."),
    };

    /// <summary>Evaluation questions (never in train) that the test split does not hold.</summary>
    private List<Problem> Validation()
    {
        var test = Load("test").Select(p => p.Question).ToHashSet(StringComparer.Ordinal);
        return Draw(_settings, _seed + 5, "validation", _evalSize, q => IsEvalQuestion(q) && !test.Contains(q));
    }

    /// <summary>One question in ten, chosen by a stable hash of its text, belongs to evaluation: train never shows it.</summary>
    public static bool IsEvalQuestion(string question) => StableHash.Of(question) % 10 == 0;

    /// <summary>With fresh problems: 0 for test's tenth of the questions, 1 for validation's, -1 for training's eight tenths.</summary>
    private static int EvalClass(string question) => (StableHash.Of(question) % 10) switch { 0 => 0, 1 => 1, _ => -1 };

    public bool FreshTraining => _fresh;

    public IReadOnlyList<Problem> DrawTraining(int count, long stream)
    {
        if (!_fresh)
        {
            throw new InvalidOperationException($"{TaskName}: fresh training problems need the option problems: fresh.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(stream);
        // One generator per stream, seeded from (task seed, stream) so a step's problems do not depend on other steps.
        int seed = unchecked((int)StableHash.Of(string.Create(CultureInfo.InvariantCulture, $"{_seed}/train/{stream}")));
        return DrawIndependent(seed, $"train{stream}", count, q => EvalClass(q) < 0, "train");
    }

    /// <summary>Draws as they come from the generator (repeats kept), skipping questions <paramref name="keep"/> refuses.</summary>
    private List<Problem> DrawIndependent(int seed, string tag, int count, Func<string, bool> keep, string? split = null)
    {
        var result = new List<Problem>(count);
        long tried = 0;
        foreach (ArithmeticProblem p in ArithmeticProblems.Generate(_settings, seed, tag))
        {
            if (result.Count == count)
            {
                break;
            }
            if (keep(p.Question))
            {
                result.Add(ToProblem(p, split ?? tag));
            }
            if (++tried > (long)count * 1000 + 1000)
            {
                throw new InvalidOperationException($"{TaskName}: split '{split ?? tag}' found fewer than {count} questions under these settings.");
            }
        }
        return result;
    }

    private static List<Problem> Draw(ArithmeticSettings settings, int seed, string split, int count, Func<string, bool> keep)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<Problem>(count);
        foreach (ArithmeticProblem p in ArithmeticProblems.Generate(settings, seed, split))
        {
            if (keep(p.Question) && seen.Add(p.Question))
            {
                result.Add(ToProblem(p, split));
                if (result.Count == count)
                {
                    break;
                }
            }
            if (seen.Count + result.Count > count * 1000)
            {
                throw new InvalidOperationException($"{TaskName}: split '{split}' has fewer than {count} distinct questions under these settings.");
            }
        }
        return result;
    }

    private static Problem ToProblem(ArithmeticProblem p, string split) =>
        new(p.Id, p.Question, p.Answer.ToString(CultureInfo.InvariantCulture), split)
        {
            Metadata = new Dictionary<string, string> { ["expression"] = p.Expression.ToString() },
        };

    public string SystemPrompt(Protocol protocol, string role) => _prompts switch
    {
        PromptStyle.None => "",
        PromptStyle.Short => (protocol, role) switch
        {
            (Protocol.RemaMultiTurn, Roles.Meta) => "Plan the next step; say [FINISH] when done.",
            (Protocol.RemaMultiTurn, Roles.Reasoner) => "Do the step. Box the answer when told to finish.",
            (Protocol.RemaSingleTurn, Roles.Meta) => "Plan the steps. Do not solve.",
            (Protocol.RemaSingleTurn, Roles.Reasoner) => "Follow the plan. Box the answer.",
            (Protocol.Mrp, _) => "Plan, then solve. Box the answer.",
            _ => "Solve step by step. Box the answer.",
        },
        _ => RolePrompts.For(protocol, role),
    };

    public Judgement Judge(Problem problem, string finalMessage)
    {
        string? boxed = AnswerExtraction.ExtractBoxed(finalMessage);
        if (boxed is null)
        {
            return Judgement.Missing;
        }
        bool correct = long.TryParse(boxed.Replace(" ", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            && value.ToString(CultureInfo.InvariantCulture) == problem.Answer;
        return new Judgement(correct, boxed, true);
    }

    public Demonstration Demonstrate(Problem problem, Protocol protocol)
    {
        Expr expression = Expr.Parse(problem.Metadata.TryGetValue("expression", out string? e) ? e : ExpressionOf(problem.Question));
        var trace = expression.Trace(_settings.MultiplicationFirst);
        string work = string.Join("\n", trace.Select(t => $"{t.Step}={t.Step.Evaluate()}"));
        string boxed = $"\\boxed{{{expression.Evaluate()}}}";
        string plan = "Plan: " + string.Join(", then ", trace.Select(t => Verb(t.Step.Op))) + ".";
        IReadOnlyList<DemoTurn> turns = protocol switch
        {
            Protocol.Vrp => [new(Roles.Reasoner, $"{work}\n{boxed}")],
            Protocol.Mrp => [new(Roles.Reasoner, $"{plan}\n{work}\n{boxed}")],
            Protocol.RemaSingleTurn => [new(Roles.Meta, plan), new(Roles.Reasoner, $"{work}\n{boxed}")],
            Protocol.RemaMultiTurn =>
            [
                .. trace.SelectMany(t => new DemoTurn[] { new(Roles.Meta, _shortTurns ? t.Step.ToString() : $"Next: {t.Step}"), new(Roles.Reasoner, $"{t.Step}={t.Step.Evaluate()}") }),
                new(Roles.Meta, Roles.Finish),
                new(Roles.Reasoner, boxed),
            ],
            _ => throw new ArgumentException($"protocol {protocol} is not known."),
        };
        return new Demonstration(problem, protocol, turns);
    }

    private static string Verb(char op) => op switch { '+' => "add", '-' => "subtract", _ => "multiply" };

    private static string ExpressionOf(string question) => question.StartsWith("Compute ", StringComparison.Ordinal)
        ? question["Compute ".Length..].TrimEnd('.')
        : throw new ArgumentException($"{TaskName}: question '{question}' is not of the form 'Compute <expression>.'.");

    public string MetaView(string state, string last) => _terseViews ? $"{state}\nLast: {last}" : IStatefulTask.DefaultMetaView(state, last);

    public string ReasonerView(string state, string instruction) =>
        _terseViews ? $"{state}\nDo: {instruction}" : IStatefulTask.DefaultReasonerView(state, instruction);

    public string InitialState(Problem problem) =>
        problem.Metadata.TryGetValue("expression", out string? e) ? e : ExpressionOf(problem.Question);

    /// <summary>
    /// Applies the last "a op b = v" the reasoner wrote to a matching operation of the state whose operands are both
    /// numbers, substituting v (the environment trusts the reasoner: a wrong value propagates, as it would on paper).
    /// A message that matches no such operation leaves the state unchanged.
    /// </summary>
    public string Advance(string state, string reasonerMessage) =>
        Parse(state) is Expr expression && Step(expression, reasonerMessage) is (Bin target, long value)
            ? Replace(expression, target, value).ToString()
            : state;

    /// <summary>
    /// The step check behind per-turn step rewards: the operation <see cref="Advance"/> would apply must be computed
    /// correctly. A state that is already a number (or unreadable) asks for no step: null.
    /// </summary>
    public bool? CheckStep(string state, string reasonerMessage)
    {
        if (Parse(state) is not Expr expression || !expression.Reducible().Any())
        {
            return null;
        }
        return Step(expression, reasonerMessage) is (Bin target, long value) && target.Evaluate() == value;
    }

    private static Expr? Parse(string state)
    {
        try
        {
            return Expr.Parse(state);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The operation of the expression that the message's last "a op b = v" names (both operands numbers), with v.</summary>
    private static (Bin Target, long Value)? Step(Expr expression, string reasonerMessage)
    {
        var matches = StepPattern().Matches(reasonerMessage);
        if (matches.Count == 0)
        {
            return null;
        }
        Match m = matches[^1];
        if (!long.TryParse(m.Groups[1].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long a)
            || !long.TryParse(m.Groups[3].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long b)
            || !long.TryParse(m.Groups[4].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            return null;
        }
        char op = m.Groups[2].Value[0];
        Bin? target = expression.Reducible().FirstOrDefault(n => n.Op == op && ((Num)n.Left).Value == a && ((Num)n.Right).Value == b);
        return target is null ? null : (target, value);
    }

    private static Expr Replace(Expr e, Bin target, long value) => e switch
    {
        _ when ReferenceEquals(e, target) => new Num(value),
        Bin b => b with { Left = Replace(b.Left, target, value), Right = Replace(b.Right, target, value) },
        _ => e,
    };

    [GeneratedRegex(@"(-?\d+)\s*([+\-*])\s*(-?\d+)\s*=\s*(-?\d+)", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex StepPattern();

    [GeneratedRegex(@"^\s*(?:Next:\s*)?(-?\d+)\s*([+\-*])\s*(-?\d+)\s*$", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex InstructionPattern();

    public bool? CheckInstruction(string state, string metaMessage)
    {
        if (Parse(state) is not Expr expression)
        {
            return null;
        }
        bool finishing = metaMessage.Contains(Roles.Finish, StringComparison.Ordinal);
        if (finishing || expression.IsNumber)
        {
            return finishing == expression.IsNumber;
        }
        Match m = InstructionPattern().Match(metaMessage);
        return m.Success && NamesOperation(expression, m);
    }

    /// <summary>Whether a matched "Next: a op b" names an operation of the expression whose operands are both numbers.</summary>
    private static bool NamesOperation(Expr expression, Match instruction) => expression.Reducible().Any(n => n.Op == instruction.Groups[2].Value[0]
        && ((Num)n.Left).Value.ToString(CultureInfo.InvariantCulture) == instruction.Groups[1].Value
        && ((Num)n.Right).Value.ToString(CultureInfo.InvariantCulture) == instruction.Groups[3].Value);

    /// <summary>
    /// Replays the episode on the environment's state and names the first faulty turn. The meta agent is at fault when
    /// it finishes before the state is a number (early), does not finish once it is (late), writes no "Next: a op b"
    /// (malformed) or names an operation the state cannot take now (both operands numbers); the reasoner when its reply
    /// to a step has no "a op b = v" (malformed), names no operation of the state (wrong operation), or computes it
    /// wrongly (arithmetic), and when its final box is missing (malformed) or differs from the state (wrong box).
    /// </summary>
    public string? FirstFailure(Problem problem, IReadOnlyList<(string Role, string Text)> turns, bool correct, string finish)
    {
        if (correct)
        {
            return null;
        }
        string state = InitialState(problem);
        for (int i = 0; i < turns.Count; i += 2)
        {
            if (turns[i].Role != Roles.Meta)
            {
                return FailureCauses.Other(finish);
            }
            Expr? expression = Parse(state);
            if (expression is null)
            {
                return FailureCauses.Other(finish);
            }
            string meta = turns[i].Text;
            bool finishing = meta.Contains(Roles.Finish, StringComparison.Ordinal);
            if (finishing != expression.IsNumber)
            {
                return finishing ? FailureCauses.MetaEarlyFinish : FailureCauses.MetaLateFinish;
            }
            if (!finishing)
            {
                Match m = InstructionPattern().Match(meta);
                if (!m.Success)
                {
                    return FailureCauses.MetaMalformed;
                }
                if (!NamesOperation(expression, m))
                {
                    return FailureCauses.MetaUnmatched;
                }
            }
            if (i + 1 >= turns.Count)
            {
                return FailureCauses.Other(finish);
            }
            string reply = turns[i + 1].Text;
            if (finishing)
            {
                string? boxed = AnswerExtraction.ExtractBoxed(reply);
                return boxed is null ? FailureCauses.ReasonerMalformed
                    : boxed.Replace(" ", "", StringComparison.Ordinal) != state ? FailureCauses.ReasonerWrongBox
                    : FailureCauses.Other(finish);
            }
            if (!StepPattern().IsMatch(reply))
            {
                return FailureCauses.ReasonerMalformed;
            }
            if (Step(expression, reply) is not (Bin target, long value))
            {
                return FailureCauses.ReasonerWrongOperation;
            }
            if (target.Evaluate() != value)
            {
                return FailureCauses.ReasonerArithmetic;
            }
            state = Advance(state, reply);
        }
        return Parse(state)?.IsNumber == true ? FailureCauses.MetaLateFinish : FailureCauses.Other(finish);
    }

}
