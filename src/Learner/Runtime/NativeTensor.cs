using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ReMA.Learner.Runtime;

/// <summary>Direct access to the memory of contiguous float32 CPU tensors, for kernels written in C#.</summary>
public static unsafe class NativeTensor
{
    /// <summary>True when <paramref name="t"/> lives in host memory as float32 (the kernels' only case).</summary>
    public static bool IsHostFloat32(Tensor t) => t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32;

    /// <summary>
    /// Address of the first element of a contiguous float32 CPU tensor. The memory belongs to libtorch and does not move;
    /// it stays valid while the tensor is alive.
    /// </summary>
    public static float* Float32(Tensor t)
    {
        if (!IsHostFloat32(t))
        {
            throw new ArgumentException($"expected a float32 CPU tensor, got {t.dtype} on {t.device}.");
        }
        if (!t.is_contiguous())
        {
            throw new ArgumentException($"expected a contiguous tensor (shape [{string.Join(", ", t.shape)}]).");
        }
        if (t.NumberOfElements == 0)
        {
            return null;
        }
        if (t.NumberOfElements * sizeof(float) <= int.MaxValue)
        {
            return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));
        }
        // TorchSharp's byte span stops at int.MaxValue bytes: take the address from the first element's one instead.
        using Tensor first = t.view(-1).narrow(0, 0, 1);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(first.bytes));
    }
}
