using ReMA.Learner.Model;
using static TorchSharp.torch;

namespace ReMA.Learner.Scoring;

/// <summary>
/// Per-token log-probabilities of given completions under the model, with gradients, for training: for each row,
/// log softmax(logits / T) at every completion token given the prompt and the completion tokens before it. With the
/// sampler's temperature this equals the log-probs recorded at generation time (to float tolerance).
/// </summary>
public static class LogProbScorer
{
    /// <summary>
    /// Returns (logProbs [B, C], mask [B, C]) where C is the longest completion; mask is 1 on real completion tokens.
    /// </summary>
    public static (Tensor LogProbs, Tensor Mask) Score(CausalLM model, IReadOnlyList<(IReadOnlyList<int> Prompt, IReadOnlyList<int> Completion)> rows, float temperature = 1.0f)
    {
        if (rows.Count == 0)
        {
            throw new ArgumentException("scoring: no rows given.");
        }
        if (!(temperature > 0))
        {
            throw new ArgumentException($"scoring: temperature must be positive (got {temperature}).");
        }
        using var scope = NewDisposeScope();
        int b = rows.Count;
        int t = rows.Max(r => r.Prompt.Count + r.Completion.Count);
        int c = rows.Max(r => r.Completion.Count);
        long[] ids = new long[b * t];
        long[] lengths = new long[b];
        long[] gatherPos = new long[b * c];   // position of the logits that predict completion token j
        long[] targets = new long[b * c];
        float[] mask = new float[b * c];
        for (int i = 0; i < b; i++)
        {
            (IReadOnlyList<int> prompt, IReadOnlyList<int> completion) = rows[i];
            if (prompt.Count == 0)
            {
                throw new ArgumentException($"scoring: row {i} has an empty prompt; the first completion token needs a context.");
            }
            for (int j = 0; j < prompt.Count; j++)
            {
                ids[i * t + j] = prompt[j];
            }
            for (int j = 0; j < completion.Count; j++)
            {
                ids[i * t + prompt.Count + j] = completion[j];
                gatherPos[i * c + j] = i * (long)t + prompt.Count + j - 1;
                targets[i * c + j] = completion[j];
                mask[i * c + j] = 1f;
            }
            lengths[i] = prompt.Count + completion.Count;
        }
        Device device = model.Device;
        Tensor lengthTensor = tensor(lengths, device: device);
        Tensor positions = arange(t, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, t);
        Tensor hidden = model.Hidden(tensor(ids, [b, t], device: device), positions, model.CausalMask(t, lengthTensor, b));
        // Only the positions that predict completion tokens go through the output layer.
        Tensor picked = hidden.reshape(b * t, -1).index_select(0, tensor(gatherPos, device: device));   // [B*C, D]
        Tensor logp = (model.Logits(picked) / temperature).log_softmax(-1);                                 // [B*C, V]
        Tensor tokenLogp = logp.gather(1, tensor(targets, device: device).unsqueeze(1)).view(b, c);
        Tensor maskTensor = tensor(mask, [b, c], device: device);
        return ((tokenLogp * maskTensor).MoveToOuterDisposeScope(), maskTensor.MoveToOuterDisposeScope());
    }
}
