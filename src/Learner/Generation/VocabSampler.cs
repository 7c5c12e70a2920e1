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

    /// <summary>Smallest batch the engine sends here: below it the columns are mostly padding and torch's product wins.</summary>
    public const int MinBatch = 8;

    private float* _logits, _packed, _chunkMax, _chunkSum;
    private nuint _logitsCapacity, _packedCapacity, _statsCapacity;
    private float* _weight;
    private float[] _inverseTemperature = [];
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
        Reserve(ref _packed, ref _packedCapacity, (nuint)_dim * (nuint)_width);
        Reserve(ref _chunkMax, ref _statsCapacity, (nuint)_chunks * (nuint)_width * 2);
        _chunkSum = _chunkMax + (nuint)_chunks * (nuint)_width;
        _weight = NativeTensor.Float32(weight);
        using (Tensor h = hidden.contiguous())
        {
            Pack(NativeTensor.Float32(h));
        }
        if (_inverseTemperature.Length < _width)
        {
            _inverseTemperature = new float[_width];
        }
        Array.Fill(_inverseTemperature, 1f);
        _uniforms = new double[n];
        for (int i = 0; i < n; i++)
        {
            SamplingParams s = sampling[i];
            _inverseTemperature[i] = s.Greedy ? 1f : 1f / s.Temperature;
            if (!s.Greedy && s.TopK <= 0 && s.TopP >= 1f)
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
            if (!s.Greedy && (s.TopK > 0 || s.TopP < 1f))
            {
                _choices[i] = Truncated(i);
            }
        }
        _finishing = true;
        TorchThreads.Run(this, threads);
        return _choices;
    }

    public override void Run(int part, int parts)
    {
        if (_finishing)
        {
            for (int column = part; column < _n; column += parts)
            {
                SamplingParams s = _sampling[column];
                if (s.Greedy || (s.TopK <= 0 && s.TopP >= 1f))
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
    private void Project(int first, int rows) =>
        TiledGemm.Rows(_weight + (long)first * _dim, _dim, rows, _packed, _width, _logits + (long)first * _width, _width);

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
            Vector512<float> inverse = Vector512.Create(new ReadOnlySpan<float>(_inverseTemperature, c, 16));
            Vector512<float> scaledMax = m * inverse, s = Vector512<float>.Zero;
            x = x0 + c;
            for (int r = 0; r < rows; r++, x += p)
            {
                s += Vector512.Exp(Vector512.Load(x) * inverse - scaledMax);
            }
            m.Store(max + c);
            s.Store(sum + c);
        }
    }

    private float Scaled(float logit, int column) => logit * _inverseTemperature[column];

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
        buffer = (float*)NativeMemory.AlignedAlloc(floats * sizeof(float), 64);
        capacity = floats;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_logits);
        NativeMemory.AlignedFree(_packed);
        NativeMemory.AlignedFree(_chunkMax);
        _logits = _packed = _chunkMax = _chunkSum = null;
        _logitsCapacity = _packedCapacity = _statsCapacity = 0;
    }
}
