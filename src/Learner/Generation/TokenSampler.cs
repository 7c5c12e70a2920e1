using static TorchSharp.torch;

namespace ReMA.Learner.Generation;

/// <summary>
/// Samples one token per row from float32 logits [n, V]. Temperature scaling and log-softmax run batched in torch;
/// the draw itself uses each request's own generator (one uniform number per token), so a row's result never depends
/// on the other rows.
/// </summary>
public static class TokenSampler
{
    public readonly record struct Choice(int Token, float LogProb);

    public static Choice[] Sample(Tensor logits, IReadOnlyList<SamplingParams> sampling, IReadOnlyList<SplitMix64> rngs)
    {
        using var scope = NewDisposeScope();
        int n = (int)logits.shape[0];
        int vocab = (int)logits.shape[1];
        float[] temps = sampling.Select(s => s.Greedy ? 1f : s.Temperature).ToArray();
        Tensor logp = logits.div(tensor(temps, device: logits.device).unsqueeze(1)).log_softmax(-1);    // [n, V]
        Tensor cdf = logp.exp().cumsum(-1);                                                               // [n, V]
        Tensor argmax = logp.argmax(-1);
        float[] logpHost = logp.cpu().data<float>().ToArray();
        float[] cdfHost = cdf.cpu().data<float>().ToArray();
        long[] best = argmax.cpu().data<long>().ToArray();

        var choices = new Choice[n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = logpHost.AsSpan(i * vocab, vocab);
            SamplingParams s = sampling[i];
            int token;
            if (s.Greedy)
            {
                token = (int)best[i];
            }
            else if (s.TopK > 0 || s.TopP < 1f)
            {
                token = SampleTruncated(row, s, rngs[i]);
            }
            else
            {
                ReadOnlySpan<float> c = cdfHost.AsSpan(i * vocab, vocab);
                token = SearchCdf(c, rngs[i].NextDouble() * c[^1]);
            }
            choices[i] = new Choice(token, row[token]);
        }
        return choices;
    }

    /// <summary>First index whose cumulative probability exceeds u.</summary>
    private static int SearchCdf(ReadOnlySpan<float> cdf, double u)
    {
        int lo = 0, hi = cdf.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] > u)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static int SampleTruncated(ReadOnlySpan<float> logp, SamplingParams s, SplitMix64 rng)
    {
        int[] order = new int[logp.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        float[] keys = new float[logp.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i] = -logp[i];
        }
        Array.Sort(keys, order);                                  // most likely first; ties by index are stable enough (exact equality)
        int keep = s.TopK > 0 ? Math.Min(s.TopK, order.Length) : order.Length;
        double total = 0;
        int kept = 0;
        while (kept < keep)
        {
            total += Math.Exp(logp[order[kept]]);
            kept++;
            if (s.TopP < 1f && total >= s.TopP)
            {
                break;
            }
        }
        double u = rng.NextDouble() * total;
        double acc = 0;
        for (int i = 0; i < kept; i++)
        {
            acc += Math.Exp(logp[order[i]]);
            if (acc > u)
            {
                return order[i];
            }
        }
        return order[kept - 1];
    }
}
