using System.Collections.Frozen;
using System.Globalization;

namespace ReMA.Tasks.Verification;

// The LaTeX commands the translator understands (fractions, roots, constants, operators, Greek variables, functions)
// and the reading of their arguments.
internal sealed partial class LatexExpressionTranslator
{
    private static readonly FrozenDictionary<string, string> Functions = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sin"] = "Sin({0})",
        ["cos"] = "Cos({0})",
        ["tan"] = "Tan({0})",
        ["cot"] = "(1.0/Tan({0}))",
        ["sec"] = "(1.0/Cos({0}))",
        ["csc"] = "(1.0/Sin({0}))",
        ["arcsin"] = "Asin({0})",
        ["arccos"] = "Acos({0})",
        ["arctan"] = "Atan({0})",
        ["ln"] = "Ln({0})",
        ["log"] = "Log10({0})",
        ["exp"] = "Exp({0})",
        ["sqrt"] = "Sqrt({0})",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private bool Command()
    {
        string name = LatexScanner.ReadCommandName(_s, _pos);
        _pos += name.Length + 1;
        switch (name)
        {
            case "frac":
                string? numerator = Translate(ReadArgument(allowSign: false));
                string? denominator = Translate(ReadArgument(allowSign: false));
                return Operand(numerator is null || denominator is null ? null : $"(({numerator})/({denominator}))");
            case "sqrt":
                return Root();
            case "pi":
                return Constant(Pi);
            case "cdot" or "times" or "ast":
                return Operator('*');
            case "div":
                return Operator('/');
            case "left" or "right":
                return true;
            default:
                if (Functions.ContainsKey(name))
                {
                    return Function(name);
                }

                return GreekLetters.Names.Contains(name) && Operand(Variable("g_" + name + ReadSubscript()));
        }
    }

    private bool Root()
    {
        string index = "";
        if (_pos < _s.Length && _s[_pos] == '[')
        {
            int close = _s.IndexOf(']', _pos);
            if (close < 0)
            {
                return false;
            }

            index = _s[(_pos + 1)..close];
            _pos = close + 1;
        }

        _findings.Approximate = true;
        string? radicand = Translate(ReadArgument(allowSign: false));
        if (radicand is null || index.Length == 0)
        {
            return Operand(radicand is null ? null : $"Sqrt({radicand})");
        }

        string? degree = Translate(index);
        bool odd = int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n % 2 == 1;
        return Operand(degree is null ? null
            : odd ? $"(Sign({radicand})*Pow(Abs({radicand}),1.0/({degree})))"
            : $"Pow({radicand},1.0/({degree}))");
    }

    private bool Function(string name)
    {
        _findings.Approximate = true;
        string? power = null;
        string? logBase = null;
        while (_pos < _s.Length && _s[_pos] is '^' or '_')
        {
            bool isPower = _s[_pos] == '^';
            _pos++;
            string? value = Translate(ReadArgument(allowSign: true));
            power = isPower ? value : power;
            logBase = isPower ? logBase : value;
        }

        string? argument = Translate(ReadFunctionArgument());
        if (argument is null)
        {
            return false;
        }

        string call = logBase is not null && name == "log"
            ? $"Log({argument},{logBase})"
            : string.Format(CultureInfo.InvariantCulture, Functions[name], argument);
        return Operand(power is null ? call : $"({call})**({power})");
    }

    private string ReadFunctionArgument()
    {
        SkipSpaces();
        if (_pos < _s.Length && _s[_pos] is '(' or '{')
        {
            int close = LatexScanner.FindClosingBracket(_s, _pos);
            string inner = close < 0 ? "" : _s[(_pos + 1)..close];
            _pos = close < 0 ? _s.Length : close + 1;
            return inner;
        }

        int start = _pos;
        while (_pos < _s.Length && (char.IsAsciiDigit(_s[_pos]) || _s[_pos] == '.'))
        {
            _pos++;
        }

        string digits = _s[start.._pos];
        bool atomFollows = _pos < _s.Length && (char.IsAsciiLetter(_s[_pos]) || _s[_pos] == '\\');
        return atomFollows ? digits + ReadArgument(allowSign: false) : digits;
    }

    private string ReadSubscript()
    {
        if (_pos >= _s.Length || _s[_pos] != '_')
        {
            return "";
        }

        _pos++;
        string subscript = ReadArgument(allowSign: false);
        return subscript.Length > 0 && subscript.All(char.IsAsciiLetterOrDigit) ? "_" + subscript : "_invalid_";
    }

    private string ReadArgument(bool allowSign)
    {
        SkipSpaces();
        if (_pos >= _s.Length)
        {
            return "";
        }

        char c = _s[_pos];
        if (c == '{')
        {
            int close = LatexScanner.FindClosingBrace(_s, _pos);
            string inner = close < 0 ? "" : _s[(_pos + 1)..close];
            _pos = close < 0 ? _s.Length : close + 1;
            return inner;
        }

        if (allowSign && c is '-' or '+')
        {
            _pos++;
            return c + ReadArgument(allowSign: false);
        }

        if (c == '\\')
        {
            string name = LatexScanner.ReadCommandName(_s, _pos);
            _pos += name.Length + 1;
            return "\\" + name;
        }

        if (!char.IsAsciiLetterOrDigit(c))
        {
            return "";
        }

        _pos++;
        return c.ToString();
    }

    private void SkipSpaces()
    {
        while (_pos < _s.Length && _s[_pos] == ' ')
        {
            _pos++;
        }
    }
}
