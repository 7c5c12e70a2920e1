using System.Globalization;
using System.Text;

namespace ReMA.Tasks.Arithmetic;

/// <summary>
/// Integer arithmetic over + - * with the usual precedence, evaluated exactly. The synthetic task's questions are such
/// expressions; the environment can apply one operation at a time (<see cref="Step"/>), which is how the arithmetic
/// demo splits work between the meta agent and the reasoner.
/// </summary>
public sealed record ArithmeticExpression(IReadOnlyList<long> Operands, IReadOnlyList<char> Operators)
{
    public static ArithmeticExpression Parse(string text)
    {
        var operands = new List<long>();
        var operators = new List<char>();
        int i = 0;
        string s = text.Replace(" ", "", StringComparison.Ordinal);
        while (true)
        {
            int start = i;
            if (i < s.Length && s[i] == '-' && operands.Count == operators.Count)
            {
                i++;
            }
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            if (!long.TryParse(s.AsSpan(start, i - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            {
                throw new FormatException($"expression '{text}': expected a number at position {start}.");
            }
            operands.Add(value);
            if (i == s.Length)
            {
                break;
            }
            if (s[i] is not ('+' or '-' or '*'))
            {
                throw new FormatException($"expression '{text}': '{s[i]}' at position {i} is not one of + - *.");
            }
            operators.Add(s[i]);
            i++;
        }
        return new ArithmeticExpression(operands, operators);
    }

    public long Evaluate()
    {
        ArithmeticExpression e = this;
        while (e.Operators.Count > 0)
        {
            e = e.Step(e.NextOperation());
        }
        return e.Operands[0];
    }

    /// <summary>Index of the operation precedence says to do first: the first *, else the first + or -.</summary>
    public int NextOperation()
    {
        for (int i = 0; i < Operators.Count; i++)
        {
            if (Operators[i] == '*')
            {
                return i;
            }
        }
        return Operators.Count > 0 ? 0 : throw new InvalidOperationException("expression has no operation left.");
    }

    /// <summary>Applies operation <paramref name="index"/> and substitutes its result.</summary>
    public ArithmeticExpression Step(int index)
    {
        long a = Operands[index], b = Operands[index + 1];
        long result = Operators[index] switch
        {
            '+' => a + b,
            '-' => a - b,
            '*' => a * b,
            char c => throw new InvalidOperationException($"unknown operator '{c}'."),
        };
        var operands = Operands.Take(index).Append(result).Concat(Operands.Skip(index + 2)).ToList();
        var operators = Operators.Take(index).Concat(Operators.Skip(index + 1)).ToList();
        return new ArithmeticExpression(operands, operators);
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < Operands.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(Operators[i - 1]);
            }
            sb.Append(Operands[i].ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
