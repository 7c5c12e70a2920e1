using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ReMA.Learner.Runtime;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>
/// Decode attention over the KV cache in C#, on libtorch's OpenMP threads (<see cref="TorchThreads"/>): for every
/// sequence it writes the new key and value at the sequence's own position and attends its query heads to that
/// sequence's positions 0..position only. SDPA over the cache view needs a mask and reads every sequence up to the
/// longest one; this kernel reads each (sequence, key/value head) block once, which is what a decode step is bound by
/// on a CPU (memory bandwidth; docs/benchmarks.md). float32 in host memory only.
/// </summary>
public sealed unsafe class DecodeAttention : TorchThreads.Body
{
    [ThreadStatic]
    private static float[]? t_scores;

    private float* _q, _kNew, _vNew, _kCache, _vCache, _out;
    private int[] _positions = [];
    private int _batch, _heads, _kvHeads, _maxLen, _headDim;
    private float _scale;

    /// <summary>
    /// Writes <paramref name="keys"/>/<paramref name="values"/> ([B, KV, 1, hd]) into the cache of <paramref name="layer"/>
    /// at each sequence's position and returns attention of <paramref name="queries"/> ([B, H, 1, hd]) over positions
    /// 0..position of that sequence, as [B, H, 1, hd].
    /// </summary>
    public Tensor Attend(KvCache cache, int layer, int[] positions, Tensor queries, Tensor keys, Tensor values)
    {
        using Tensor q = queries.contiguous(), k = keys.contiguous(), v = values.contiguous();
        Tensor output = empty_like(q);
        _batch = (int)q.shape[0];
        _heads = (int)q.shape[1];
        _kvHeads = (int)k.shape[1];
        _headDim = (int)q.shape[3];
        _maxLen = cache.MaxLength;
        _scale = 1f / MathF.Sqrt(_headDim);
        _positions = positions;
        _q = NativeTensor.Float32(q);
        _kNew = NativeTensor.Float32(k);
        _vNew = NativeTensor.Float32(v);
        _kCache = NativeTensor.Float32(cache.Keys(layer));
        _vCache = NativeTensor.Float32(cache.Values(layer));
        _out = NativeTensor.Float32(output);
        if (positions.Length < _batch)
        {
            throw new ArgumentException($"decode attention: {_batch} sequences but {positions.Length} positions.");
        }
        foreach (int p in positions.AsSpan(0, _batch))
        {
            if (p < 0 || p >= _maxLen)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), $"decode attention: position {p} is outside the cache's 0..{_maxLen - 1}.");
            }
        }
        TorchThreads.Run(this, get_num_threads());
        return output;
    }

    public override void Run(int part, int parts)
    {
        int items = _batch * _kvHeads;
        int from = (int)((long)items * part / parts), to = (int)((long)items * (part + 1) / parts);
        float[] scores = t_scores is { } buffer && buffer.Length >= _maxLen ? buffer : t_scores = new float[_maxLen];
        int groups = _heads / _kvHeads, hd = _headDim;
        for (int item = from; item < to; item++)
        {
            int b = item / _kvHeads, kvh = item % _kvHeads, position = _positions[b], length = position + 1;
            long block = (long)item * _maxLen * hd;
            float* kBlock = _kCache + block, vBlock = _vCache + block;
            new ReadOnlySpan<float>(_kNew + (long)item * hd, hd).CopyTo(new Span<float>(kBlock + (long)position * hd, hd));
            new ReadOnlySpan<float>(_vNew + (long)item * hd, hd).CopyTo(new Span<float>(vBlock + (long)position * hd, hd));
            for (int g = 0; g < groups; g++)
            {
                long head = ((long)b * _heads + kvh * groups + g) * hd;
                Head(_q + head, kBlock, vBlock, _out + head, length, hd, scores);
            }
        }
    }

    /// <summary>softmax(q K^T * scale) V over the first <paramref name="length"/> rows of one block.</summary>
    private void Head(float* q, float* keys, float* values, float* output, int length, int hd, float[] scores)
    {
        float max = float.NegativeInfinity;
        for (int s = 0; s < length; s++)
        {
            float score = Dot(q, keys + (long)s * hd, hd) * _scale;
            scores[s] = score;
            max = Math.Max(max, score);
        }
        float sum = 0;
        for (int s = 0; s < length; s++)
        {
            float e = MathF.Exp(scores[s] - max);
            scores[s] = e;
            sum += e;
        }
        float inverse = 1f / sum;
        new Span<float>(output, hd).Clear();
        for (int s = 0; s < length; s++)
        {
            AddScaled(output, values + (long)s * hd, scores[s] * inverse, hd);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(float* output, float* x, float w, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> wv = Vector512.Create(w);
            for (; i <= n - 16; i += 16)
            {
                Vector512.FusedMultiplyAdd(Vector512.Load(x + i), wv, Vector512.Load(output + i)).Store(output + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> wv = Vector256.Create(w);
            for (; i <= n - 8; i += 8)
            {
                Vector256.FusedMultiplyAdd(Vector256.Load(x + i), wv, Vector256.Load(output + i)).Store(output + i);
            }
        }
        for (; i < n; i++)
        {
            output[i] += w * x[i];
        }
    }
}
