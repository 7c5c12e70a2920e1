using System.Diagnostics;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Generation;

public sealed record EngineOptions
{
    /// <summary>Most sequences decoding together (KV cache slots).</summary>
    public int MaxBatch { get; init; } = 64;
    /// <summary>Longest prompt + completion; defaults to the model's max_position_embeddings.</summary>
    public int? MaxSequenceLength { get; init; }
    /// <summary>Keep keys/values of past positions (true) or recompute the whole sequence every step (benchmark baseline).</summary>
    public bool UseKvCache { get; init; } = true;
    /// <summary>Most prompt tokens prefilled in one step, so that a burst of new requests does not stall running ones.</summary>
    public int MaxPrefillTokens { get; init; } = 8192;
    /// <summary>Keep a transposed copy of the output projection for faster decoding (costs vocab x hidden extra memory).</summary>
    public bool TransposedOutputWeight { get; init; } = true;
    /// <summary>
    /// With float32 weights in host memory, logits are computed as W h^T and sampled by <see cref="HostSampler"/> (C#
    /// over the tensor's memory) instead of h W^T and a chain of torch calls (<see cref="TokenSampler"/>). Same rules,
    /// same draws; faster on the CPU (docs/benchmarks.md). Off, or on CUDA or for bfloat16: the torch path.
    /// </summary>
    public bool SampleOnHost { get; init; } = true;
    /// <summary>
    /// Decode steps and prompt prefill run the C# kernels on libtorch's OpenMP threads where the model and cache are
    /// float32 in host memory: attention by <see cref="DecodeAttention"/> (each sequence reads only its own cached
    /// positions), the layers' projections by <see cref="DecodeLinear"/> (packed copies of the weights: as much memory
    /// again as the layers) and, with <see cref="SampleOnHost"/>, the vocabulary projection and sampling in one pass by
    /// <see cref="VocabSampler"/> (the last two need AVX-512). Every kernel computes each sequence's values with the
    /// same float operations whatever shares the batch, so a seed fixes tokens and log-probs bit for bit. Off, or
    /// elsewhere: torch's operators (SDPA over the cache with a mask, nn.Linear, W h^T and <see cref="HostSampler"/>).
    /// The two paths agree within float rounding (tests: the same tokens, log-probs within 1e-4, on the test models).
    /// </summary>
    public bool DecodeKernels { get; init; } = true;
    /// <summary>
    /// libtorch intra-op threads of the engine's compute thread (<see cref="Runtime.ComputeThreads"/>); null: one for
    /// a model under a million parameters on the CPU, else the process's count. <see cref="GenerationEngine"/> applies
    /// it on its thread; a <see cref="ContinuousBatcher"/> driven directly runs with its caller's.
    /// </summary>
    public int? Threads { get; init; }
}

/// <summary>
/// Continuous batching over one model: sequences decode together, one token per step, each with its own KV cache slot
/// and position. New requests join between steps (their prompts are prefilled in one padded batch) and finished
/// sequences leave at once, so nobody waits for the slowest. Not thread-safe: one thread drives
/// <see cref="Step"/> (see <see cref="GenerationEngine"/>).
/// </summary>
public sealed class ContinuousBatcher : IDisposable
{
    private readonly CausalLM _model;
    private readonly ITokenizer _tokenizer;
    private readonly EngineOptions _options;
    private readonly int _maxLength;
    private readonly HashSet<int> _endTokens;
    private readonly Queue<SequenceState> _waiting = new();
    private readonly List<SequenceState> _active = [];
    private KvCache? _cache;
    private Tensor? _outputTransposed;

    public ContinuousBatcher(CausalLM model, ITokenizer tokenizer, EngineOptions? options = null)
    {
        _model = model;
        _tokenizer = tokenizer;
        _options = options ?? new EngineOptions();
        _maxLength = Math.Min(_options.MaxSequenceLength ?? model.Config.MaxPositionEmbeddings, model.Config.MaxPositionEmbeddings);
        if (_options.MaxBatch <= 0)
        {
            throw new ArgumentException($"engine: max batch must be positive (got {_options.MaxBatch}).");
        }
        if (tokenizer.VocabSize > model.Config.VocabSize)
        {
            throw new ArgumentException($"engine: tokenizer has {tokenizer.VocabSize} tokens but the model's vocab_size is {model.Config.VocabSize}.");
        }
        RefreshWeights();
        _endTokens = [tokenizer.EosId, tokenizer.TurnEndId];
        if (model.Config.EosTokenId is int eos)
        {
            _endTokens.Add(eos);
        }
    }

