using System.Text;
using ReMA.Learner.Tokenization;

namespace ReMA.Learner.Generation;

/// <summary>One request inside the engine: its prompt, what has been sampled, and its stop conditions.</summary>
internal sealed class SequenceState
{
    private readonly List<byte> _text = [];
    private readonly byte[][] _stops;

    public SequenceState(GenerationRequest request, int maxNewTokens, TaskCompletionSource<GenerationResult> completion)
    {
        Request = request;
        Prompt = [.. request.PromptIds];
        MaxNewTokens = maxNewTokens;
        Completion = completion;
        Rng = new SplitMix64(request.Sampling.Seed ?? (ulong)Random.Shared.NextInt64());
        _stops = request.Sampling.StopStrings.Select(Encoding.UTF8.GetBytes).ToArray();
    }

    public GenerationRequest Request { get; }
    public int[] Prompt { get; }
    public int MaxNewTokens { get; }
    public TaskCompletionSource<GenerationResult> Completion { get; }
    public SplitMix64 Rng { get; }
    public List<int> Tokens { get; } = [];
    public List<float> LogProbs { get; } = [];
    /// <summary>Positions already written to the KV cache.</summary>
    public int CachedLength { get; set; }
    public FinishReason? Finished { get; private set; }
    public string? StopString { get; private set; }
    private int _textEnd = -1;

    public int TotalLength => Prompt.Length + Tokens.Count;
    public long FirstVersion { get; private set; }
    public long LastVersion { get; private set; }

    /// <summary>Records a sampled token and decides whether the sequence is finished.</summary>
    public void Append(int token, float logProb, long version, ITokenizer tokenizer, ISet<int> endTokens, int contextLimit)
    {
        if (Tokens.Count == 0)
        {
            FirstVersion = version;
        }
        LastVersion = version;
        Tokens.Add(token);
        LogProbs.Add(logProb);
        if (!Request.Sampling.IgnoreEos && endTokens.Contains(token))
        {
            Finished = FinishReason.Eos;
            return;
        }
        int before = _text.Count;
        if (!tokenizer.IsSpecial(token))
        {
            _text.AddRange(tokenizer.TokenBytes(token));
        }
        if (_stops.Length > 0 && _text.Count > before && MatchStop(before))
        {
            Finished = FinishReason.Stop;
            return;
        }
        if (Tokens.Count >= MaxNewTokens || TotalLength >= contextLimit)
        {
            Finished = FinishReason.Length;
        }
    }

    /// <summary>Looks for a stop string that ends within the bytes just added; the earliest match wins.</summary>
    private bool MatchStop(int before)
    {
        int bestStart = int.MaxValue, bestIndex = -1;
        Span<byte> text = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_text);
        for (int s = 0; s < _stops.Length; s++)
        {
            byte[] stop = _stops[s];
            int from = Math.Max(0, before - stop.Length + 1);
            int at = text[from..].IndexOf(stop);
            if (at >= 0 && from + at < bestStart)
            {
                bestStart = from + at;
                bestIndex = s;
            }
        }
        if (bestIndex < 0)
        {
            return false;
        }
        StopString = Request.Sampling.StopStrings[bestIndex];
        _textEnd = Request.Sampling.IncludeStopString ? bestStart + _stops[bestIndex].Length : bestStart;
        return true;
    }

    public GenerationResult ToResult()
    {
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_text);
        string text = Encoding.UTF8.GetString(_textEnd >= 0 ? bytes[.._textEnd] : bytes);
        return new GenerationResult(Request.Id, [.. Tokens], [.. LogProbs], text, Finished ?? FinishReason.Length, StopString, Prompt.Length)
        {
            PolicyVersion = FirstVersion,
            LastPolicyVersion = LastVersion,
        };
    }
}
