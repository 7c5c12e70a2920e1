using static TorchSharp.torch;

namespace ReMA.Learner.Model;

/// <summary>
/// Key/value cache for continuous batching: per layer, K and V of shape [slots, kvHeads, maxLen, headDim].
/// Live sequences always occupy slots 0..n-1 (the engine compacts on removal), so a decode step works on a view of
/// the first n slots without gathering.
/// </summary>
public sealed unsafe class KvCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    /// <summary>Each layer's K and V memory when the cache is float32 in host memory (else null): slot moves copy it directly.</summary>
    private nint[]? _hostKeys, _hostValues;
    private bool _disposed;
    private readonly int _kvHeads, _headDim;

    public KvCache(ModelConfig config, int slots, int maxLength, Device device, ScalarType dtype)
    {
        Slots = slots;
        MaxLength = maxLength;
        _keys = new Tensor[config.NumLayers];
        _values = new Tensor[config.NumLayers];
        for (int i = 0; i < config.NumLayers; i++)
        {
            // The cache outlives the step that creates it: keep it out of any enclosing dispose scope.
            _keys[i] = zeros([slots, config.NumKeyValueHeads, maxLength, config.HeadDim], dtype: dtype, device: device).DetachFromDisposeScope();
            _values[i] = zeros([slots, config.NumKeyValueHeads, maxLength, config.HeadDim], dtype: dtype, device: device).DetachFromDisposeScope();
        }
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        if (Runtime.NativeTensor.IsHostFloat32(_keys[0]))
        {
            _hostKeys = [.. _keys.Select(k => (nint)Runtime.NativeTensor.Float32(k))];
            _hostValues = [.. _values.Select(v => (nint)Runtime.NativeTensor.Float32(v))];
        }
    }

    public int Slots { get; }
    public int MaxLength { get; }
    public int Layers => _keys.Length;

    public Tensor Keys(int layer) => _keys[layer];
    public Tensor Values(int layer) => _values[layer];

    /// <summary>Copies the first <paramref name="length"/> positions of slot <paramref name="from"/> into slot <paramref name="to"/>.</summary>
    public void MoveSlot(int from, int to, int length)
    {
        if (from == to || length == 0)
        {
            return;
        }
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)from >= (uint)Slots || (uint)to >= (uint)Slots || length < 0 || length > MaxLength)
        {
            throw new ArgumentOutOfRangeException(length < 0 || length > MaxLength ? nameof(length) : (uint)from >= (uint)Slots ? nameof(from) : nameof(to),
                $"kv cache: cannot move {length} positions from slot {from} to slot {to} of {Slots} slots of {MaxLength} positions.");
        }
        if (_hostKeys is not null)
        {
            // A retired sequence's hole is filled at every step of a multi-turn rollout: a few hundred bytes per head,
            // copied directly instead of through two dozen torch calls.
            long block = (long)MaxLength * _headDim, count = (long)length * _headDim;
            for (int layer = 0; layer < _keys.Length; layer++)
            {
                foreach (nint memory in (ReadOnlySpan<nint>)[_hostKeys[layer], _hostValues![layer]])
                {
                    float* data = (float*)memory;
                    for (int h = 0; h < _kvHeads; h++)
                    {
                        float* source = data + ((long)from * _kvHeads + h) * block, target = data + ((long)to * _kvHeads + h) * block;
                        Buffer.MemoryCopy(source, target, count * sizeof(float), count * sizeof(float));
                    }
                }
            }
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i][to].narrow(1, 0, length).copy_(_keys[i][from].narrow(1, 0, length));
            _values[i][to].narrow(1, 0, length).copy_(_values[i][from].narrow(1, 0, length));
        }
    }

    public long Bytes => _keys.Sum(k => k.NumberOfElements * k.ElementSize) * 2;

    public void Dispose()
    {
        _disposed = true;
        _hostKeys = _hostValues = null;   // the memory goes with the tensors
        foreach (Tensor t in _keys.Concat(_values))
        {
            t.Dispose();
        }
    }
}

/// <summary>How one forward pass reads and writes the cache: given a layer's new K/V, store them and return what to attend to.</summary>
public abstract class KvCacheAccess
{
    public abstract (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values);

    /// <summary>
    /// Applies the rotary embedding (<paramref name="cos"/>, <paramref name="sin"/>) to the unrotated queries and keys,
    /// stores the layer's new keys/values and returns the attention output [B, H, T, hd] in one kernel; or null when
    /// this access has none (then the layer rotates, calls <see cref="Update"/> and attends over what it returns).
    /// </summary>
    public virtual Tensor? Attend(int layer, Tensor queries, Tensor keys, Tensor values, Tensor cos, Tensor sin) => null;

    /// <summary>True when <see cref="Attend"/> rotates with its own angles: the model then skips computing cos/sin.</summary>
    public virtual bool RotatesItself => false;

    /// <summary><paramref name="norm"/> applied to <paramref name="x"/>; by default the module's own forward.</summary>
    public virtual Tensor Normalize(RmsNorm norm, Tensor x) => norm.forward(x);

    /// <summary>silu(<paramref name="gate"/>) * <paramref name="up"/> (the SwiGLU gate; may reuse gate's memory).</summary>
    public virtual Tensor Gate(Tensor gate, Tensor up) => nn.functional.silu(gate).mul_(up);