    public int ActiveCount => _active.Count;
    public int WaitingCount => _waiting.Count;
    public bool HasWork => _active.Count > 0 || _waiting.Count > 0;
    public long Steps { get; private set; }
    /// <summary>Most sequences that ever decoded together in one step.</summary>
    public int PeakBatch { get; private set; }
    /// <summary>Sequences decoded per step, on average over the steps that decoded any.</summary>
    public double MeanBatch => _decodeSteps == 0 ? 0 : (double)_decodedSequences / _decodeSteps;
    private long _decodeSteps, _decodedSequences;
    /// <summary>Where the engine's steps spent their time (cumulative; read for profiles, never reset).</summary>
    public EngineTimes Times { get; } = new();
    public long GeneratedTokens { get; private set; }
    public CausalLM Model => _model;
    /// <summary>Version of the weights in the model, stamped on every sampled token's sequence.</summary>
    public long WeightsVersion { get; private set; }

    /// <summary>
    /// Rebuilds what the engine derives from the weights: the decode kernels' packed copies of the projections
    /// (<see cref="DecodeLinear"/>, repacked on the next step) and, on the torch path, a contiguous transposed copy of
    /// the output projection (1.4-3x faster vocabulary matmul on CPU). Call after changing the model's weights in
    /// place, or decoding keeps using the old ones; <see cref="GenerationEngine.RunBetweenStepsAsync"/> does so itself.
    /// </summary>
    public void RefreshWeights(long? version = null)
    {
        if (version is long v)
        {
            WeightsVersion = v;
        }
        _outputTransposed?.Dispose();
        _outputTransposed = null;
        _decodeKernels?.Invalidate();
        _vocabSampler?.Invalidate();
        if (_options.TransposedOutputWeight && !SamplesOnHost)
        {
            using var noGrad = no_grad();
            _outputTransposed = _model.OutputWeight.detach().t().contiguous().DetachFromDisposeScope();
        }
    }

    /// <summary>Logits by column and <see cref="HostSampler"/> (float32 weights in host memory, <see cref="EngineOptions.SampleOnHost"/>).</summary>
    private bool SamplesOnHost => _options.SampleOnHost && Runtime.NativeTensor.IsHostFloat32(_model.OutputWeight);

    /// <summary>
    /// Whether decode steps and prefill run the C# kernels: <see cref="EngineOptions.DecodeKernels"/> on, a float32
    /// model in host memory, and libtorch's OpenMP runtime found (see <see cref="KernelDecodeAccess"/>).
    /// </summary>
    public bool DecodesWithKernels => _options.DecodeKernels && _model.DType == ScalarType.Float32
        && _model.Device.type == TorchSharp.DeviceType.CPU && Runtime.TorchThreads.Available;

    private DecodeKernels? _decodeKernels;
    private VocabSampler? _vocabSampler;

    /// <summary>The projection and sampling by <see cref="VocabSampler"/> (see <see cref="EngineOptions.DecodeKernels"/>).</summary>
    private bool UsesVocabKernel => DecodesWithKernels && SamplesOnHost && VocabSampler.Supported;

    /// <summary>float32 logits [n, V] for hidden states [n, D].</summary>
    private Tensor Logits(Tensor hidden) =>
        _outputTransposed is null ? _model.Logits(hidden) : hidden.matmul(_outputTransposed).to(ScalarType.Float32);

    /// <summary>
    /// float32 logits by column, [V, n], as W h^T. On 2 CPU cores this ran 1.2-3x faster than h W^T for n = 2..64;
    /// a single row goes through torch's matrix-vector path, which was 3x slower than the same product with the row
    /// given twice (as a copy: a broadcast view was as slow), so one row is computed as two and one column kept.
    /// </summary>
    private Tensor ColumnLogits(Tensor hidden)
    {
        if (hidden.shape[0] == 1)
        {
            return _model.OutputWeight.matmul(hidden.repeat(2, 1).t()).narrow(1, 0, 1);
        }
        return _model.OutputWeight.matmul(hidden.t());
    }

