using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ReMA.Learner.Runtime;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>
/// Attention over the KV cache in C#, on libtorch's OpenMP threads (<see cref="TorchThreads"/>), for decode steps and
/// prompt prefill alike: sequence i (cache slot firstSlot + i) brings counts[i] new tokens at positions starts[i],
/// starts[i] + 1, ...; the kernel writes their keys and values into the slot and attends each query head of token t to
/// positions 0..starts[i] + t of that slot only (causal, no mask tensor). SDPA over the cache view needs a mask and reads
/// every sequence up to the longest one; this reads each (sequence, key/value head) block once per query, which is what
/// a decode step is bound by on a CPU (memory bandwidth; docs/benchmarks.md). Query rows beyond counts[i] (padding of a
/// shorter prompt) get zeros. float32 in host memory only.
/// </summary>
public sealed unsafe class DecodeAttention : TorchThreads.Body
{
    [ThreadStatic]
    private static float[]? t_scores;

    [ThreadStatic]
    private static float[]? t_query;

    private float* _q, _kNew, _vNew, _kCache, _vCache, _out;
    private RotaryTable? _rotary;
    private int[] _starts = [], _counts = [];
    /// <summary>Null: token j of sequence i is row i * T + j of q/k/v/out ([B, T] layout); else row offsets[i] + j (packed).</summary>
    private int[]? _offsets;
    private int _batch, _tokens, _heads, _kvHeads, _maxLen, _headDim, _firstSlot, _next;
    private float _scale;

    /// <summary>Decode: one token per sequence in slots 0..B-1 at <paramref name="positions"/>; q and k already rotated.</summary>
    public Tensor Attend(KvCache cache, int layer, int[] positions, Tensor queries, Tensor keys, Tensor values) =>
        Attend(cache, layer, 0, positions, null, queries, keys, values, null);

    /// <summary>
    /// Writes <paramref name="keys"/>/<paramref name="values"/> ([B, KV, T, hd]) into the cache of <paramref name="layer"/>
    /// and returns the attention of <paramref name="queries"/> ([B, H, T, hd]) as [B, H, T, hd] (a view of [B, T, H, hd]
    /// memory). <paramref name="counts"/> null means every sequence brings T tokens. With <paramref name="rotary"/> the
    /// queries and keys are given unrotated and the kernel rotates them by the table's rows for their positions (as
    /// <see cref="RotaryEmbedding.Apply"/> computes it); without it they are taken as already rotated.
    /// </summary>
    public Tensor Attend(KvCache cache, int layer, int firstSlot, int[] starts, int[]? counts, Tensor queries, Tensor keys, Tensor values,
        RotaryTable? rotary) => Attend(cache, layer, firstSlot, starts, counts, null, queries, keys, values, rotary);

