using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>Root-mean-square layer norm (bf16/fp16 computed in float32 and cast back), Hugging Face parameter name "weight".</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    public RmsNorm(int dim, double eps, Device device, ScalarType dtype) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(dim, dtype: dtype, device: device));
        _eps = eps;
        RegisterComponents();
    }

    /// <summary>The scale vector (Hugging Face "weight").</summary>
    public Tensor Weight => weight;

    public double Epsilon => _eps;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Reduced-precision inputs are normalised in float32; float32/float64 stay as they are.
        Tensor h = x.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? x.to(ScalarType.Float32) : x;
        Tensor variance = h.pow(2).mean([-1L], keepdim: true);
        h = h * rsqrt(variance + _eps);
        return (weight * h.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
