using static TorchSharp.torch;

namespace ReMA.Learner.Generation;

/// <summary>
/// Samples one token per row from float32 logits [n, V]. Temperature scaling, log-softmax and inverse-CDF sampling run
/// batched on the model's device; the uniform numbers come from each request's own generator (one per token), so a row's
/// result never depends on the other rows. Only rows with top-k/top-p are finished on the host.
/// </summary>
public static class TokenSampler
{
    public readonly record struct Choice(int Token, float LogProb);

    public static Choice[] Sample(Tensor logits, IReadOnlyList<SamplingParams> sampling, IReadOnlyList<SplitMix64> rngs)
    {
        using var scope = NewDisposeScope();
        int n = (int)logits.shape[0];
        Device device = logits.device;
        float[] temps = new float[n];
        float[] uniforms = new float[n];
        bool[] greedy = new bool[n];
        var truncated = new List<int>();
        bool anySampled = false;
        for (int i = 0; i < n; i++)
        {
            SamplingParams s = sampling[i];
            greedy[i] = s.Greedy;
            temps[i] = s.Greedy ? 1f : s.Temperature;
            if (s.Truncated)
            {
                truncated.Add(i);
            }
            else if (!s.Greedy)
            {
                uniforms[i] = (float)rngs[i].NextDouble();   // one draw per sampled token, whatever the batch holds
                anySampled = true;
            }
        }
        Tensor scaled = temps.All(t => t == 1f) ? logits : logits.div(tensor(temps, device: device).unsqueeze(1));
        // log p = x - (max + log sum exp(x - max)); the shifted exponentials also feed the CDF when sampling.
        Tensor rowMax = scaled.max(-1, keepdim: true).values;                                       // [n, 1]
        Tensor shifted = (scaled - rowMax).exp_();                                                  // [n, V]
        Tensor? cdf = anySampled ? shifted.cumsum(-1) : null;
        Tensor total = shifted.sum([-1L], keepdim: true);
        Tensor logNorm = rowMax + total.log();                                                       // [n, 1]
        Tensor? tokens = greedy.Any(g => g) ? scaled.argmax(-1, keepdim: true) : null;               // [n, 1]
        if (cdf is not null)
        {
            // Inverse-CDF sampling on the device: first index whose cumulative mass exceeds u * total.
            Tensor target = tensor(uniforms, device: device).unsqueeze(1) * cdf.narrow(1, cdf.shape[1] - 1, 1);
            Tensor drawn = searchsorted(cdf, target, right: true).clamp_max(cdf.shape[1] - 1);
            tokens = tokens is null ? drawn : where(tensor(greedy, device: device).unsqueeze(1), tokens, drawn);
        }
        long[] chosen = tokens is null ? new long[n] : tokens.squeeze(1).cpu().data<long>().ToArray();
        if (truncated.Count > 0)
        {
            Tensor logp = scaled - logNorm;
            foreach (int i in truncated)
            {
                float[] row = logp[i].cpu().data<float>().ToArray();
                chosen[i] = SampleTruncated(row, sampling[i], rngs[i]);
            }
        }
        Tensor picked = tensor(chosen, device: device).unsqueeze(1);
        float[] logProbs = (scaled.gather(1, picked) - logNorm).squeeze(1).cpu().data<float>().ToArray();
        var choices = new Choice[n];
        for (int i = 0; i < n; i++)
        {
            choices[i] = new Choice((int)chosen[i], logProbs[i]);
        }
        return choices;
    }

    internal static int SampleTruncated(ReadOnlySpan<float> logp, SamplingParams s, SplitMix64 rng)
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
