namespace ReMA.Grains.Policy;

/// <summary>Where each policy's model comes from: configuration section <c>ReMA:Policies</c>, keyed by policy id.</summary>
public sealed class PolicyCatalogOptions
{
    public const string Section = "ReMA";

    public Dictionary<string, PolicySource> Policies { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One policy's model: a Hugging Face style folder (<see cref="ModelPath"/>), or, when none is given, a named preset
/// with the character tokenizer and a seeded random initialisation (demos and tests).
/// </summary>
public sealed class PolicySource
{
    public string? ModelPath { get; set; }
    public string Preset { get; set; } = "nano";
    public string Device { get; set; } = "cpu";
    /// <summary>float32 or bfloat16; null keeps the checkpoint's dtype.</summary>
    public string? DType { get; set; }
    public int Seed { get; set; } = 1;
    public int MaxBatch { get; set; } = 64;
    public int? MaxSequenceLength { get; set; }
    /// <summary>Turn markup of a preset's character tokenizer (chatml or compact; see <see cref="ReMA.Learner.Tokenization.ChatMarkups"/>); a folder's tokenizer decides its own.</summary>
    public string ChatMarkup { get; set; } = "chatml";
    /// <summary>Multi-character tokens of a preset's character tokenizer, separated by spaces (see <see cref="ReMA.Learner.Tokenization.CharTokenizer"/>); null: none.</summary>
    public string? TokenizerWords { get; set; }
    /// <summary>
    /// The engine's C# decode kernels on the CPU (<c>EngineOptions.DecodeKernels</c>; on by default). They keep packed
    /// copies of the projections: false saves that memory for large models, at about half the decode speed.
    /// </summary>
    public bool DecodeKernels { get; set; } = true;
    /// <summary>
    /// libtorch intra-op threads of this policy's engine thread and learner updates; 0: automatic (engines of a model
    /// under a million parameters on the CPU take one, others the process's count; learners the process's count, less
    /// the engine's thread when rollouts overlap the updates of such a small model; see
    /// <see cref="ReMA.Learner.Runtime.ComputeThreads"/>).
    /// </summary>
    public int ComputeThreads { get; set; }

    /// <summary><see cref="ComputeThreads"/> as the engine and learner options take it (null: automatic).</summary>
    public int? Threads => ComputeThreads > 0 ? ComputeThreads : null;
}

/// <summary>
/// Grain keys of policy replicas: "policy" or "policy/replica". The replica name "local" stands for "the replica on the
/// caller's silo": agents resolve it to "policy/&lt;silo address&gt;", so every silo serves its own episodes.
/// </summary>
public static class PolicyKey
{
    public const string Local = "local";

    public static bool IsLocal(string grainKey) => grainKey.EndsWith("/" + Local, StringComparison.Ordinal);

    /// <summary>The key of the replica of <paramref name="grainKey"/>'s policy on <paramref name="silo"/>, when the key says "local".</summary>
    public static string Resolve(string grainKey, SiloAddress silo) =>
        IsLocal(grainKey) ? Replica(PolicyId(grainKey), "silo-" + silo.ToParsableString()) : grainKey;

    /// <summary>The silo a per-silo replica belongs to, or null for a named replica.</summary>
    public static SiloAddress? SiloOf(string grainKey)
    {
        int marker = grainKey.IndexOf("/silo-", StringComparison.Ordinal);
        return marker < 0 ? null : SiloAddress.FromParsableString(grainKey[(marker + "/silo-".Length)..]);
    }

    public static string PolicyId(string grainKey)
    {
        int slash = grainKey.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? grainKey : grainKey[..slash];
    }

    public static string Replica(string policyId, string replica) => $"{policyId}/{replica}";

    /// <summary>A replica that serves one published version and never takes updates (forks with a chosen checkpoint).</summary>
    public static string Pinned(string policyId, long version) => Replica(policyId, $"version-{version}");

    /// <summary>The version a pinned replica serves, or null for any other key.</summary>
    public static long? PinnedVersion(string grainKey)
    {
        int marker = grainKey.IndexOf("/version-", StringComparison.Ordinal);
        return marker >= 0 && long.TryParse(grainKey[(marker + "/version-".Length)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v)
            ? v : null;
    }
}