    /// <summary>The outputs of <paramref name="layers"/>, all applied to <paramref name="x"/>; by default each layer's own forward.</summary>
    public virtual Tensor[] Project(Tensor x, params TorchSharp.Modules.Linear[] layers) => Array.ConvertAll(layers, layer => layer.forward(x));
}

/// <summary>Prefill: prompts (right-padded to one length T) written at positions 0..T-1 of the given slots; attention stays within the prompt.</summary>
public sealed class PrefillAccess(KvCache cache, Tensor slots) : KvCacheAccess
{
    public override (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values)
    {
        long t = keys.shape[2];
        cache.Keys(layer).narrow(2, 0, t).index_copy_(0, slots, keys);
        cache.Values(layer).narrow(2, 0, t).index_copy_(0, slots, values);
        return (keys, values);
    }
}

/// <summary>
/// Decode: one new token for each of the first <c>batch</c> slots, written at that sequence's own position;
/// attention reads the first <paramref name="attendLength"/> positions (masked per sequence by the caller).
/// </summary>
public sealed class DecodeAccess(KvCache cache, Tensor writeIndex, int attendLength) : KvCacheAccess
{
    /// <summary>writeIndex: int64 [batch, kvHeads, 1, headDim] filled with each sequence's position.</summary>
    public override (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values)
    {
        long batch = keys.shape[0];
        Tensor k = cache.Keys(layer).narrow(0, 0, batch);
        Tensor v = cache.Values(layer).narrow(0, 0, batch);
        k.scatter_(2, writeIndex, keys);
        v.scatter_(2, writeIndex, values);
        return (k.narrow(2, 0, attendLength), v.narrow(2, 0, attendLength));
    }
}

/// <summary>The C# decode kernels an engine keeps between steps (see <see cref="KernelDecodeAccess"/>).</summary>
public sealed class DecodeKernels : IDisposable
{
    /// <param name="config">the model (head size and rope theta of the rotary table)</param>
    /// <param name="maxPositions">the longest sequence the cache holds</param>
    /// <param name="projections">false: attention only, the layers' projections stay torch's (for comparisons)</param>
    public DecodeKernels(ModelConfig config, int maxPositions, bool projections = true)
    {
        Rotary = new RotaryTable(config.HeadDim, config.RopeTheta, maxPositions);
        Linear = projections && DecodeLinear.Supported ? new DecodeLinear() : null;
    }

    /// <summary>The rotary angles of every position the cache can hold.</summary>
    public RotaryTable Rotary { get; }

    public DecodeAttention Attention { get; } = new();
    public DecodeElementwise Elementwise { get; } = new();
    /// <summary>Null where <see cref="DecodeLinear.Supported"/> is false: the layers then run torch's product.</summary>
    public DecodeLinear? Linear { get; }

    /// <summary>Drops what the kernels derived from the weights (call after the weights changed).</summary>
    public void Invalidate() => Linear?.Invalidate();

    public void Dispose() => Linear?.Dispose();
}

/// <summary>
/// A forward pass through the C# kernels: sequence i (cache slot firstSlot + i) brings counts[i] tokens (null: all T) at
/// positions starts[i].., whose keys/values <see cref="DecodeAttention"/> writes and attends causally within the slot
/// (no mask is needed); the layers' projections go through <see cref="DecodeLinear"/> where it handles them. Serves
/// decode steps (one token each, slots 0..B-1), prompt prefill (right-padded prompts from position 0), and both in one
/// forward with <paramref name="offsets"/>: the tokens packed as [1, N], sequence i's at rows offsets[i]..
/// </summary>
public sealed class KernelDecodeAccess(KvCache cache, int firstSlot, int[] starts, int[]? counts, DecodeKernels kernels, int[]? offsets = null) : KvCacheAccess
{
    /// <summary>Decode: one token per sequence in slots 0..B-1 at <paramref name="positions"/>.</summary>
    public KernelDecodeAccess(KvCache cache, int[] positions, DecodeKernels kernels) : this(cache, 0, positions, null, kernels)
    {
    }

    public override (Tensor Keys, Tensor Values) Update(int layer, Tensor keys, Tensor values) =>
        throw new InvalidOperationException("KernelDecodeAccess stores keys and values in Attend; Update is never called on it.");

    public override Tensor? Attend(int layer, Tensor queries, Tensor keys, Tensor values, Tensor cos, Tensor sin) =>
        kernels.Attention.Attend(cache, layer, firstSlot, starts, counts, offsets, queries, keys, values, kernels.Rotary);

    public override bool RotatesItself => true;

    // The engine builds this access only for a float32 model in host memory, which is all these kernels need.
    public override Tensor Normalize(RmsNorm norm, Tensor x) => kernels.Elementwise.RmsNorm(x, norm.Weight, norm.Epsilon);

    public override Tensor Gate(Tensor gate, Tensor up) => kernels.Elementwise.SiluGate(gate, up);

    public override Tensor[] Project(Tensor x, params TorchSharp.Modules.Linear[] layers) =>
        kernels.Linear?.TryForward(x, layers) ?? base.Project(x, layers);
}
