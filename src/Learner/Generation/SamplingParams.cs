namespace ReMA.Learner.Generation;

/// <summary>How one request is sampled. Temperature 0 means greedy.</summary>
public sealed record SamplingParams
{
    public float Temperature { get; init; } = 1.0f;
    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probability reaches TopP (1 = off).</summary>
    public float TopP { get; init; } = 1.0f;
    /// <summary>Keep only the K most likely tokens (0 = off).</summary>
    public int TopK { get; init; }
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>Per-request seed: the same seed gives the same tokens whatever else shares the batch. Null: random.</summary>
    public ulong? Seed { get; init; }
    /// <summary>Literal strings that end the generation (for example "[FINISH]").</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Keep the matched stop string at the end of the text (true) or strip it (false).</summary>
    public bool IncludeStopString { get; init; } = true;
    /// <summary>Keep generating through end-of-text and end-of-turn tokens (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    public bool Greedy => Temperature <= 0f;
    /// <summary>Sampled from a top-k/top-p truncated distribution (by the samplers' host routine, with its own draw).</summary>
    public bool Truncated => !Greedy && (TopK > 0 || TopP < 1f);
    /// <summary>Sampled from the whole distribution with one uniform draw per token (inverse CDF).</summary>
    public bool PlainSampled => !Greedy && !Truncated;

    public void Validate()
    {
        var errors = new List<string>();
        if (float.IsNaN(Temperature) || Temperature < 0)
        {
            errors.Add($"temperature must be >= 0 (got {Temperature})");
        }
        if (!(TopP > 0 && TopP <= 1))
        {
            errors.Add($"top_p must be in (0, 1] (got {TopP})");
        }
        if (TopK < 0)
        {
            errors.Add($"top_k must be >= 0 (got {TopK})");
        }
        if (MaxNewTokens <= 0)
        {
            errors.Add($"max_new_tokens must be positive (got {MaxNewTokens})");
        }
        if (StopStrings.Any(string.IsNullOrEmpty))
        {
            errors.Add("stop strings must be non-empty");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException("sampling: " + string.Join("; ", errors) + ".");
        }
    }
}

public enum FinishReason
{
    /// <summary>A stop string was generated.</summary>
    Stop,
    /// <summary>max_new_tokens or the engine's context length was reached.</summary>
    Length,
    /// <summary>An end-of-text or end-of-turn token was sampled (it is the last token id).</summary>
    Eos,
}

public sealed record GenerationRequest(IReadOnlyList<int> PromptIds, SamplingParams Sampling, string? Id = null);

/// <summary>
/// One finished generation. <see cref="TokenIds"/> are exactly the sampled ids (including a final end-of-turn token);
/// <see cref="LogProbs"/>[i] is log p(TokenIds[i]) under softmax(logits / T) (T = 1 for greedy), the distribution the
/// learner's scorer computes. <see cref="Text"/> excludes special tokens and is cut at a stop string.
/// </summary>
public sealed record GenerationResult(
    string? Id,
    int[] TokenIds,
    float[] LogProbs,
    string Text,
    FinishReason FinishReason,
    string? StopString,
    int PromptTokens)
{
    public int GeneratedTokens => TokenIds.Length;

    /// <summary>Weights version that sampled the first token.</summary>
    public long PolicyVersion { get; init; }

    /// <summary>Weights version that sampled the last token (differs from <see cref="PolicyVersion"/> when new weights arrived mid-sequence).</summary>
    public long LastPolicyVersion { get; init; }
}
