using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using ReMA.Abstractions.Learning;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;

namespace ReMA.Grains.Policy;

/// <summary>
/// A policy replica. Reentrant: while one request awaits its tokens, the grain accepts more, and they all join the
/// same continuous batch. The engine runs on its own compute thread; this grain only hands requests over and awaits
/// them, so the Orleans scheduler never runs tensor code.
/// </summary>
[Reentrant]
[Orleans.Placement.PreferLocalPlacement]   // a per-silo replica ("policy/silo-...") activates on the silo whose agents call it
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The engine and model are disposed in OnDeactivateAsync.")]
public sealed class PolicyGrain(PolicySources sources, ILocalSiloDetails silo, ReMA.Grains.Storage.ICheckpointStore checkpoints, ILogger<PolicyGrain> logger)
    : Grain, IPolicyGrain
{
    private CausalLM? _model;
    private ITokenizer? _tokenizer;
    private ChatTemplate? _chat;
    private GenerationEngine? _engine;
    private PolicySource? _source;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        _source = await sources.ResolveAsync(key);
        PolicySource source = _source;
        // Loading reads files and initialises tensors: keep it off the grain scheduler.
        (_model, _tokenizer) = await Task.Run(() => PolicyModelLoader.Load(source), cancellationToken);
        _chat = new ChatTemplate(_tokenizer);
        _engine = new GenerationEngine(_model, _tokenizer, new EngineOptions
        {
            MaxBatch = source.MaxBatch,
            MaxSequenceLength = source.MaxSequenceLength,
            DecodeKernels = source.DecodeKernels,
            Threads = source.Threads,
        }, name: key);
        var learner = GrainFactory.GetGrain<ILearnerGrain>(PolicyKey.PolicyId(key));
        if (PolicyKey.PinnedVersion(key) is long pinned)
        {
            // A pinned replica serves one version for forks and evaluations; it is not registered, so no update reaches it.
            if (pinned > 0)
            {
                string pinnedLocation = await learner.Checkpoint(pinned)
                    ?? throw new ArgumentException($"policy {PolicyKey.PolicyId(key)}: version {pinned} has no kept checkpoint (kept: {string.Join(", ", await learner.Checkpoints())}; set keep_every to keep more).");
                string folder = await checkpoints.FetchAsync(pinnedLocation, cancellationToken);
                await _engine.RunBetweenStepsAsync(model => ModelFolder.LoadWeights(model, folder), pinned);
            }
            logger.LogInformation("Policy {Policy} activated on {Silo}, pinned to version {Version}", key, silo.SiloAddress, pinned);
            return;
        }
        // Registered before reading the latest version: a learner publishing after this sees the replica, and one
        // that published before it has already recorded the version read below.
        await GrainFactory.GetGrain<IPolicyRegistryGrain>(PolicyKey.PolicyId(key)).AddReplica(key);
        // A replica that (re)activates after its learner has published serves the latest version, not the initial weights.
        var latest = await learner.Latest();
        if (latest.Version > 0 && latest.CheckpointPath is string location)
        {
            string path = await checkpoints.FetchAsync(location, cancellationToken);
            await _engine.RunBetweenStepsAsync(model => ModelFolder.LoadWeights(model, path), latest.Version);
        }
        logger.LogInformation("Policy {Policy} activated on {Silo}: {Architecture}, {Parameters} parameters on {Device}, version {Version}",
            key, silo.SiloAddress, _model.Config.Architecture, _model.ParameterCount(), source.Device, latest.Version);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _engine?.Dispose();
        _model?.Dispose();
        return Task.CompletedTask;
    }

    async Task<GenerateResponse> IPolicyGrain.Generate(GenerateRequest request)
    {
        GenerationResult result = await _engine!.GenerateAsync(new GenerationRequest(request.PromptIds, PolicySampling.ToEngine(request.Sampling), request.RequestId));
        return PolicySampling.ToResponse(request.RequestId, result);
    }

    async Task IPolicyGrain.LoadVersion(string modelPath, long version)
    {
        if (version <= _engine!.WeightsVersion || PolicyKey.PinnedVersion(this.GetPrimaryKeyString()) is not null)
        {
            return;   // already serving it (a repeated publication) or something newer
        }
        string folder = await checkpoints.FetchAsync(modelPath);   // a local folder, or a Blob location downloaded first
        await _engine!.RunBetweenStepsAsync(model => ModelFolder.LoadWeights(model, folder), version);
        logger.LogInformation("Policy {Policy} now serves version {Version} from {Path}", this.GetPrimaryKeyString(), version, modelPath);
    }

    Task<int[]> IPolicyGrain.RenderChat(ChatTurn[] messages, bool addGenerationPrompt) =>
        Task.FromResult(_chat!.Render(messages.Select(m => new ChatMessage(m.Role, m.Content)), addGenerationPrompt));

    Task<PolicyInfo> IPolicyGrain.GetInfo() => Task.FromResult(new PolicyInfo(
        this.GetPrimaryKeyString(), _model!.Config.Architecture, _model.ParameterCount(), _tokenizer!.VocabSize,
        _source!.Device, _engine!.WeightsVersion, silo.SiloAddress.ToString(), _engine!.GeneratedTokens,
        _engine.PeakBatch, _engine.MeanBatch, _engine.DecodesWithKernels));
}
