namespace ReMA.Silo;

/// <summary>
/// Every setting the silo and the rema client read, as configuration keys ("*" stands for one key segment, such as a
/// policy id). Environment variables name them with "__" for ":" (ReMA__Cluster__SiloPort). The README's settings
/// table documents each; docker-compose.yml may set only these (a test checks both).
/// </summary>
public static class SettingsCatalog
{
    public static readonly IReadOnlyList<string> Keys =
    [
        "ReMA:Policies:*:Preset", "ReMA:Policies:*:ModelPath", "ReMA:Policies:*:Device", "ReMA:Policies:*:DType",
        "ReMA:Policies:*:Seed", "ReMA:Policies:*:MaxBatch", "ReMA:Policies:*:MaxSequenceLength", "ReMA:Policies:*:DecodeKernels", "ReMA:Policies:*:ChatMarkup", "ReMA:Policies:*:TokenizerWords", "ReMA:Policies:*:ComputeThreads",
        "ReMA:Storage:Folder", "ReMA:Runs:Folder", "ReMA:Checkpoints:Cache", "ReMA:Torch:Threads", "ReMA:Health:Port", "ReMA:Health:Host", "ReMA:Logging:Folder",
        "ReMA:Web:Port", "ReMA:Web:Host", "ReMA:Web:ApiKey",
        "ReMA:Azure:ConnectionString", "ReMA:Azure:TableServiceUri", "ReMA:Azure:BlobServiceUri",
        "ReMA:Cluster:ClusterId", "ReMA:Cluster:ServiceId", "ReMA:Cluster:SiloPort", "ReMA:Cluster:GatewayPort",
        "ReMA:Cluster:AdvertisedAddress", "ReMA:Cluster:AdvertisedHost", "ReMA:Cluster:ListenOnAnyAddress",
        "ReMA:Cluster:ProbeTimeoutSeconds", "ReMA:Cluster:MissedProbes",
        "ReMA:Silo:Roles", "ReMA:Tls:CertificatePath", "ReMA:Tls:CertificatePassword",
        "REMA_GATEWAY",
    ];

    /// <summary>Whether an environment variable (or configuration key) names a known setting; case-insensitive, like configuration.</summary>
    public static bool IsKnown(string variable)
    {
        string[] parts = variable.Replace("__", ":", StringComparison.Ordinal).Split(':');
        return Keys.Any(k =>
        {
            string[] pattern = k.Split(':');
            return pattern.Length == parts.Length
                && pattern.Zip(parts).All(p => p.First == "*" ? p.Second.Length > 0 : string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase));
        });
    }
}
