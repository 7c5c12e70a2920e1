using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ReMA.Learner.Runtime;
using static TorchSharp.torch;

namespace ReMA.Learner.Generation;

/// <summary>
/// The vocabulary projection and <see cref="HostSampler"/>'s rules in one pass, in C# on libtorch's OpenMP threads
/// (<see cref="TorchThreads"/>). Logits are computed as W h^T by a register-tiled AVX-512 kernel (16 sequences per
/// vector, 6 or 12 vocabulary rows per tile), one chunk of <see cref="ChunkRows"/> vocabulary rows at a time; while a
/// chunk's logits are still in cache, each sequence's chunk maximum and its sum of exp(x/T - max) are taken. The draw
/// then needs only those per-chunk figures and one chunk's logits: greedy picks the first maximum, plain sampling walks
/// the chunk sums to the chunk holding u * total and then that chunk's tokens, top-k/top-p sequences take
/// <see cref="TokenSampler"/>'s host routine over their full log-probabilities. Same rules and the same uniform draws as
/// <see cref="TokenSampler"/> and <see cref="HostSampler"/> (tested to choose the same tokens). Logits stay in this
/// object's buffer ([V, P] with P the batch padded to 16, 32 or a multiple of 64) and never become a tensor.
/// float32 weights and hidden states in host memory; AVX-512 (<see cref="Supported"/>).
/// </summary>
public sealed unsafe class VocabSampler : TorchThreads.Body, IDisposable
{
    /// <summary>Vocabulary rows per chunk: a multiple of both row tiles (6 and 12).</summary>
    public const int ChunkRows = 480;


    private float* _logits, _packed, _chunkMax, _chunkSum;
    private nuint _logitsCapacity, _packedCapacity, _statsCapacity;
    private float* _weight, _hidden;
    private float* _panels;                 // W in panels of 16 rows, [ceil(V / 16)][D][16], for batches under 16
    private nuint _panelsCapacity;
    private float* _panelsOf;               // the weight the panels were made from (null: none)
    private float[] _temperature = [];
    private int _vocab, _dim, _n, _width, _chunks, _nextChunk;
    private bool _finishing;
    private IReadOnlyList<SamplingParams> _sampling = [];
    private IReadOnlyList<SplitMix64> _rngs = [];
    private double[] _uniforms = [];
    private TokenSampler.Choice[] _choices = [];

    /// <summary>True where the kernel runs: AVX-512 and libtorch's OpenMP threads reachable.</summary>
    public static bool Supported => Vector512.IsHardwareAccelerated && TorchThreads.Available;

    /// <param name="weight">float32 [V, D], the output projection</param>
    /// <param name="hidden">float32 [n, D], the final hidden states of the sequences being decoded</param>
    public TokenSampler.Choice[] Sample(Tensor weight, Tensor hidden, IReadOnlyList<SamplingParams> sampling, IReadOnlyList<SplitMix64> rngs)
    {
        if (!Supported)
        {
            throw new InvalidOperationException("VocabSampler needs AVX-512 and libtorch's OpenMP runtime; use HostSampler here.");
        }
        int n = (int)hidden.shape[0];
        if (sampling.Count != n || rngs.Count != n)
        {
            throw new ArgumentException($"sampler: {n} hidden states but {sampling.Count} sampling settings and {rngs.Count} generators.");
        }
        if (weight.shape[1] != hidden.shape[1])
        {
            throw new ArgumentException($"sampler: output weight has {weight.shape[1]} columns but hidden states have {hidden.shape[1]}.");
        }
        _vocab = (int)weight.shape[0];
        _dim = (int)weight.shape[1];
        _n = n;
        _width = TiledGemm.PackedWidth(n);
        _chunks = (_vocab + ChunkRows - 1) / ChunkRows;
        Reserve(ref _logits, ref _logitsCapacity, (nuint)_vocab * (nuint)_width);
        Reserve(ref _chunkMax, ref _statsCapacity, (nuint)_chunks * (nuint)_width * 2);
        _chunkSum = _chunkMax + (nuint)_chunks * (nuint)_width;
        _weight = NativeTensor.Float32(weight);
        using Tensor h = hidden.contiguous();
        _hidden = NativeTensor.Float32(h);
        if (_width == 16)
        {
            PackPanels();
        }
        else
        {
            Reserve(ref _packed, ref _packedCapacity, (nuint)_dim * (nuint)_width);
            Pack(_hidden);
        }
        if (_temperature.Length < _width)
        {
            _temperature = new float[_width];
        }
        Array.Fill(_temperature, 1f);
        _uniforms = new double[n];
        for (int i = 0; i < n; i++)
        {
            SamplingParams s = sampling[i];
            _temperature[i] = s.Greedy ? 1f : s.Temperature;
            if (s.PlainSampled)
            {
                _uniforms[i] = (float)rngs[i].NextDouble();   // in sequence order, as the other samplers draw
            }
        }
        _sampling = sampling;
        _rngs = rngs;
        _choices = new TokenSampler.Choice[n];
        int threads = get_num_threads();
        _finishing = false;
        _nextChunk = 0;
        TorchThreads.Run(this, threads);
        // Truncated sampling draws inside the routine and is rare: done here, in sequence order, on the caller.
        for (int i = 0; i < n; i++)
        {
            SamplingParams s = sampling[i];
            if (s.Truncated)
            {
                _choices[i] = Truncated(i);
            }
        }
        _finishing = true;
        TorchThreads.Run(this, threads);
        GC.KeepAlive(weight);
        return _choices;
    }

