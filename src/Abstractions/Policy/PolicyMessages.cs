namespace ReMA.Abstractions.Policy;

/// <summary>Sampling settings of one generation request (temperature 0 = greedy).</summary>
[GenerateSerializer, Immutable, Alias("rema.SamplingSpec")]
public sealed record SamplingSpec(
    float Temperature = 1.0f,
    float TopP = 1.0f,
    int TopK = 0,
    int MaxNewTokens = 128,
    ulong? Seed = null,
    string[]? StopStrings = null,
    bool IncludeStopString = true,
    bool IgnoreEos = false);

/// <summary>A prompt given as token ids (never as text: the learner trains on the exact ids that were sampled).</summary>
[GenerateSerializer, Immutable, Alias("rema.GenerateRequest")]
public sealed record GenerateRequest(string RequestId, int[] PromptIds, SamplingSpec Sampling);

/// <summary>
/// The sampled continuation: ids exactly as sampled (a final end-of-turn id included), the log-prob of each under the
/// sampling distribution, the text (special tokens dropped, cut at a stop string), why it ended, and the policy
/// versions that sampled its first and last token (they differ when a new version was loaded mid-sequence).
/// </summary>
[GenerateSerializer, Immutable, Alias("rema.GenerateResponse")]
public sealed record GenerateResponse(
    string RequestId,
    int[] TokenIds,
    float[] LogProbs,
    string Text,
    string FinishReason,
    string? StopString,
    int PromptTokens,
    long PolicyVersion,
    long LastPolicyVersion);

/// <summary>What a policy replica holds (DecodeKernels: whether its engine decodes with the C# kernels on the CPU).</summary>
[GenerateSerializer, Immutable, Alias("rema.PolicyInfo")]
public sealed record PolicyInfo(
    string PolicyId,
    string Architecture,
    long Parameters,
    int VocabSize,
    string Device,
    long Version,
    string SiloAddress,
    long GeneratedTokens,
    int PeakBatch,
    double MeanBatch,
    bool DecodeKernels = false);
