using System.Runtime.Intrinsics;
using ReMA.Learner.Runtime;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>
/// The decode step's row-wise operations in C# on libtorch's OpenMP threads: RMS normalisation and the SwiGLU gate
/// silu(g) * u. Each replaces four to six torch calls on a [B, D] tensor (a few microseconds of work behind tens of
/// microseconds of dispatch each). Same formulas as <see cref="RmsNorm"/> and <see cref="Mlp"/>; float32 in host memory.
/// </summary>
public sealed unsafe class DecodeElementwise : TorchThreads.Body
{
    private enum Operation { Norm, Gate }

    private Operation _operation;
    private float* _x, _y, _weight;
    private int _rows, _width;
    private float _eps;

    /// <summary>weight * x / sqrt(mean(x^2) + eps) over the last dimension of <paramref name="x"/>.</summary>
    public Tensor RmsNorm(Tensor x, Tensor weight, double eps)
    {
        using Tensor input = x.contiguous();
        Tensor output = empty_like(input);
        _operation = Operation.Norm;
        _width = (int)input.shape[^1];
        _rows = (int)(input.NumberOfElements / _width);
        if (weight.NumberOfElements != _width)
        {
            throw new ArgumentException($"rms norm: weight has {weight.NumberOfElements} elements but rows have {_width}.");
        }
        _x = NativeTensor.Float32(input);
        _y = NativeTensor.Float32(output);
        _weight = NativeTensor.Float32(weight);
        _eps = (float)eps;
        Go();
        GC.KeepAlive(weight);
        return output;
    }

    /// <summary>silu(<paramref name="gate"/>) * <paramref name="up"/>, written into <paramref name="gate"/> (contiguous, same shape).</summary>
    public Tensor SiluGate(Tensor gate, Tensor up)
    {
        if (!gate.is_contiguous() || !up.is_contiguous() || gate.NumberOfElements != up.NumberOfElements)
        {
            throw new ArgumentException("gate: expected two contiguous tensors of the same size.");
        }
        _operation = Operation.Gate;
        _width = (int)gate.shape[^1];
        _rows = (int)(gate.NumberOfElements / _width);
        _x = NativeTensor.Float32(up);
        _y = NativeTensor.Float32(gate);
        Go();
        GC.KeepAlive(up);
        return gate;
    }

    private void Go()
    {
        if (_rows > 0)
        {
            TorchThreads.Run(this, get_num_threads());
        }
    }

    public override void Run(int part, int parts)
    {
        int from = (int)((long)_rows * part / parts), to = (int)((long)_rows * (part + 1) / parts);
        for (int r = from; r < to; r++)
        {
            float* x = _x + (long)r * _width, y = _y + (long)r * _width;
            if (_operation == Operation.Norm)
            {
                Norm(x, y);
            }
            else
            {
                Gate(y, x);
            }
        }
    }

    // Without AVX-512, Vector512 runs in software (slower than scalar code): each loop takes the widest accelerated vector.
    private void Norm(float* x, float* y)
    {
        int n = _width, i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                Vector512<float> v = Vector512.Load(x + i);
                acc += v * v;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> v = Vector256.Load(x + i);
                acc += v * v;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            sum += x[i] * x[i];
        }
        float scale = 1f / MathF.Sqrt(sum / n + _eps);
        i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> s = Vector512.Create(scale);
            for (; i <= n - 16; i += 16)
            {
                (Vector512.Load(_weight + i) * (Vector512.Load(x + i) * s)).Store(y + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s = Vector256.Create(scale);
            for (; i <= n - 8; i += 8)
            {
                (Vector256.Load(_weight + i) * (Vector256.Load(x + i) * s)).Store(y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = _weight[i] * (x[i] * scale);
        }
    }

    /// <summary>gate[i] = silu(gate[i]) * up[i] with silu(g) = g / (1 + exp(-g)).</summary>
    private void Gate(float* gate, float* up)
    {
        int n = _width, i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> one = Vector512<float>.One;
            for (; i <= n - 16; i += 16)
            {
                Vector512<float> g = Vector512.Load(gate + i);
                (g / (one + Vector512.Exp(-g)) * Vector512.Load(up + i)).Store(gate + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> one = Vector256<float>.One;
            for (; i <= n - 8; i += 8)
            {
                Vector256<float> g = Vector256.Load(gate + i);
                (g / (one + Vector256.Exp(-g)) * Vector256.Load(up + i)).Store(gate + i);
            }
        }
        for (; i < n; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }
}
