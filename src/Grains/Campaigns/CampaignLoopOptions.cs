namespace ReMA.Grains.Campaigns;

/// <summary>Settings of the campaign loop (section <c>ReMA:Campaigns</c>).</summary>
public sealed class CampaignLoopOptions
{
    public const string Section = "ReMA:Campaigns";

    /// <summary>
    /// How long storage may answer that the campaign's data is gone (a missing container or table) before the campaign
    /// is marked failed with that reason. Transient trouble (storage unreachable, throttled, a silo gone) is retried
    /// without a limit; data loss is not transient.
    /// </summary>
    public int StorageLossSeconds { get; set; } = 60;
}
