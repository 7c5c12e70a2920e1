using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>SwiGLU feed-forward: down(silu(gate(x)) * up(x)).</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear gate_proj;
    private readonly Linear up_proj;
    private readonly Linear down_proj;

    public Mlp(ModelConfig config, Device device, ScalarType dtype) : base(nameof(Mlp))
    {
        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias, device: device, dtype: dtype);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, hasBias: config.MlpBias, device: device, dtype: dtype);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, hasBias: config.MlpBias, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => ForwardWith(x, null);

    /// <summary>The forward with the projections computed by <paramref name="access"/> when given (the decode kernels).</summary>
    public Tensor ForwardWith(Tensor x, KvCacheAccess? access)
    {
        using var scope = NewDisposeScope();
        if (access is null)
        {
            Tensor h = nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x);
            return down_proj.forward(h).MoveToOuterDisposeScope();
        }
        Tensor[] gateUp = access.Project(x, gate_proj, up_proj);
        return access.Project(access.Gate(gateUp[0], gateUp[1]), down_proj)[0].MoveToOuterDisposeScope();
    }
}
