using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ReMA.Learner.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>
/// y = x W^T + b for the decode step's few rows (one per sequence), in C# on libtorch's OpenMP threads. Each layer's
/// weight is kept as a packed copy of W^T (panels of 32 output features, each a contiguous [in, 32] block; made on first use and dropped by <see cref="Invalidate"/>, which
/// the engine calls whenever the weights change), so that x is read in place as the broadcast operand and y is written
/// in place, 32 output features per pair of AVX-512 vectors, by <see cref="TiledGemm.Columns32"/>; work items (a block of
/// 32 features for up to 24 rows) are handed out dynamically across layers that share an input (q/k/v, gate/up).
/// torch's product at these shapes (64 x 288 x 288) ran at about 110 GFLOP/s on 2 cores here; one core ran this tile
/// at about 116 (docs/benchmarks.md). The copies cost as much memory as the layers' weights. float32 in host memory,
/// AVX-512, output features a multiple of 32 (<see cref="Handles"/>); anything else keeps torch's nn.Linear.
/// </summary>
public sealed unsafe class DecodeLinear : TorchThreads.Body, IDisposable
{
    private const int RowsPerItem = 24;

    private sealed class Packed
    {
        public float* Transposed;   // W^T in panels of 32 output features: [out / 32][in][32]
        public float* Bias;         // [out] or null
        public int In, Out;
    }

    /// <summary>Stands in the cache for a layer <see cref="Handles"/> refused, so the check runs once per weight version.</summary>
    private static readonly Packed Refused = new();

    private struct Job
    {
        public float* Transposed, Bias, Output;
        public int Out, FirstItem, ColumnBlocks;
    }

    private readonly Dictionary<Linear, Packed> _packed = new(ReferenceEqualityComparer.Instance);
    private Job[] _jobs = [];
    private int _jobCount, _items, _next, _n, _in, _rowGroups;
    private float* _x;

    public static bool Supported => Vector512.IsHardwareAccelerated && TorchThreads.Available;

    /// <summary>True when <paramref name="layer"/> can run here: float32 weights in host memory, output features a multiple of 32.</summary>
    public static bool Handles(Linear layer) =>
        Supported && NativeTensor.IsHostFloat32(layer.weight!) && layer.weight!.shape[0] % 32 == 0 && layer.weight.is_contiguous();

    /// <summary>Bytes held by the packed copies.</summary>
    public long PackedBytes { get; private set; }

    /// <summary>The outputs [.., out] of <paramref name="layers"/>, all applied to <paramref name="x"/> [.., in]; shaped like x.</summary>
    public Tensor[] Forward(Tensor x, params Linear[] layers) =>
        TryForward(x, layers, out int refused) ?? throw new ArgumentException(
            $"decode linear: layer {refused} ([{string.Join(", ", layers[refused].weight!.shape)}], {layers[refused].weight!.dtype}) cannot run here on input [.., {x.shape[^1]}].");

    /// <summary>As <see cref="Forward"/>, or null when some layer cannot run here (then nothing was computed).</summary>
    public Tensor[]? TryForward(Tensor x, params Linear[] layers) => TryForward(x, layers, out _);

    private Tensor[]? TryForward(Tensor x, Linear[] layers, out int refused)
    {
        using Tensor input = x.contiguous();
        if (!NativeTensor.IsHostFloat32(input))
        {
            throw new ArgumentException($"decode linear: expected float32 input in host memory, got {input.dtype} on {input.device}.");
        }
        _in = (int)input.shape[^1];
        if (_jobs.Length < layers.Length)
        {
            _jobs = new Job[layers.Length];
        }
        for (int i = 0; i < layers.Length; i++)
        {
            Packed packed = Pack(layers[i]);
            if (packed == Refused || packed.In != _in)
            {
                refused = i;
                return null;
            }
            _jobs[i] = new Job { Transposed = packed.Transposed, Bias = packed.Bias, Out = packed.Out, ColumnBlocks = packed.Out / 32 };
        }
        refused = -1;
        _n = (int)(input.NumberOfElements / _in);
        _x = NativeTensor.Float32(input);
        _rowGroups = (_n + RowsPerItem - 1) / RowsPerItem;
        _jobCount = layers.Length;
        _items = 0;
        var outputs = new Tensor[layers.Length];
        long[] shape = input.shape.ToArray();
        for (int i = 0; i < layers.Length; i++)
        {
            shape[^1] = _jobs[i].Out;
            outputs[i] = empty(shape, dtype: ScalarType.Float32, device: input.device);
            _jobs[i].Output = NativeTensor.Float32(outputs[i]);
            _jobs[i].FirstItem = _items;
            _items += _jobs[i].ColumnBlocks * _rowGroups;
        }
        if (_n > 0)
        {
            _next = 0;
            TorchThreads.Run(this, get_num_threads());
        }
        return outputs;
    }

