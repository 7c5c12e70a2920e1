namespace ReMA.Grains.Services;

/// <summary>Grain storage names the grains use besides the default one (silos register both).</summary>
public static class ReMAStorage
{
    /// <summary>Campaign state (configuration, step history, evaluations): it grows with the run, so Blob in Azure.</summary>
    public const string Campaigns = "campaigns";
}
