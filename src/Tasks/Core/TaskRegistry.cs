namespace ReMA.Tasks.Core;

/// <summary>Tasks by name; campaign configs name a task and give its options.</summary>
public sealed class TaskRegistry
{
    private readonly Dictionary<string, Func<TaskOptions, ITask>> _factories = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _factories.Keys;

    public TaskRegistry Register(string name, Func<TaskOptions, ITask> factory)
    {
        if (!_factories.TryAdd(name, factory))
        {
            throw new ArgumentException($"task '{name}' is already registered.");
        }
        return this;
    }

    public ITask Create(string name, IReadOnlyDictionary<string, string>? options = null)
    {
        if (!_factories.TryGetValue(name, out var factory))
        {
            throw new ArgumentException($"task '{name}' is not known; registered tasks: {string.Join(", ", _factories.Keys.Order())}.");
        }
        var reader = new TaskOptions(name, options);
        ITask task = factory(reader);
        reader.ThrowIfInvalid();
        return task;
    }
}