    public override void Run(int part, int parts)
    {
        if (_finishing)
        {
            for (int column = part; column < _n; column += parts)
            {
                SamplingParams s = _sampling[column];
                if (!s.Truncated)
                {
                    _choices[column] = Choose(column);
                }
            }
            return;
        }
        for (int chunk = Interlocked.Increment(ref _nextChunk) - 1; chunk < _chunks; chunk = Interlocked.Increment(ref _nextChunk) - 1)
        {
            int first = chunk * ChunkRows, rows = Math.Min(ChunkRows, _vocab - first);
            Project(first, rows);
            ChunkStatistics(chunk, first, rows);
        }
    }

    /// <summary>h^T packed as [D, P] with zero columns beyond n.</summary>
    private void Pack(float* hidden)
    {
        for (int k = 0; k < _dim; k++)
        {
            float* row = _packed + (long)k * _width;
            for (int c = 0; c < _n; c++)
            {
                row[c] = hidden[(long)c * _dim + k];
            }
            new Span<float>(row + _n, _width - _n).Clear();
        }
    }

    /// <summary>Logits of vocabulary rows [first, first + rows) for every column: the register-tiled product.</summary>
    private void Project(int first, int rows)
    {
        if (_width == 16)
        {
            ProjectNarrow(first, rows);
            return;
        }
        TiledGemm.Rows(_weight + (long)first * _dim, _dim, rows, _packed, _width, _logits + (long)first * _width, _width);
    }

    /// <summary>
    /// A copy of W in panels of 16 vocabulary rows ([D][16] each, zero rows past the vocabulary), so that a small batch
    /// vectorises across 16 vocabulary rows instead of padding its few sequences to 16 columns. Made once per weight;
    /// <see cref="Invalidate"/> drops it when the weights change.
    /// </summary>
    private void PackPanels()
    {
        if (_panelsOf == _weight && _panels != null)
        {
            return;
        }
        int panels = (_vocab + 15) / 16;
        Reserve(ref _panels, ref _panelsCapacity, (nuint)panels * (nuint)_dim * 16);
        for (int panel = 0; panel < panels; panel++)
        {
            float* target = _panels + (long)panel * _dim * 16;
            for (int r = 0; r < 16; r++)
            {
                int v = panel * 16 + r;
                float* row = _weight + (long)v * _dim;
                for (int k = 0; k < _dim; k++)
                {
                    target[k * 16 + r] = v < _vocab ? row[k] : 0f;
                }
            }
        }
        _panelsOf = _weight;
    }

    /// <summary>
    /// Logits of rows [first, first + rows) for a batch under 16, 16 vocabulary rows per vector. Each logit is the same
    /// chain of fused multiply-adds over k as in the wide tiles (fma(w, h, acc) from zero, k ascending), so a sequence
    /// gets bit-identical logits whatever the size of its batch.
    /// </summary>
    private void ProjectNarrow(int first, int rows)
    {
        int d = _dim, end = first + rows;
        float* lanes = stackalloc float[16 * 4 * 4];
        for (int v = first; v < end; v += 64)
        {
            int panelRows = Math.Min(64, end - v), panels = (panelRows + 15) / 16;
            float* w = _panels + (long)(v / 16) * d * 16;
            for (int s = 0; s < _n; s += 4)
            {
                int group = Math.Min(4, _n - s);
                if (panels == 4 && group == 4)
                {
                    Panels4x4(w, d, _hidden + (long)s * d, lanes);
                }
                else
                {
                    for (int p = 0; p < panels; p++)
                    {
                        for (int j = 0; j < group; j++)
                        {
                            Panel1x1(w + (long)p * d * 16, d, _hidden + (long)(s + j) * d, lanes + (p * 4 + j) * 16);
                        }
                    }
                }
                // lanes[(p * 4 + j) * 16 + r] is the logit of row v + 16p + r for sequence s + j.
                for (int p = 0; p < panels; p++)
                {
                    for (int r = 0; r < 16 && v + p * 16 + r < end; r++)
                    {
                        float* row = _logits + (long)(v + p * 16 + r) * 16;
                        for (int j = 0; j < group; j++)
                        {
                            row[s + j] = lanes[(p * 4 + j) * 16 + r];
                        }
                    }
                }
            }
            for (int r = v; r < v + panelRows; r++)
            {
                new Span<float>(_logits + (long)r * 16 + _n, 16 - _n).Clear();   // padding columns, as the wide path leaves them
            }
        }
    }

