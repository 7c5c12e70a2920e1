using System.Text;
using System.Text.RegularExpressions;

namespace ReMA.Tasks.Verification;

/// <summary>
/// Rewrites a normalised LaTeX scalar expression as NCalc source: <c>\frac{a}{b}</c> to <c>((a)/(b))</c>,
/// <c>\sqrt{x}</c> to <c>Sqrt(x)</c>, <c>\sqrt[n]{x}</c> to a real n-th root, <c>^</c> to <c>**</c>, <c>\pi</c> to its value,
/// <c>\cdot</c>/<c>\times</c> to <c>*</c>, and implicit products (<c>2x</c>, <c>x(x+1)</c>, <c>)(</c>) made explicit.
/// A whole number directly followed by a numeric fraction is a mixed number (<c>2\frac{1}{2}</c> is 2.5).
/// Numbers become double literals so NCalc never does integer arithmetic. Anything it does not understand (text,
/// commas, relations, <c>\infty</c>) makes the translation fail.
/// </summary>
internal sealed partial class LatexExpressionTranslator
{
    private const int MaxDepth = 40;
    private const string Pi = "(3.141592653589793)";

    private readonly string _s;
    private readonly Findings _findings;
    private readonly int _depth;
    private readonly StringBuilder _out = new();
    private int _pos;
    private bool _afterOperand;

    private LatexExpressionTranslator(string s, Findings findings, int depth)
    {
        _s = s;
        _findings = findings;
        _depth = depth;
    }

    /// <summary>Translates <paramref name="latex"/>; null when it is not a scalar expression this translator understands.</summary>
    public static TranslatedExpression? TryTranslate(string latex)
    {
        if (latex.Length == 0 || LatexScanner.MaxDepth(latex) > MaxDepth)
        {
            return null;
        }

        var findings = new Findings();
        string? text = Translate(latex, findings, 0);
        return string.IsNullOrEmpty(text) ? null : new TranslatedExpression(text, findings.Variables, !findings.Approximate);
    }

    private static string? Translate(string s, Findings findings, int depth) =>
        depth > MaxDepth || s.Length == 0 ? null : new LatexExpressionTranslator(s, findings, depth).Run();

    private string? Translate(string s) => Translate(s, _findings, _depth + 1);

    private string? Run()
    {
        while (_pos < _s.Length)
        {
            if (!Step())
            {
                return null;
            }
        }

        return _out.ToString();
    }

    private bool Step()
    {
        char c = _s[_pos];
        switch (c)
        {
            case ' ':
                _pos++;
                return true;
            case '+' or '-' or '*' or '/':
                _pos++;
                return Operator(c);
            case '{':
                return Group(LatexScanner.FindClosingBrace(_s, _pos));
            case '(' or '[':
                return Group(LatexScanner.FindClosingBracket(_s, _pos));
            case '|':
                return AbsoluteValue();
            case '^':
                return Power();
            case '\\':
                return Command();
            default:
                return char.IsAsciiDigit(c) || c == '.' ? Number() : char.IsAsciiLetter(c) && Letters();
        }
    }

    private bool Operator(char op)
    {
        _out.Append(op);
        _afterOperand = false;
        return true;
    }

    private bool Operand(string? text)
    {
        if (text is null)
        {
            return false;
        }

        if (_afterOperand)
        {
            _out.Append('*');
        }

        _out.Append(text);
        _afterOperand = true;
        return true;
    }

    private bool Group(int close)
    {
        if (close < 0)
        {
            return false;
        }

        string inner = _s[(_pos + 1)..close];
        _pos = close + 1;
        return LatexScanner.SplitTopLevel(inner, ",").Count == 1 && Operand(Wrap(Translate(inner)));
    }

    private bool AbsoluteValue()
    {
        int close = _s.IndexOf('|', _pos + 1);
        if (close < 0)
        {
            return false;
        }

        string? inner = Translate(_s[(_pos + 1)..close]);
        _pos = close + 1;
        return Operand(inner is null ? null : $"Abs({inner})");
    }

    private bool Power()
    {
        _pos++;
        string? exponent = Translate(ReadArgument(allowSign: true));
        if (!_afterOperand || exponent is null)
        {
            return false;
        }

        _findings.Approximate |= !IntegerLiteral().IsMatch(exponent);
        _out.Append("**(").Append(exponent).Append(')');
        return true;
    }

    private bool Number()
    {
        int start = _pos;
        while (_pos < _s.Length && (char.IsAsciiDigit(_s[_pos]) || _s[_pos] == '.'))
        {
            _pos++;
        }

        string digits = _s[start.._pos];
        if (digits.Count(ch => ch == '.') > 1 || digits == ".")
        {
            return false;
        }

        Match mixed = MixedFraction().Match(_s, _pos);
        if (mixed.Success && !digits.Contains('.', StringComparison.Ordinal))
        {
            _pos += mixed.Length;
            return Operand($"({digits}.0+({mixed.Groups["num"].Value}.0/{mixed.Groups["den"].Value}.0))");
        }

        string exponent = ReadScientificExponent();
        _findings.Approximate |= exponent.Length > 0 || digits.Contains('.', StringComparison.Ordinal);
        string literal = !digits.Contains('.', StringComparison.Ordinal) ? digits + ".0"
            : digits.StartsWith('.') ? "0" + digits
            : digits.EndsWith('.') ? digits + "0"
            : digits;
        return Operand(literal + exponent);
    }

    private string ReadScientificExponent()
    {
        int i = _pos;
        if (i + 1 < _s.Length && _s[i] is 'e' or 'E')
        {
            int digitsStart = _s[i + 1] is '-' or '+' ? i + 2 : i + 1;
            int end = digitsStart;
            while (end < _s.Length && char.IsAsciiDigit(_s[end]))
            {
                end++;
            }

            if (end > digitsStart && (end >= _s.Length || !char.IsAsciiLetter(_s[end])))
            {
                _pos = end;
                return "e" + _s[(i + 1)..end];
            }
        }

        return "";
    }

    private bool Letters()
    {
        int start = _pos;
        while (_pos < _s.Length && char.IsAsciiLetter(_s[_pos]))
        {
            _pos++;
        }

        string run = _s[start.._pos];
        if (Functions.ContainsKey(run))
        {
            return Function(run);
        }

        if (run == "pi")
        {
            return Constant(Pi);
        }

        if (run.Length > 2)
        {
            return false;
        }

        for (int k = 0; k < run.Length - 1; k++)
        {
            Operand(Variable("v_" + run[k]));
        }

        return Operand(Variable("v_" + run[^1] + ReadSubscript()));
    }

    private string Variable(string name)
    {
        _findings.Variables.Add(name);
        return name;
    }


    private bool Constant(string value)
    {
        _findings.Approximate = true;
        return Operand(value);
    }

    private static string? Wrap(string? inner) => inner is null ? null : "(" + inner + ")";

    [GeneratedRegex(@"^-?\d+\.0$", RegexOptions.None, 200)]
    private static partial Regex IntegerLiteral();

    [GeneratedRegex(@"\G\\frac\{(?<num>\d+)\}\{(?<den>\d+)\}", RegexOptions.None, 200)]
    private static partial Regex MixedFraction();

    /// <summary>What a translation discovered: its free variables, and whether it used any inexact operation.</summary>
    private sealed class Findings
    {
        public HashSet<string> Variables { get; } = new(StringComparer.Ordinal);

        public bool Approximate { get; set; }
    }
}
