namespace ReMA.Tasks.Arithmetic;

/// <summary>Settings of the synthetic arithmetic task (defaults: the sizes a 0.4M-parameter model learns on CPU).</summary>
public sealed record ArithmeticSettings
{
    public int MinOperands { get; init; } = 2;
    public int MaxOperands { get; init; } = 4;
    public int MaxOperand { get; init; } = 9;
    /// <summary>Every intermediate result, in the order precedence applies operations, stays within +-this bound.</summary>
    public int MaxIntermediate { get; init; } = 99;

    public void Validate()
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
        if (MaxOperand < 1)
        {
            errors.Add($"max_operand must be at least 1 (got {MaxOperand})");
        }
        if (MaxIntermediate < MaxOperand)
        {
            errors.Add($"max_intermediate ({MaxIntermediate}) must be >= max_operand ({MaxOperand})");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException("arithmetic task: " + string.Join("; ", errors) + ".");
        }
    }
}

public sealed record ArithmeticProblem(string Id, ArithmeticExpression Expression, long Answer)
{
    public string Question => $"Compute {Expression}.";
}

/// <summary>Deterministic stream of problems for a seed (the same seed always gives the same problems).</summary>
public static class ArithmeticProblems
{
    public static IEnumerable<ArithmeticProblem> Generate(ArithmeticSettings settings, int seed)
    {
        settings.Validate();
        var random = new Random(seed);
        char[] ops = ['+', '-', '*'];
        for (long n = 0; ; n++)
        {
            ArithmeticExpression expression;
            do
            {
                int count = random.Next(settings.MinOperands, settings.MaxOperands + 1);
                var operands = Enumerable.Range(0, count).Select(_ => (long)random.Next(1, settings.MaxOperand + 1)).ToList();
                var operators = Enumerable.Range(0, count - 1).Select(_ => ops[random.Next(ops.Length)]).ToList();
                expression = new ArithmeticExpression(operands, operators);
            }
            while (!WithinBound(expression, settings.MaxIntermediate));
            yield return new ArithmeticProblem($"arith-{seed}-{n}", expression, expression.Evaluate());
        }
    }

    private static bool WithinBound(ArithmeticExpression expression, int bound)
    {
        ArithmeticExpression e = expression;
        while (e.Operators.Count > 0)
        {
            e = e.Step(e.NextOperation());
            if (e.Operands.Any(v => Math.Abs(v) > bound))
            {
                return false;
            }
        }
        return true;
    }
}