    /// <summary>64 vocabulary rows (four panels) by four sequences: 16 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Panels4x4(float* w, int d, float* h, float* output)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        float* w1 = w + (long)d * 16, w2 = w1 + (long)d * 16, w3 = w2 + (long)d * 16;
        float* h1 = h + d, h2 = h1 + d, h3 = h2 + d;
        for (int k = 0; k < d; k++)
        {
            Vector512<float> p0 = Vector512.Load(w + k * 16), p1 = Vector512.Load(w1 + k * 16), p2 = Vector512.Load(w2 + k * 16), p3 = Vector512.Load(w3 + k * 16);
            Vector512<float> x = Vector512.Create(h[k]);
            a00 = Vector512.FusedMultiplyAdd(p0, x, a00); a10 = Vector512.FusedMultiplyAdd(p1, x, a10);
            a20 = Vector512.FusedMultiplyAdd(p2, x, a20); a30 = Vector512.FusedMultiplyAdd(p3, x, a30);
            x = Vector512.Create(h1[k]);
            a01 = Vector512.FusedMultiplyAdd(p0, x, a01); a11 = Vector512.FusedMultiplyAdd(p1, x, a11);
            a21 = Vector512.FusedMultiplyAdd(p2, x, a21); a31 = Vector512.FusedMultiplyAdd(p3, x, a31);
            x = Vector512.Create(h2[k]);
            a02 = Vector512.FusedMultiplyAdd(p0, x, a02); a12 = Vector512.FusedMultiplyAdd(p1, x, a12);
            a22 = Vector512.FusedMultiplyAdd(p2, x, a22); a32 = Vector512.FusedMultiplyAdd(p3, x, a32);
            x = Vector512.Create(h3[k]);
            a03 = Vector512.FusedMultiplyAdd(p0, x, a03); a13 = Vector512.FusedMultiplyAdd(p1, x, a13);
            a23 = Vector512.FusedMultiplyAdd(p2, x, a23); a33 = Vector512.FusedMultiplyAdd(p3, x, a33);
        }
        // output[(panel * 4 + sequence) * 16 + row]
        a00.Store(output); a01.Store(output + 16); a02.Store(output + 32); a03.Store(output + 48);
        a10.Store(output + 64); a11.Store(output + 80); a12.Store(output + 96); a13.Store(output + 112);
        a20.Store(output + 128); a21.Store(output + 144); a22.Store(output + 160); a23.Store(output + 176);
        a30.Store(output + 192); a31.Store(output + 208); a32.Store(output + 224); a33.Store(output + 240);
    }

    /// <summary>16 vocabulary rows (one panel) by one sequence.</summary>
    private static void Panel1x1(float* w, int d, float* h, float* output)
    {
        Vector512<float> a = default;
        for (int k = 0; k < d; k++)
        {
            a = Vector512.FusedMultiplyAdd(Vector512.Load(w + k * 16), Vector512.Create(h[k]), a);
        }
        a.Store(output);
    }

    /// <summary>Drops the panel copy of the output weight (call after the weights changed).</summary>
    public void Invalidate() => _panelsOf = null;

    /// <summary>Per column: the chunk's largest raw logit and its sum of exp(x/T - max/T), read while the chunk is in cache.</summary>
    private void ChunkStatistics(int chunk, int first, int rows)
    {
        int p = _width;
        float* max = _chunkMax + (long)chunk * p, sum = _chunkSum + (long)chunk * p, x0 = _logits + (long)first * p;
        for (int c = 0; c < p; c += 16)
        {
            Vector512<float> m = Vector512.Create(float.NegativeInfinity);
            float* x = x0 + c;
            for (int r = 0; r < rows; r++, x += p)
            {
                m = Vector512.Max(m, Vector512.Load(x));
            }
            // x / T as the other samplers compute it (division: the same floats); T = 1 needs none.
            Vector512<float> temperature = Vector512.Create(new ReadOnlySpan<float>(_temperature, c, 16));
            Vector512<float> s = Vector512<float>.Zero;
            x = x0 + c;
            if (Vector512.EqualsAll(temperature, Vector512<float>.One))
            {
                for (int r = 0; r < rows; r++, x += p)
                {
                    s += Vector512.Exp(Vector512.Load(x) - m);
                }
            }
            else
            {
                Vector512<float> scaledMax = m / temperature;
                for (int r = 0; r < rows; r++, x += p)
                {
                    s += Vector512.Exp(Vector512.Load(x) / temperature - scaledMax);
                }
            }
            m.Store(max + c);
            s.Store(sum + c);
        }
    }

    private float Scaled(float logit, int column) => _temperature[column] == 1f ? logit : logit / _temperature[column];

    /// <summary>The column's maximum raw logit and log-normaliser of x/T, from the chunk figures.</summary>
    private (float Max, float LogNorm, double Total) Normaliser(int column)
    {
        int p = _width;
        float max = float.NegativeInfinity;
        for (int c = 0; c < _chunks; c++)
        {
            max = Math.Max(max, _chunkMax[(long)c * p + column]);
        }
        float scaledMax = Scaled(max, column);
        double total = 0;
        for (int c = 0; c < _chunks; c++)
        {
            total += _chunkSum[(long)c * p + column] * Math.Exp(Scaled(_chunkMax[(long)c * p + column], column) - scaledMax);
        }
        return (max, scaledMax + (float)Math.Log(total), total);
    }

    private TokenSampler.Choice Choose(int column)
    {
        (float max, float logNorm, double total) = Normaliser(column);
        int token = _sampling[column].Greedy ? FirstMaximum(column, max) : InverseCdf(column, max, total, _uniforms[column] * total);
        return new TokenSampler.Choice(token, Scaled(_logits[(long)token * _width + column], column) - logNorm);
    }

    private TokenSampler.Choice Truncated(int column)
    {
        (_, float logNorm, _) = Normaliser(column);
        float[] logp = new float[_vocab];
        for (int v = 0; v < _vocab; v++)
        {
            logp[v] = Scaled(_logits[(long)v * _width + column], column) - logNorm;
        }
        int token = TokenSampler.SampleTruncated(logp, _sampling[column], _rngs[column]);
        return new TokenSampler.Choice(token, logp[token]);
    }

    /// <summary>First vocabulary index holding the column's maximum (torch.argmax's choice on ties): the first chunk with it, then within.</summary>
    private int FirstMaximum(int column, float max)
    {
        int p = _width;
        for (int c = 0; c < _chunks; c++)
        {
            if (_chunkMax[(long)c * p + column] != max)
            {
                continue;
            }
            int end = Math.Min(_vocab, (c + 1) * ChunkRows);
            for (int v = c * ChunkRows; v < end; v++)
            {
                if (_logits[(long)v * p + column] == max)
                {
                    return v;
                }
            }
        }
        return 0;   // only when the column holds NaN
    }

    /// <summary>First index whose cumulative mass exceeds <paramref name="target"/>: the chunk from its sum, then within it.</summary>
    private int InverseCdf(int column, float max, double total, double target)
    {
        int p = _width;
        float scaledMax = Scaled(max, column);
        double before = 0;
        for (int c = 0; c < _chunks; c++)
        {
            double sum = _chunkSum[(long)c * p + column] * Math.Exp(Scaled(_chunkMax[(long)c * p + column], column) - scaledMax);
            if (before + sum <= target && c < _chunks - 1)
            {
                before += sum;
                continue;
            }
            int start = c * ChunkRows, end = Math.Min(_vocab, start + ChunkRows), lastWithMass = -1;
            double acc = before;
            for (int v = start; v < end; v++)
            {
                float e = MathF.Exp(Scaled(_logits[(long)v * p + column], column) - scaledMax);
                if (e > 0)
                {
                    lastWithMass = v;
                }
                acc += e;
                if (acc > target)
                {
                    return v;
                }
            }
            if (lastWithMass >= 0)
            {
                // Rounding between the chunk's vector sum and this running sum: the chunk's last token with mass.
                return lastWithMass;
            }
            before += sum;
        }
        return _vocab - 1;
    }

    private static void Reserve(ref float* buffer, ref nuint capacity, nuint floats)
    {
        if (capacity >= floats)
        {
            return;
        }
        NativeMemory.AlignedFree(buffer);
        buffer = null;
        capacity = 0;
        buffer = (float*)NativeMemory.AlignedAlloc(floats * sizeof(float), 64);
        capacity = floats;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_logits);
        NativeMemory.AlignedFree(_packed);
        NativeMemory.AlignedFree(_chunkMax);
        NativeMemory.AlignedFree(_panels);
        _logits = _packed = _chunkMax = _chunkSum = _panels = _panelsOf = null;
        _logitsCapacity = _packedCapacity = _statsCapacity = _panelsCapacity = 0;
    }
}