    public override void Run(int part, int parts)
    {
        for (int item = Interlocked.Increment(ref _next) - 1; item < _items; item = Interlocked.Increment(ref _next) - 1)
        {
            int j = _jobCount - 1;
            while (_jobs[j].FirstItem > item)
            {
                j--;
            }
            Job job = _jobs[j];
            int local = item - job.FirstItem, block = local % job.ColumnBlocks, group = local / job.ColumnBlocks;
            int firstRow = group * RowsPerItem, rows = Math.Min(RowsPerItem, _n - firstRow), column = block * 32;
            float* y = job.Output + (long)firstRow * job.Out + column;
            TiledGemm.Columns32(_x + (long)firstRow * _in, _in, rows, job.Transposed + (long)column * _in, 32, y, job.Out);
            if (job.Bias != null)
            {
                Vector512<float> b0 = Vector512.Load(job.Bias + column), b1 = Vector512.Load(job.Bias + column + 16);
                for (int r = 0; r < rows; r++, y += job.Out)
                {
                    (Vector512.Load(y) + b0).Store(y);
                    (Vector512.Load(y + 16) + b1).Store(y + 16);
                }
            }
        }
    }

    /// <summary>The packed copy of a layer's weight (and bias), made on first use; <see cref="Refused"/> when it cannot run here.</summary>
    private Packed Pack(Linear layer)
    {
        if (_packed.TryGetValue(layer, out Packed? packed))
        {
            return packed;
        }
        if (!Handles(layer))
        {
            _packed[layer] = Refused;
            return Refused;
        }
        using var noGrad = no_grad();
        using Tensor weight = layer.weight!.detach();
        int outFeatures = (int)weight.shape[0], inFeatures = (int)weight.shape[1];
        packed = new Packed
        {
            Transposed = (float*)NativeMemory.AlignedAlloc((nuint)outFeatures * (nuint)inFeatures * sizeof(float), 64),
            In = inFeatures, Out = outFeatures,
        };
        float* w = NativeTensor.Float32(weight);
        // Panel j holds W^T[:, 32j..32j+32) as one contiguous [in, 32] block: a work item streams through memory in order.
        for (int o0 = 0; o0 < outFeatures; o0 += 32)
        {
            float* panel = packed.Transposed + (long)o0 * inFeatures;
            for (int i0 = 0; i0 < inFeatures; i0 += 32)
            {
                int iEnd = Math.Min(inFeatures, i0 + 32);
                for (int o = o0; o < o0 + 32; o++)
                {
                    for (int i = i0; i < iEnd; i++)
                    {
                        panel[(long)i * 32 + (o - o0)] = w[(long)o * inFeatures + i];
                    }
                }
            }
        }
        if (layer.bias is Tensor bias)
        {
            packed.Bias = (float*)NativeMemory.AlignedAlloc((nuint)outFeatures * sizeof(float), 64);
            using Tensor values = bias.detach().contiguous();
            new ReadOnlySpan<float>(NativeTensor.Float32(values), outFeatures).CopyTo(new Span<float>(packed.Bias, outFeatures));
        }
        PackedBytes += (long)outFeatures * (inFeatures + (layer.bias is null ? 0 : 1)) * sizeof(float);
        _packed[layer] = packed;
        return packed;
    }

    /// <summary>Drops the packed copies; the next forward packs the current weights again. Call after any weight change.</summary>
    public void Invalidate()
    {
        foreach (Packed packed in _packed.Values.Where(p => p != Refused))
        {
            NativeMemory.AlignedFree(packed.Transposed);
            NativeMemory.AlignedFree(packed.Bias);
        }
        _packed.Clear();
        PackedBytes = 0;
    }

    public void Dispose() => Invalidate();
}
