using System.Globalization;

namespace ReMA.Tasks.Core;

/// <summary>
/// Options of a task as campaign configs give them (name to string value), with typed readers whose errors name the
/// task and the option. Unknown options are reported too, so a misspelt option is never silently ignored.
/// </summary>
public sealed class TaskOptions(string task, IReadOnlyDictionary<string, string>? values)
{
    private readonly IReadOnlyDictionary<string, string> _values = values ?? new Dictionary<string, string>();
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly List<string> _errors = [];

    public string Task => task;

    public string? String(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out string? v) ? v : null;
    }

    public string String(string name, string fallback) => String(name) ?? fallback;

    public int Int(string name, int fallback)
    {
        string? v = String(name);
        if (v is null)
        {
            return fallback;
        }
        if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int result))
        {
            return result;
        }
        _errors.Add($"option '{name}' must be an integer (got '{v}')");
        return fallback;
    }

    public double Double(string name, double fallback)
    {
        string? v = String(name);
        if (v is null)
        {
            return fallback;
        }
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double result))
        {
            return result;
        }
        _errors.Add($"option '{name}' must be a number (got '{v}')");
        return fallback;
    }

    public bool Bool(string name, bool fallback)
    {
        string? v = String(name);
        if (v is null)
        {
            return fallback;
        }
        if (bool.TryParse(v, out bool result))
        {
            return result;
        }
        _errors.Add($"option '{name}' must be true or false (got '{v}')");
        return fallback;
    }

    /// <summary>One of <paramref name="allowed"/> (the fallback when absent); anything else is an error naming the choices.</summary>
    public string Choice(string name, string fallback, IReadOnlyList<string> allowed)
    {
        string? v = String(name);
        if (v is null)
        {
            return fallback;
        }
        if (allowed.Contains(v, StringComparer.Ordinal))
        {
            return v;
        }
        _errors.Add($"option '{name}' must be {string.Join(" or ", allowed)} (got '{v}')");
        return fallback;
    }

    public void AddError(string message) => _errors.Add(message);

    /// <summary>Throws one error listing every bad or unknown option.</summary>
    public void ThrowIfInvalid()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).Order().ToList();
        var all = _errors.Concat(unknown.Select(k => $"option '{k}' is not known")).ToList();
        if (all.Count > 0)
        {
            throw new ArgumentException($"task '{task}': " + string.Join("; ", all) + ".");
        }
    }
}
