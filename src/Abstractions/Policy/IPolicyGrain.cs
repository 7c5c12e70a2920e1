namespace ReMA.Abstractions.Policy;

/// <summary>
/// A policy replica: one model on one device serving generation requests from many episodes through one
/// continuous-batching engine. Keyed by policy id (one activation per policy and replica key).
/// </summary>
[Alias("rema.IPolicyGrain")]
public interface IPolicyGrain : IGrainWithStringKey
{
    /// <summary>Generates a continuation; concurrent calls decode together.</summary>
    [Alias("Generate")]
    Task<GenerateResponse> Generate(GenerateRequest request);

    /// <summary>Tokenizes chat messages with the policy's own tokenizer and ChatML template.</summary>
    [Alias("RenderChat")]
    Task<int[]> RenderChat(ChatTurn[] messages, bool addGenerationPrompt);

    /// <summary>
    /// Loads the weights of a published version from a model folder between two decode steps; requests in flight
    /// continue with the new weights. A folder that does not match the model is rejected and the current weights stay.
    /// </summary>
    [Alias("LoadVersion")]
    Task LoadVersion(string modelPath, long version);

    [Alias("GetInfo")]
    Task<PolicyInfo> GetInfo();
}

/// <summary>One chat message (system, user or assistant).</summary>
[GenerateSerializer, Immutable, Alias("rema.ChatTurn")]
public sealed record ChatTurn(string Role, string Content);
