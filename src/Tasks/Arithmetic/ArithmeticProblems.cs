namespace ReMA.Tasks.Arithmetic;

/// <summary>
/// How one split's expressions are drawn. Defaults are the in-distribution training split: 2-4 single-digit
/// operands, every intermediate within +-99, parentheses around at most one sub-expression (a tiny model learns this
/// in minutes; operands up to 99 it does not).
/// </summary>
public sealed record ArithmeticSettings
{
    public int MinOperands { get; init; } = 2;
    public int MaxOperands { get; init; } = 4;
    public int MinOperand { get; init; } = 1;
    public int MaxOperand { get; init; } = 9;
    /// <summary>Every intermediate result stays within +-this bound.</summary>
    public int MaxIntermediate { get; init; } = 99;
    /// <summary>Chance that an expression groups a sub-expression in parentheses where precedence would not.</summary>
    public double ParenthesesProbability { get; init; } = 0.3;
    /// <summary>Nesting depth of explicit parentheses: 1 = one level (training), 2 = nested (an unseen pattern).</summary>
    public int ParenthesesDepth { get; init; } = 1;
    /// <summary>
    /// Step order of the worked solutions: the leftmost operation with two number operands (false), or the leftmost
    /// such multiplication first (true: the reference's canonical reduction). The +-bound check does not depend on it:
    /// every order computes the same sub-expression values.
    /// </summary>
    public bool MultiplicationFirst { get; init; }

    public void Validate(string name = "arithmetic")
    {
        var errors = new List<string>();
        if (MinOperands < 2)
        {
            errors.Add($"min_operands must be at least 2 (got {MinOperands})");
        }
        if (MaxOperands < MinOperands)
        {
            errors.Add($"max_operands ({MaxOperands}) must be >= min_operands ({MinOperands})");
        }
        if (MinOperand < 0 || MaxOperand < MinOperand || MaxOperand < 1)
        {
            errors.Add($"operand range [{MinOperand}, {MaxOperand}] must satisfy 0 <= min <= max and max >= 1");
        }
        if (MaxIntermediate < MaxOperand)
        {
            errors.Add($"max_intermediate ({MaxIntermediate}) must be >= max_operand ({MaxOperand})");
        }
        if (ParenthesesProbability is < 0 or > 1)
        {
            errors.Add($"parentheses_probability must be in [0, 1] (got {ParenthesesProbability})");
        }
        if (ParenthesesDepth is < 0 or > 3)
        {
            errors.Add($"parentheses_depth must be 0..3 (got {ParenthesesDepth})");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException($"{name}: " + string.Join("; ", errors) + ".");
        }
    }

    /// <summary>Out-of-distribution: more operands than training ever shows.</summary>
    public ArithmeticSettings MoreOperands() => this with { MinOperands = MaxOperands + 1, MaxOperands = MaxOperands + 2 };

    /// <summary>Out-of-distribution: two-digit operands.</summary>
    public ArithmeticSettings LargerOperands() => this with { MinOperand = MaxOperand + 1, MaxOperand = 99, MaxIntermediate = 9999, MinOperands = 2, MaxOperands = 3 };

    /// <summary>Out-of-distribution: nested parentheses, a pattern training never shows.</summary>
    public ArithmeticSettings NestedParentheses() => this with { MinOperands = Math.Max(3, MinOperands), ParenthesesProbability = 1, ParenthesesDepth = ParenthesesDepth + 1 };
}

public sealed record ArithmeticProblem(string Id, Expr Expression, string Split)
{
    public long Answer => Expression.Evaluate();
    public string Question => $"Compute {Expression}.";
}

/// <summary>Deterministic expression generator: the same settings and seed always give the same problems.</summary>
public static class ArithmeticProblems
{
    private static readonly char[] Ops = ['+', '-', '*'];

    public static IEnumerable<ArithmeticProblem> Generate(ArithmeticSettings settings, int seed, string split = "train")
    {
        settings.Validate();
        var random = new Random(seed);
        for (long n = 0; ; n++)
        {
            Expr e;
            do
            {
                e = Draw(settings, random);
            }
            while (!WithinBound(e, settings));
            yield return new ArithmeticProblem($"arith-{split}-{seed}-{n}", e, split);
        }
    }

    private static Expr Draw(ArithmeticSettings s, Random random)
    {
        int count = random.Next(s.MinOperands, s.MaxOperands + 1);
        var operands = Enumerable.Range(0, count).Select(_ => (Expr)new Num(random.Next(s.MinOperand, s.MaxOperand + 1))).ToList();
        var ops = Enumerable.Range(0, count - 1).Select(_ => Ops[random.Next(Ops.Length)]).ToList();
        int depth = random.NextDouble() < s.ParenthesesProbability ? s.ParenthesesDepth : 0;
        // Redraw the grouping until the printed question really shows that nesting (a group that precedence already
        // implies prints without parentheses).
        for (int attempt = 0; attempt < 50; attempt++)
        {
            Expr e = Build(operands, ops, depth, random);
            if (depth == 0 || Nesting(e.ToString()) == depth)
            {
                return e;
            }
        }
        return Build(operands, ops, 0, random);
    }

    /// <summary>Deepest parenthesis nesting of a printed expression.</summary>
    public static int Nesting(string text)
    {
        int depth = 0, max = 0;
        foreach (char c in text)
        {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            max = Math.Max(max, depth);
        }
        return max;
    }

    /// <summary>
    /// Builds a left-to-right expression over the operands, first grouping <paramref name="depth"/> nested runs of
    /// operands in explicit parentheses (each run a proper, contiguous part of the one around it).
    /// </summary>
    private static Expr Build(List<Expr> operands, List<char> ops, int depth, Random random)
    {
        if (depth > 0 && operands.Count >= 3)
        {
            int len = random.Next(2, operands.Count);                 // a proper sub-run of 2..n-1 operands
            int start = random.Next(0, operands.Count - len + 1);
            Expr inner = Build(operands.GetRange(start, len), ops.GetRange(start, len - 1), depth - 1, random);
            var outerOperands = operands.Take(start).Append(new Group(inner)).Concat(operands.Skip(start + len)).ToList();
            var outerOps = ops.Take(start).Concat(ops.Skip(start + len - 1)).ToList();
            return Flatten(outerOperands, outerOps);
        }
        return Flatten(operands, ops);
    }

    /// <summary>Precedence-correct tree of operands joined by operators; <see cref="Group"/> marks explicit parentheses.</summary>
    private static Expr Flatten(List<Expr> operands, List<char> ops)
    {
        string text = string.Concat(operands.Select((o, i) => (i > 0 ? ops[i - 1].ToString() : "") + (o is Group g ? $"({g.Inner})" : o.ToString())));
        return Expr.Parse(text);
    }

    private sealed record Group(Expr Inner) : Expr
    {
        public override long Evaluate() => Inner.Evaluate();
        public override int Operations => Inner.Operations;
    }

    private static bool WithinBound(Expr e, ArithmeticSettings s) =>
        Math.Abs(e.Evaluate()) <= s.MaxIntermediate && e.Trace().All(t => Math.Abs(t.Step.Evaluate()) <= s.MaxIntermediate);
}
