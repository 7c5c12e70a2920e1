namespace ReMA.Learner.Training;

public enum UpdateSchedule
{
    /// <summary>Every role's policy is updated at every step, each with its own rows.</summary>
    Simultaneous,
    /// <summary>One role's policy learns while the other is frozen; they switch every K steps (ReMA paper).</summary>
    Alternating,
}

/// <summary>
/// Which policy learns from which role's rows. Shared parameters: one policy for all roles, updated with all rows
/// together. Separate parameters: one policy per role, updated simultaneously or alternating.
/// </summary>
public sealed class RolePolicies
{
    private readonly IReadOnlyDictionary<string, PolicyUpdater> _byRole;
    private readonly UpdateSchedule _schedule;
    private readonly int _switchEvery;
    private readonly string[] _order;

    private RolePolicies(IReadOnlyDictionary<string, PolicyUpdater> byRole, UpdateSchedule schedule, int switchEvery, string[] order)
    {
        _byRole = byRole;
        _schedule = schedule;
        _switchEvery = switchEvery;
        _order = order;
    }

    public bool SharedParameters => _byRole.Values.Distinct().Count() == 1;

    public static RolePolicies Shared(PolicyUpdater updater, params string[] roles) =>
        new(roles.ToDictionary(r => r, _ => updater), UpdateSchedule.Simultaneous, 1, roles);

    /// <param name="order">Roles in the order they take turns when alternating (the paper starts with the meta agent).</param>
    public static RolePolicies Separate(IReadOnlyDictionary<string, PolicyUpdater> byRole, UpdateSchedule schedule, int switchEvery = 10, params string[] order)
    {
        if (byRole.Values.Distinct().Count() != byRole.Count)
        {
            throw new ArgumentException("separate parameters need a different policy for each role.");
        }
        if (schedule == UpdateSchedule.Alternating && switchEvery <= 0)
        {
            throw new ArgumentException($"alternating schedule: switch_every must be positive (got {switchEvery}).");
        }
        string[] roles = order.Length > 0 ? order : [.. byRole.Keys];
        if (roles.Any(r => !byRole.ContainsKey(r)) || roles.Length != byRole.Count)
        {
            throw new ArgumentException($"alternating order [{string.Join(", ", roles)}] must list each role once: {string.Join(", ", byRole.Keys)}.");
        }
        return new RolePolicies(byRole, schedule, switchEvery, roles);
    }

    public PolicyUpdater For(string role) => _byRole.TryGetValue(role, out PolicyUpdater? u) ? u
        : throw new ArgumentException($"role '{role}' has no policy (roles: {string.Join(", ", _byRole.Keys)}).");

    /// <summary>Roles whose policy learns at <paramref name="step"/> (0-based).</summary>
    public IReadOnlyList<string> LearningRoles(long step) =>
        SharedParameters || _schedule == UpdateSchedule.Simultaneous ? _order : [_order[(int)(step / _switchEvery % _order.Length)]];

    /// <summary>Updates the learning policies with their roles' rows; rows of frozen roles are not used. Keyed by role.</summary>
    public IReadOnlyDictionary<string, UpdateMetrics> Update(long step, IReadOnlyList<AdvantagedRow> rows)
    {
        var learning = LearningRoles(step);
        var result = new Dictionary<string, UpdateMetrics>();
        if (SharedParameters)
        {
            UpdateMetrics metrics = _byRole.Values.First().Update(rows.Where(r => learning.Contains(r.Row.Role)).ToList());
            foreach (string role in learning)
            {
                result[role] = metrics;
            }
            return result;
        }
        foreach (string role in learning)
        {
            result[role] = _byRole[role].Update(rows.Where(r => r.Row.Role == role).ToList());
        }
        return result;
    }
}