    /// <summary>
    /// As above; with <paramref name="offsets"/> the tokens are packed instead: queries, keys and values are
    /// [1, heads, N, hd] and sequence i's counts[i] tokens are rows offsets[i].. of the N (each right after the previous),
    /// so sequences of different lengths (decode steps and prompts together) share one forward without padding.
    /// </summary>
    public Tensor Attend(KvCache cache, int layer, int firstSlot, int[] starts, int[]? counts, int[]? offsets, Tensor queries, Tensor keys, Tensor values,
        RotaryTable? rotary)
    {
        // [B, T, heads, hd] memory: what the projections produced, so these are usually views, not copies.
        using Tensor q = queries.transpose(1, 2).contiguous(), k = keys.transpose(1, 2).contiguous(), v = values.transpose(1, 2).contiguous();
        _batch = offsets is null ? (int)q.shape[0] : starts.Length;
        _tokens = (int)q.shape[1];
        _heads = (int)q.shape[2];
        _kvHeads = (int)k.shape[2];
        _headDim = (int)q.shape[3];
        _maxLen = cache.MaxLength;
        _firstSlot = firstSlot;
        if (starts.Length < _batch || (counts is not null && counts.Length < _batch))
        {
            throw new ArgumentException($"attention kernel: {_batch} sequences but {starts.Length} start positions and {counts?.Length ?? _batch} counts.");
        }
        if (offsets is not null)
        {
            if (q.shape[0] != 1 || counts is null || offsets.Length < _batch)
            {
                throw new ArgumentException($"attention kernel: packed tokens need queries of batch 1 (got {q.shape[0]}), counts and {_batch} offsets (got {offsets.Length}).");
            }
            int end = 0;
            for (int i = 0; i < _batch; i++)
            {
                if (offsets[i] != end || counts[i] < 1)
                {
                    throw new ArgumentOutOfRangeException(nameof(offsets), $"attention kernel: packed sequence {i} starts at row {offsets[i]} with {counts[i]} tokens; expected row {end} (each sequence right after the previous one) and at least one token.");
                }
                end += counts[i];
            }
            if (end != _tokens)
            {
                throw new ArgumentException($"attention kernel: the packed sequences cover {end} rows of the {_tokens} given.");
            }
        }
        Tensor keysOfLayer = cache.Keys(layer);
        if (keysOfLayer.shape[1] != _kvHeads || keysOfLayer.shape[3] != _headDim || k.shape[3] != _headDim || v.shape[2] != _kvHeads
            || k.shape[1] != _tokens || _kvHeads == 0 || _heads % _kvHeads != 0)
        {
            throw new ArgumentException($"attention kernel: queries [{string.Join(", ", queries.shape)}], keys [{string.Join(", ", keys.shape)}] " +
                $"and values [{string.Join(", ", values.shape)}] do not fit a cache of [{string.Join(", ", keysOfLayer.shape)}].");
        }
        if (firstSlot < 0 || firstSlot + _batch > cache.Slots)
        {
            throw new ArgumentOutOfRangeException(nameof(firstSlot), $"attention kernel: slots {firstSlot}..{firstSlot + _batch - 1} are outside the cache's 0..{cache.Slots - 1}.");
        }
        _counts = counts ?? Enumerable.Repeat(_tokens, _batch).ToArray();
        _offsets = offsets;
        for (int i = 0; i < _batch; i++)
        {
            int last = starts[i] + _counts[i] - 1;
            if (starts[i] < 0 || _counts[i] < 0 || _counts[i] > _tokens || last >= _maxLen)
            {
                throw new ArgumentOutOfRangeException(nameof(starts), $"attention kernel: position {Math.Max(starts[i], last)} is outside the cache's 0..{_maxLen - 1}.");
            }
        }
        Tensor output = empty_like(q);
        _scale = 1f / MathF.Sqrt(_headDim);
        _starts = starts;
        _q = NativeTensor.Float32(q);
        _kNew = NativeTensor.Float32(k);
        _vNew = NativeTensor.Float32(v);
        _kCache = NativeTensor.Float32(keysOfLayer);
        _vCache = NativeTensor.Float32(cache.Values(layer));
        _out = NativeTensor.Float32(output);
        if (rotary is not null && (rotary.HeadDim != _headDim || rotary.MaxPositions < _maxLen))
        {
            throw new ArgumentException($"attention kernel: the rotary table covers head size {rotary.HeadDim} and {rotary.MaxPositions} positions; the cache needs {_headDim} and {_maxLen}.");
        }
        _rotary = rotary;
        RunTeam();
        GC.KeepAlive(cache);
        GC.KeepAlive(rotary);
        return output.transpose(1, 2);
    }

    public override void Run(int part, int parts)
    {
        float[] scores = t_scores is { } buffer && buffer.Length >= _maxLen ? buffer : t_scores = new float[_maxLen];
        float[] rotated = t_query is { } r && r.Length >= _headDim ? r : t_query = new float[_headDim];
        fixed (float* query = rotated)
        {
            for (int item = Interlocked.Increment(ref _next) - 1; item < _items; item = Interlocked.Increment(ref _next) - 1)
            {
                int pair = item / _blocks, block = item % _blocks;   // (sequence, key/value head) and a block of its tokens
                if (_phase != Phase.Attend)
                {
                    Store(pair);
                }
                if (_phase != Phase.Store)
                {
                    Attend(pair, block * QueryBlock, Math.Min(_tokens, (block + 1) * QueryBlock), scores, query);
                }
            }
        }
    }

    /// <summary>Tokens per work item when a prefill's attention is split (after all keys/values are stored).</summary>
    private const int QueryBlock = 8;

    private enum Phase { Both, Store, Attend }

    private Phase _phase;
    private int _items, _blocks;

