using Microsoft.Extensions.Logging;
using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace ReMA.Grains.Placement;

/// <summary>
/// What a silo is for, from configuration (<c>ReMA:Silo:Roles</c>, e.g. "rollout" or "learner,rollout"; default "all"),
/// advertised to the cluster as silo metadata. Episodes (and with them agents and policy replicas) go to rollout
/// silos; campaigns and learners to learner silos.
/// </summary>
public static class SiloRoles
{
    public const string MetadataKey = "rema.roles";
    public const string Rollout = "rollout";
    public const string Learner = "learner";
    public const string All = "all";
    public static readonly string[] Known = [Rollout, Learner, All];

    /// <summary>The normalised role list of a setting; throws naming the bad value.</summary>
    public static string Parse(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting))
        {
            return All;
        }
        string[] roles = setting.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(r => r.ToLowerInvariant()).Distinct().OrderBy(r => r, StringComparer.Ordinal).ToArray();
        string[] unknown = roles.Where(r => !Known.Contains(r)).ToArray();
        if (unknown.Length > 0 || roles.Length == 0)
        {
            throw new ArgumentException($"ReMA:Silo:Roles: '{setting}' names unknown roles ({string.Join(", ", unknown)}); use a comma list of {string.Join(", ", Known)}.");
        }
        return string.Join(",", roles);
    }

    /// <summary>Whether a silo advertising <paramref name="advertised"/> (null: no metadata, i.e. every role) takes <paramref name="role"/>.</summary>
    public static bool Takes(string? advertised, string role) =>
        advertised is null || advertised.Split(',').Any(r => r == All || r == role);
}

/// <summary>Places a grain class only on silos with the given role (see <see cref="SiloRoles"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloRoleAttribute(string role) : PlacementFilterAttribute(new SiloRoleFilterStrategy(role));

public sealed class SiloRoleFilterStrategy(string role) : PlacementFilterStrategy(0)
{
    private const string Property = "rema-role";

    public SiloRoleFilterStrategy() : this("")
    {
    }

    public string Role { get; private set; } = role;

    public override void AdditionalInitialize(GrainProperties properties) =>
        Role = GetPlacementFilterGrainProperty(Property, properties) ?? throw new ArgumentException($"placement filter: grain property '{Property}' is missing.");

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(IServiceProvider services, Type grainClass, GrainType grainType,
        IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new KeyValuePair<string, string>(Property, Role);
    }
}

/// <summary>
/// Keeps the candidate silos that take the role. When none does (a cluster configured without such a silo), every
/// candidate stays, with a warning: a campaign that runs somewhere beats one that cannot be placed at all.
/// </summary>
public sealed class SiloRoleFilterDirector(ISiloMetadataCache metadata, ILogger<SiloRoleFilterDirector> logger) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        string role = ((SiloRoleFilterStrategy)filterStrategy).Role;
        List<SiloAddress> candidates = silos.ToList();
        List<SiloAddress> kept = candidates.Where(s => SiloRoles.Takes(Advertised(s), role)).ToList();
        if (kept.Count > 0)
        {
            return kept;
        }
        logger.LogWarning("No active silo has role {Role} (ReMA:Silo:Roles) for {Grain}; placing it on any silo", role, target.GrainIdentity);
        return candidates;
    }

    private string? Advertised(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(SiloRoles.MetadataKey, out string? roles) ? roles : null;
}
