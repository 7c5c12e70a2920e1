using System.Collections.Concurrent;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Services;

/// <summary>
/// Tasks built once per silo for each (name, options): loading a dataset or generating splits is done once, not per
/// episode. Tasks are read-only after construction, so one instance serves every grain.
/// </summary>
public sealed class TaskCache
{
    private readonly TaskRegistry _registry = TaskCatalog.Default();
    private readonly ConcurrentDictionary<string, Lazy<ITask>> _tasks = new(StringComparer.Ordinal);

    public ITask Get(string name, IReadOnlyDictionary<string, string> options)
    {
        string key = name + "?" + string.Join("&", options.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        return _tasks.GetOrAdd(key, _ => new Lazy<ITask>(() => _registry.Create(name, options))).Value;
    }
}
