using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReMA.Learner.Training;

public sealed record AdamWOptions
{
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Also decay norm scales and biases (off: the common practice for transformers).</summary>
    public bool DecayNormsAndBiases { get; init; }
}

/// <summary>
/// AdamW with decoupled weight decay, step for step the update of torch.optim.AdamW (amsgrad off). Written out so
/// that its whole state (moments and step count) is saved in checkpoints by parameter name and a resumed run
/// continues bit for bit.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly (string Name, Parameter Parameter, Tensor ExpAvg, Tensor ExpAvgSq, bool Decay)[] _slots;
    private readonly AdamWOptions _options;

    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, AdamWOptions? options = null)
    {
        _options = options ?? new AdamWOptions();
        _slots = parameters.Select(p => (p.Name, p.Parameter,
            zeros_like(p.Parameter).DetachFromDisposeScope(), zeros_like(p.Parameter).DetachFromDisposeScope(),
            _options.DecayNormsAndBiases || !(p.Name.EndsWith(".bias", StringComparison.Ordinal) || p.Name.EndsWith("norm.weight", StringComparison.Ordinal))))
            .ToArray();
    }

    /// <summary>Optimizer steps taken (the bias-correction step count).</summary>
    public long Steps { get; private set; }

    public IEnumerable<Parameter> Parameters => _slots.Select(s => s.Parameter);

    public void ZeroGrad()
    {
        foreach (var slot in _slots)
        {
            slot.Parameter.grad?.zero_();
        }
    }

    /// <summary>One update with learning rate <paramref name="lr"/> from the accumulated gradients.</summary>
    public void Step(double lr)
    {
        Steps++;
        double b1 = _options.Beta1, b2 = _options.Beta2;
        double biasCorrection1 = 1 - Math.Pow(b1, Steps);
        double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(b2, Steps));
        using var noGrad = no_grad();
        // Explicit scalars held for the whole step: an implicit conversion creates a Scalar that nothing references
        // once its handle is passed to native code, so a collection during the call can free it under libtorch.
        using Scalar decayFactor = (1 - lr * _options.WeightDecay).ToScalar(), beta1 = b1.ToScalar(), oneMinusB1 = (1 - b1).ToScalar(),
            beta2 = b2.ToScalar(), oneMinusB2 = (1 - b2).ToScalar(), correction2 = biasCorrection2Sqrt.ToScalar(),
            epsilon = _options.Epsilon.ToScalar(), stepSize = (-lr / biasCorrection1).ToScalar();
        foreach (var (_, p, m, v, decay) in _slots)
        {
            Tensor? g = p.grad;
            if (g is null)
            {
                continue;
            }
            using var scope = NewDisposeScope();
            if (decay && _options.WeightDecay != 0)
            {
                p.mul_(decayFactor);
            }
            m.mul_(beta1).add_(g, alpha: oneMinusB1);
            v.mul_(beta2).addcmul_(g, g, oneMinusB2);
            Tensor denom = v.sqrt().div_(correction2).add_(epsilon);
            p.addcdiv_(m, denom, stepSize);
        }
    }

    /// <summary>Moments by parameter name ("name.exp_avg", "name.exp_avg_sq").</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors() => _slots.SelectMany(s => new[]
    {
        new KeyValuePair<string, Tensor>(s.Name + ".exp_avg", s.ExpAvg),
        new KeyValuePair<string, Tensor>(s.Name + ".exp_avg_sq", s.ExpAvgSq),
    });

    public void LoadState(IReadOnlyDictionary<string, Tensor> state, long steps, string source)
    {
        using var noGrad = no_grad();
        foreach (var (name, _, m, v, _) in _slots)
        {
            foreach ((string key, Tensor target) in new[] { (name + ".exp_avg", m), (name + ".exp_avg_sq", v) })
            {
                if (!state.TryGetValue(key, out Tensor? value))
                {
                    throw new InvalidDataException($"{source}: optimizer state lacks '{key}'.");
                }
                if (!value.shape.SequenceEqual(target.shape))
                {
                    throw new InvalidDataException($"{source}: optimizer state '{key}' has shape [{string.Join(", ", value.shape)}], expected [{string.Join(", ", target.shape)}].");
                }
                target.copy_(value);
            }
        }
        Steps = steps;
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.ExpAvg.Dispose();
            slot.ExpAvgSq.Dispose();
        }
    }
}