    /// <summary>
    /// Runs the team: a decode step stores and attends per (sequence, key/value head) in one region; a prefill stores
    /// every key/value first and then splits attention into blocks of tokens, so one long prompt still uses every thread.
    /// </summary>
    private void RunTeam()
    {
        int pairs = _batch * _kvHeads, threads = get_num_threads();
        int longest = _offsets is null ? _tokens : _counts.Take(_batch).DefaultIfEmpty(0).Max();
        if (longest <= 1)
        {
            (_phase, _items, _blocks) = (Phase.Both, pairs, 1);
            _next = 0;
            TorchThreads.Run(this, threads);
            return;
        }
        (_phase, _items, _blocks) = (Phase.Store, pairs, 1);
        _next = 0;
        TorchThreads.Run(this, threads);
        _blocks = (longest + QueryBlock - 1) / QueryBlock;
        (_phase, _items) = (Phase.Attend, pairs * _blocks);
        _next = 0;
        TorchThreads.Run(this, threads);
    }

    /// <summary>The row of token <paramref name="j"/> of sequence <paramref name="b"/> in the [B, T] or packed token memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Row(int b, int j, int t) => _offsets is null ? (long)b * t + j : _offsets[b] + j;

    /// <summary>Stores (rotated) keys and values of one (sequence, key/value head) at the sequence's positions.</summary>
    private void Store(int pair)
    {
        int hd = _headDim, t = _tokens;
        int b = pair / _kvHeads, kvh = pair % _kvHeads, start = _starts[b], count = _counts[b];
        long block = ((long)(_firstSlot + b) * _kvHeads + kvh) * _maxLen * hd;
        float* kBlock = _kCache + block, vBlock = _vCache + block;
        for (int j = 0; j < count; j++)
        {
            long from = (Row(b, j, t) * _kvHeads + kvh) * hd, to = (long)(start + j) * hd;
            if (_rotary is not null)
            {
                Rotate(_kNew + from, _rotary.Cos(start + j), _rotary.Sin(start + j), kBlock + to, hd);
            }
            else
            {
                new ReadOnlySpan<float>(_kNew + from, hd).CopyTo(new Span<float>(kBlock + to, hd));
            }
            new ReadOnlySpan<float>(_vNew + from, hd).CopyTo(new Span<float>(vBlock + to, hd));
        }
    }

    /// <summary>Every query head of one (sequence, key/value head) group for tokens [from, to).</summary>
    private void Attend(int pair, int from, int to, float[] scores, float* query)
    {
        int groups = _heads / _kvHeads, hd = _headDim, t = _tokens;
        int b = pair / _kvHeads, kvh = pair % _kvHeads, start = _starts[b], count = _counts[b];
        long block = ((long)(_firstSlot + b) * _kvHeads + kvh) * _maxLen * hd;
        float* kBlock = _kCache + block, vBlock = _vCache + block;
        if (_offsets is not null)
        {
            to = Math.Min(to, count);   // packed: no padding rows to clear (the rows past count are the next sequence's)
        }
        for (int j = from; j < to; j++)
        {
            for (int g = 0; g < groups; g++)
            {
                long head = (Row(b, j, t) * _heads + kvh * groups + g) * hd;
                if (j >= count)
                {
                    new Span<float>(_out + head, hd).Clear();   // padding of a shorter prompt
                    continue;
                }
                float* q = _q + head;
                if (_rotary is not null)
                {
                    Rotate(q, _rotary.Cos(start + j), _rotary.Sin(start + j), query, hd);
                    q = query;
                }
                Head(q, kBlock, vBlock, _out + head, start + j + 1, hd, scores);
            }
        }
    }

    /// <summary>
    /// The rotary embedding of one head vector, as <see cref="RotaryEmbedding.Apply"/> computes it: x * cos +
    /// rotate_half(x) * sin with rotate_half(x) = [-x2, x1] (the same float operations, so the same values).
    /// </summary>
    private static void Rotate(float* x, float* cos, float* sin, float* output, int hd)
    {
        int half = hd / 2;
        for (int i = 0; i < half; i++)
        {
            float a = x[i], b = x[i + half];
            float first = a * cos[i], second = b * cos[i + half];
            output[i] = first + -b * sin[i];
            output[i + half] = second + a * sin[i + half];
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
