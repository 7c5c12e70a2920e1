using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ReMA.Learner.Model;

/// <summary>
/// cos and sin of the rotary angles for positions 0..MaxPositions-1, computed once in C# with the formula of
/// <see cref="RotaryEmbedding.Angles"/> (inverse frequencies theta^(-2i/hd), angle = position * frequency, the halves
/// repeated): the decode kernels read a position's row instead of receiving per-step angle tensors, so a token's angles
/// are the same floats whatever batch it is computed in. They may differ from torch's vectorised cos/sin by a unit in
/// the last place.
/// </summary>
public sealed unsafe class RotaryTable
{
    private readonly float[] _cos, _sin;

    public RotaryTable(int headDim, double theta, int maxPositions)
    {
        if (headDim % 2 != 0 || headDim <= 0 || maxPositions <= 0)
        {
            throw new ArgumentException($"rotary table: head size {headDim} must be even and positive, positions {maxPositions} positive.");
        }
        HeadDim = headDim;
        Theta = theta;
        MaxPositions = maxPositions;
        int half = headDim / 2;
        var inverse = new float[half];
        for (int i = 0; i < half; i++)
        {
            float exponent = (float)(2 * i) / headDim;
            inverse[i] = 1f / (float)Math.Pow(theta, exponent);
        }
        _cos = GC.AllocateUninitializedArray<float>(maxPositions * headDim, pinned: true);
        _sin = GC.AllocateUninitializedArray<float>(maxPositions * headDim, pinned: true);
        for (int p = 0; p < maxPositions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = p * inverse[i];
                float c = MathF.Cos(angle), s = MathF.Sin(angle);
                _cos[p * headDim + i] = _cos[p * headDim + half + i] = c;
                _sin[p * headDim + i] = _sin[p * headDim + half + i] = s;
            }
        }
    }

    public int HeadDim { get; }
    public double Theta { get; }
    public int MaxPositions { get; }

    /// <summary>cos of position <paramref name="position"/>: HeadDim floats (pinned; valid while this table lives).</summary>
    public float* Cos(int position) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_cos)) + (long)position * HeadDim;

    /// <summary>sin of position <paramref name="position"/>: HeadDim floats.</summary>
    public float* Sin(int position) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_sin)) + (long)position * HeadDim;

    /// <summary>The rows of <paramref name="positions"/> as tensors [n, 1, 1, hd] (cos, sin), for comparisons with torch.</summary>
    public (TorchSharp.torch.Tensor Cos, TorchSharp.torch.Tensor Sin) Rows(IReadOnlyList<int> positions)
    {
        var cos = new float[positions.Count * HeadDim];
        var sin = new float[positions.Count * HeadDim];
        for (int i = 0; i < positions.Count; i++)
        {
            Array.Copy(_cos, positions[i] * HeadDim, cos, i * HeadDim, HeadDim);
            Array.Copy(_sin, positions[i] * HeadDim, sin, i * HeadDim, HeadDim);
        }
        return (TorchSharp.torch.tensor(cos, [positions.Count, 1, 1, HeadDim]), TorchSharp.torch.tensor(sin, [positions.Count, 1, 1, HeadDim]));
    }
}