    /// <summary>Queues a request; the task completes when its sequence finishes (or fails validation).</summary>
    public Task<GenerationResult> Enqueue(GenerationRequest request)
    {
        var completion = new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            request.Sampling.Validate();
            if (request.PromptIds.Count == 0)
            {
                throw new ArgumentException("request: the prompt is empty; at least one token is needed.");
            }
            if (request.PromptIds.Count >= _maxLength)
            {
                throw new ArgumentException($"request: the prompt has {request.PromptIds.Count} tokens but the engine's context length is {_maxLength}.");
            }
            foreach (int id in request.PromptIds)
            {
                if (id < 0 || id >= _model.Config.VocabSize)
                {
                    throw new ArgumentException($"request: prompt token id {id} is outside the vocabulary (0..{_model.Config.VocabSize - 1}).");
                }
            }
            _waiting.Enqueue(new SequenceState(request, request.Sampling.MaxNewTokens, completion));
        }
        catch (ArgumentException e)
        {
            completion.SetException(e);
        }
        return completion.Task;
    }

    /// <summary>Runs requests to completion on the calling thread; results in request order.</summary>
    public GenerationResult[] Generate(IReadOnlyList<GenerationRequest> requests)
    {
        Task<GenerationResult>[] tasks = requests.Select(Enqueue).ToArray();
        while (HasWork)
        {
            Step();
        }
        return tasks.Select(t => t.GetAwaiter().GetResult()).ToArray();
    }

    /// <summary>
    /// One engine step: decode one token for every running sequence, retire finished ones, admit new ones. On the C#
    /// kernels, prompts admitted while sequences run share their decode forward (packed, see <see cref="DecodeAndPrefill"/>).
    /// </summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (_options.UseKvCache)
        {
            if (_active.Count > 0 && _waiting.Count > 0 && DecodesWithKernels && _active.Count < _options.MaxBatch)
            {
                // Running sequences and new prompts in one packed forward: one pass's fixed cost instead of two.
                long start = Stopwatch.GetTimestamp();
                List<SequenceState> admitted = TakeAdmissible(_active.Count);
                DecodeAndPrefill(admitted);
                Retire();
                Times.DecodeForwards++;
                Times.MixedForwards++;
                Times.PrefillSequences += admitted.Count;
                Times.PrefillTokens += admitted.Sum(s => (long)s.Prompt.Length);
                Times.PrefillPaddedTokens += admitted.Sum(s => (long)s.Prompt.Length);
                Times.DecodeSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            else if (_active.Count > 0)
            {
                long start = Stopwatch.GetTimestamp();
                DecodeCached();
                Retire();
                Times.DecodeForwards++;
                Times.DecodeSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            // On the kernels, prompts that wait while sequences run join the next step's packed forward (their first token
            // comes from the same forward as a separate prefill would be); with nothing running they prefill alone now.
            if (!DecodesWithKernels || _active.Count == 0)
            {
                Admit();
            }
        }
        else
        {
            while (_waiting.Count > 0 && _active.Count < _options.MaxBatch)
            {
                _active.Add(_waiting.Dequeue());
            }
            if (_active.Count > 0)
            {
                DecodeRecompute();
                Retire();
            }
        }
        Steps++;
    }

    /// <summary>Waiting prompts that fit beside <paramref name="running"/> sequences and the prefill token budget (at least one).</summary>
    private List<SequenceState> TakeAdmissible(int running)
    {
        var admitted = new List<SequenceState>();
        int tokens = 0;
        while (_waiting.Count > 0 && running + admitted.Count < _options.MaxBatch)
        {
            int next = _waiting.Peek().Prompt.Length;
            if (admitted.Count > 0 && tokens + next > _options.MaxPrefillTokens)
            {
                break;
            }
            tokens += next;
            admitted.Add(_waiting.Dequeue());
        }
        return admitted;
    }

    private void Admit()
    {
        List<SequenceState> admitted = TakeAdmissible(_active.Count);
        if (admitted.Count == 0)
        {
            return;
        }
        _cache ??= new KvCache(_model.Config, _options.MaxBatch, _maxLength, _model.Device, _model.DType);
        int first = _active.Count;
        _active.AddRange(admitted);
        long start = Stopwatch.GetTimestamp();
        Prefill(admitted, first);
        Retire();
        Times.PrefillForwards++;
        Times.PrefillSequences += admitted.Count;
        Times.PrefillTokens += admitted.Sum(s => (long)s.Prompt.Length);
        Times.PrefillPaddedTokens += (long)admitted.Count * admitted.Max(s => s.Prompt.Length);
        Times.PrefillSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Writes the prompts into slots first.. and samples each sequence's first token.</summary>
    private void Prefill(List<SequenceState> sequences, int firstSlot)
    {
        int n = sequences.Count;
        int t = sequences.Max(s => s.Prompt.Length);
        long[] ids = new long[n * t];
        long[] lengths = new long[n];
        for (int i = 0; i < n; i++)
        {
            int[] prompt = sequences[i].Prompt;
            for (int j = 0; j < prompt.Length; j++)
            {
                ids[i * t + j] = prompt[j];
            }
            lengths[i] = prompt.Length;
        }
        Device device = _model.Device;
        Tensor input = tensor(ids, [n, t], device: device);
        Tensor lengthTensor = tensor(lengths, device: device);
        Tensor positions = arange(t, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(n, t);
        Tensor hidden;   // [n, T, D]
        if (DecodesWithKernels)
        {
            hidden = KernelHidden(input, positions, firstSlot, new int[n], Array.ConvertAll(lengths, l => (int)l));
        }
        else
        {
            Tensor mask = _model.CausalMask(t, lengthTensor, n);
            Tensor slots = arange(firstSlot, firstSlot + n, dtype: ScalarType.Int64, device: device);
            hidden = _model.Hidden(input, positions, mask, new PrefillAccess(_cache!, slots));
        }
        Tensor last = arange(n, dtype: ScalarType.Int64, device: device) * t + (lengthTensor - 1);
        foreach (SequenceState s in sequences)
        {
            s.CachedLength = s.Prompt.Length;
        }
        SampleInto(sequences, hidden.reshape(n * t, -1).index_select(0, last));
    }

    /// <summary>
    /// One packed forward through the C# kernels: each running sequence's newest token at its own position, then the
    /// admitted prompts (slots after the running ones) from position 0, no padding; every sequence samples its next
    /// token from its last row. Each token's values are computed as in separate decode and prefill forwards.
    /// </summary>
    private void DecodeAndPrefill(List<SequenceState> admitted)
    {
        _cache ??= new KvCache(_model.Config, _options.MaxBatch, _maxLength, _model.Device, _model.DType);
        int running = _active.Count;
        _active.AddRange(admitted);
        int n = _active.Count;
        int[] starts = new int[n], counts = new int[n], offsets = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++)
        {
            SequenceState s = _active[i];
            (starts[i], counts[i]) = i < running ? (s.CachedLength, 1) : (0, s.Prompt.Length);
            offsets[i] = total;
            total += counts[i];
        }
        long[] ids = new long[total], positions = new long[total];
        long[] last = new long[n];
        for (int i = 0; i < n; i++)
        {
            SequenceState s = _active[i];
            for (int j = 0; j < counts[i]; j++)
            {
                ids[offsets[i] + j] = i < running ? s.Tokens[^1] : s.Prompt[j];
                positions[offsets[i] + j] = starts[i] + j;
            }
            last[i] = offsets[i] + counts[i] - 1;
        }
        Device device = _model.Device;
        Tensor hidden = KernelHidden(tensor(ids, [1, total], device: device), tensor(positions, [1, total], device: device), 0, starts, counts, offsets);   // [1, N, D]
        for (int i = 0; i < n; i++)
        {
            SequenceState s = _active[i];
            s.CachedLength = i < running ? s.CachedLength + 1 : s.Prompt.Length;
        }
        SampleInto(_active, hidden.reshape(total, -1).index_select(0, tensor(last, device: device)));
    }

    /// <summary>Feeds each running sequence's newest token at its own position, attending to its cached past.</summary>
    private void DecodeCached()
    {
        int b = _active.Count;
        Device device = _model.Device;
        long[] ids = new long[b];
        long[] pos = new long[b];
        for (int i = 0; i < b; i++)
        {
            ids[i] = _active[i].Tokens[^1];
            pos[i] = _active[i].CachedLength;
        }
        Tensor input = tensor(ids, [b, 1], device: device);
        Tensor position = tensor(pos, [b, 1], device: device);
        Tensor hidden;
        if (DecodesWithKernels)
        {
            hidden = KernelHidden(input, position, 0, Array.ConvertAll(pos, p => (int)p), null);
        }
        else
        {
            int attend = (int)pos.Max() + 1;
            Tensor keyIndex = arange(attend, dtype: ScalarType.Int64, device: device);
            Tensor blocked = keyIndex.unsqueeze(0) > position;                                      // [B, Tk]
            Tensor mask = zeros([b, 1, 1, attend], dtype: ScalarType.Float32, device: device)
                .masked_fill(blocked.view(b, 1, 1, attend), CausalLM.BlockedScalar);
            Tensor writeIndex = position.view(b, 1, 1, 1)
                .expand(b, _model.Config.NumKeyValueHeads, 1, _model.Config.HeadDim).contiguous();
            hidden = _model.Hidden(input, position, mask, new DecodeAccess(_cache!, writeIndex, attend));
        }
        foreach (SequenceState s in _active)
        {
            s.CachedLength++;
        }
        SampleInto(_active, hidden.squeeze(1));
    }

    /// <summary>
    /// Hidden states through the C# kernels (<see cref="KernelDecodeAccess"/>): sequence i in slot firstSlot + i brings
    /// counts[i] tokens (null: all) at positions starts[i]..; no mask is built, the kernels attend by position. With
    /// <paramref name="offsets"/> the input is packed ([1, N]; see <see cref="DecodeAndPrefill"/>).
    /// </summary>
    private Tensor KernelHidden(Tensor input, Tensor positions, int firstSlot, int[] starts, int[]? counts, int[]? offsets = null)
    {
        _decodeKernels ??= new DecodeKernels(_model.Config, _cache!.MaxLength);
        _noMask ??= empty(0, dtype: ScalarType.Float32, device: _model.Device).DetachFromDisposeScope();
        return _model.Hidden(input, positions, _noMask, new KernelDecodeAccess(_cache!, firstSlot, starts, counts, _decodeKernels, offsets));
    }

    private Tensor? _noMask;

    /// <summary>Baseline without a cache: a full forward over every sequence each step.</summary>
    private void DecodeRecompute()
    {
        int b = _active.Count;
        int t = _active.Max(s => s.TotalLength);
        long[] ids = new long[b * t];
        long[] lengths = new long[b];
        for (int i = 0; i < b; i++)
        {
            SequenceState s = _active[i];
            for (int j = 0; j < s.Prompt.Length; j++)
            {
                ids[i * t + j] = s.Prompt[j];
            }
            for (int j = 0; j < s.Tokens.Count; j++)
            {
                ids[i * t + s.Prompt.Length + j] = s.Tokens[j];
            }
            lengths[i] = s.TotalLength;
        }
        Device device = _model.Device;
        Tensor lengthTensor = tensor(lengths, device: device);
        Tensor positions = arange(t, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(b, t);
        Tensor hidden = _model.Hidden(tensor(ids, [b, t], device: device), positions, _model.CausalMask(t, lengthTensor, b));
        Tensor last = arange(b, dtype: ScalarType.Int64, device: device) * t + (lengthTensor - 1);
        SampleInto(_active, hidden.reshape(b * t, -1).index_select(0, last));
    }

    /// <summary>Samples each sequence's next token from its final hidden state (rows of [n, D]).</summary>
    private void SampleInto(IReadOnlyList<SequenceState> sequences, Tensor hidden)
    {
        PeakBatch = Math.Max(PeakBatch, sequences.Count);
        _decodeSteps++;
        _decodedSequences += sequences.Count;
        List<SamplingParams> sampling = sequences.Select(s => s.Request.Sampling).ToList();
        List<SplitMix64> rngs = sequences.Select(s => s.Rng).ToList();
        // On the host, logits are computed as W h^T ([V, n], faster here than h W^T) and sampled by column.
        TokenSampler.Choice[] choices = UsesVocabKernel
            ? (_vocabSampler ??= new VocabSampler()).Sample(_model.OutputWeight, hidden, sampling, rngs)
            : SamplesOnHost
                ? HostSampler.Sample(ColumnLogits(hidden), sampling, rngs)
                : TokenSampler.Sample(Logits(hidden), sampling, rngs);
        for (int i = 0; i < sequences.Count; i++)
        {
            sequences[i].Append(choices[i].Token, choices[i].LogProb, WeightsVersion, _tokenizer, _endTokens, _maxLength);
        }
        GeneratedTokens += sequences.Count;
    }

    /// <summary>Completes finished sequences and keeps live ones in slots 0..n-1 by moving the last one into each hole.</summary>
    private void Retire()
    {
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            SequenceState s = _active[i];
            if (s.Finished is null)
            {
                continue;
            }
            int last = _active.Count - 1;
            if (i != last)
            {
                _cache?.MoveSlot(last, i, _active[last].CachedLength);
                _active[i] = _active[last];
            }
            _active.RemoveAt(last);
            s.Completion.TrySetResult(s.ToResult());
        }
    }

    /// <summary>Fails every queued and running request (used when the engine stops).</summary>
    public void FailAll(Exception error)
    {
        foreach (SequenceState s in _active.Concat(_waiting))
        {
            s.Completion.TrySetException(error);
        }
        _active.Clear();
        _waiting.Clear();
    }

    public void Dispose()
    {
        FailAll(new ObjectDisposedException(nameof(ContinuousBatcher)));
        _cache?.Dispose();
        _outputTransposed?.Dispose();
        _vocabSampler?.Dispose();
        _decodeKernels?.Dispose();
        _noMask?.Dispose();
    }
}

/// <summary>Cumulative time and work of an engine's forwards (a profile: the benchmarks print differences of two reads).</summary>
public sealed class EngineTimes
{
    /// <summary>Decode forwards (one token for every running sequence) and the seconds they took, sampling and retiring included.</summary>
    public long DecodeForwards { get; set; }
    /// <summary>Those decode forwards that also prefilled new prompts (packed, C# kernels): their prompts count under Prefill* too.</summary>
    public long MixedForwards { get; set; }
    public double DecodeSeconds { get; set; }
    /// <summary>Prefill-only forwards (the prompts admitted in one step), all prompts admitted, their tokens with and without padding, and the prefill-only seconds.</summary>
    public long PrefillForwards { get; set; }
    public long PrefillSequences { get; set; }
    public long PrefillTokens { get; set; }
    public long PrefillPaddedTokens { get; set; }
    public double PrefillSeconds { get; set; }
    /// <summary>Seconds the engine's thread waited with nothing to run (no running sequence, no prompt queued).</summary>
    public double IdleSeconds { get; private set; }
    private long _idleSince;
    private readonly object _gate = new();

    /// <summary>The engine's thread starts waiting (<see cref="EndWait"/> adds the wait to <see cref="IdleSeconds"/>).</summary>
    public void BeginWait()
    {
        lock (_gate)
        {
            _idleSince = Stopwatch.GetTimestamp();
        }
    }

    public void EndWait()
    {
        lock (_gate)
        {
            IdleSeconds += Stopwatch.GetElapsedTime(_idleSince).TotalSeconds;
            _idleSince = 0;
        }
    }

    /// <summary>
    /// A copy, with the wait in progress counted up to now (so two reads around a period measure that period). The
    /// other counters are written by the engine's thread without a lock: a read may lag by one step.
    /// </summary>
    public EngineTimes Snapshot()
    {
        lock (_gate)
        {
            var copy = (EngineTimes)MemberwiseClone();
            if (_idleSince != 0)
            {
                copy.IdleSeconds += Stopwatch.GetElapsedTime(_idleSince).TotalSeconds;
            }
            return copy;
        }
    }
}
