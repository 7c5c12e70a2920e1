using System.Globalization;

namespace ReMA.Tasks.Arithmetic;

/// <summary>
/// An integer arithmetic expression over + - * with parentheses, as a tree. Printing adds only the parentheses that
/// precedence needs; evaluation is exact. <see cref="NextStep"/> and <see cref="Substitute"/> let an environment apply
/// one operation at a time, which is how the arithmetic task splits work between the meta agent and the reasoner.
/// </summary>
public abstract record Expr
{
    public abstract long Evaluate();

    /// <summary>Number of operations left.</summary>
    public abstract int Operations { get; }

    public bool IsNumber => this is Num;

    /// <summary>
    /// The next operation in evaluation order: the leftmost operation whose two operands are numbers, or with
    /// <paramref name="multiplicationFirst"/> the leftmost such multiplication if there is one (the order of a flat
    /// left-to-right reduction that does every product before any sum).
    /// </summary>
    public Bin? NextStep(bool multiplicationFirst = false) =>
        multiplicationFirst && Reducible().FirstOrDefault(b => b.Op == '*') is Bin product ? product : Reducible().FirstOrDefault();

    /// <summary>The operations whose two operands are numbers, left to right.</summary>
    public IEnumerable<Bin> Reducible() => this switch
    {
        Bin { Left: Num, Right: Num } b => [b],
        Bin b => b.Left.Reducible().Concat(b.Right.Reducible()),
        _ => [],
    };

    /// <summary>This expression with the node <paramref name="target"/> (by reference) replaced by its value.</summary>
    public Expr Substitute(Bin target) => this switch
    {
        _ when ReferenceEquals(this, target) => new Num(target.Evaluate()),
        Bin b => b with { Left = b.Left.Substitute(target), Right = b.Right.Substitute(target) },
        _ => this,
    };

    /// <summary>All intermediate expressions from this one down to its value, one operation at a time.</summary>
    public IReadOnlyList<(Bin Step, Expr After)> Trace(bool multiplicationFirst = false)
    {
        var steps = new List<(Bin, Expr)>();
        Expr current = this;
        while (current.NextStep(multiplicationFirst) is Bin step)
        {
            current = current.Substitute(step);
            steps.Add((step, current));
        }
        return steps;
    }

    public static int Precedence(char op) => op == '*' ? 2 : 1;

    public static Expr Parse(string text) => new ExprParser(text).ParseAll();
}

public sealed record Num(long Value) : Expr
{
    public override long Evaluate() => Value;
    public override int Operations => 0;
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

public sealed record Bin(char Op, Expr Left, Expr Right) : Expr
{
    public override long Evaluate() => Op switch
    {
        '+' => Left.Evaluate() + Right.Evaluate(),
        '-' => Left.Evaluate() - Right.Evaluate(),
        '*' => Left.Evaluate() * Right.Evaluate(),
        _ => throw new InvalidOperationException($"unknown operator '{Op}'."),
    };

    public override int Operations => 1 + Left.Operations + Right.Operations;

    public override string ToString()
    {
        int p = Precedence(Op);
        // Parentheses exactly where the left-associative parse needs them, so Parse(ToString()) gives this tree back.
        string left = Left is Bin l && Precedence(l.Op) < p ? $"({l})" : Left.ToString();
        bool rightParens = Right is Bin r && Precedence(r.Op) <= p;
        string right = rightParens ? $"({Right})" : Right.ToString();
        return $"{left}{Op}{right}";
    }
}

/// <summary>Recursive-descent parser: expr := term (('+'|'-') term)*; term := factor ('*' factor)*; factor := int | '(' expr ')' | '-' factor.</summary>
internal sealed class ExprParser(string text)
{
    private readonly string _s = text.Replace(" ", "", StringComparison.Ordinal);
    private int _i;

    public Expr ParseAll()
    {
        Expr e = ParseSum();
        if (_i != _s.Length)
        {
            throw new FormatException($"expression '{text}': unexpected '{_s[_i]}' at position {_i}.");
        }
        return e;
    }

    private Expr ParseSum()
    {
        Expr left = ParseProduct();
        while (_i < _s.Length && _s[_i] is '+' or '-')
        {
            char op = _s[_i++];
            left = new Bin(op, left, ParseProduct());
        }
        return left;
    }

    private Expr ParseProduct()
    {
        Expr left = ParseFactor();
        while (_i < _s.Length && _s[_i] == '*')
        {
            _i++;
            left = new Bin('*', left, ParseFactor());
        }
        return left;
    }

    private Expr ParseFactor()
    {
        if (_i < _s.Length && _s[_i] == '(')
        {
            _i++;
            Expr inner = ParseSum();
            if (_i >= _s.Length || _s[_i] != ')')
            {
                throw new FormatException($"expression '{text}': expected ')' at position {_i}.");
            }
            _i++;
            return inner;
        }
        int start = _i;
        if (_i < _s.Length && _s[_i] == '-')
        {
            _i++;
        }
        while (_i < _s.Length && char.IsAsciiDigit(_s[_i]))
        {
            _i++;
        }
        if (!long.TryParse(_s.AsSpan(start, _i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            throw new FormatException($"expression '{text}': expected a number at position {start}.");
        }
        return new Num(value);
    }
}
