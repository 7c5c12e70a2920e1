using Microsoft.Extensions.Logging;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Learning;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;

namespace ReMA.Grains.Learning;

/// <summary>
/// The learner of one policy (keyed by policy id). Not reentrant: steps are applied one at a time, in order. The
/// update runs on a thread-pool thread inside one Task.Run (TorchSharp scopes never cross an await); the grain only
/// awaits it. Its state (setup, version, last step) is persisted, and a reactivated learner reloads its latest
/// checkpoint, so a step is applied exactly once even across restarts.
/// </summary>
[ReMA.Grains.Placement.SiloRole(ReMA.Grains.Placement.SiloRoles.Learner)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The model and updater are disposed in OnDeactivateAsync.")]
public sealed class LearnerGrain(
    [PersistentState("learner")] IPersistentState<LearnerState> state,
    PolicySources sources,
    IGrainFactory grains,
    IClusterMembershipService membership,
    ReMA.Grains.Storage.ICheckpointStore checkpoints,
    ILogger<LearnerGrain> logger) : Grain, ILearnerGrain
{
    private CausalLM? _model;
    private ITokenizer? _tokenizer;
    private PolicyUpdater? _updater;
    /// <summary>libtorch threads of an update and of fine-tuning (<see cref="ReMA.Learner.Runtime.ComputeThreads.ForLearner"/>).</summary>
    private int _stepThreads, _sftThreads;
    /// <summary>Cores an update or fine-tuning holds while it runs (0 for a model off the CPU).</summary>
    private int CoresOf(int threads) => _model!.Device.type == TorchSharp.DeviceType.CPU ? threads : 0;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Setup is not null)
        {
            await BuildAsync(state.State.Setup);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _updater?.Dispose();
        _model?.Dispose();
        return Task.CompletedTask;
    }

    async Task ILearnerGrain.Configure(LearnerSetup setup)
    {
        if (state.State.Setup is not null)
        {
            return;   // configured before (possibly before a restart): keep the trained weights
        }
        state.State.Setup = setup;
        await BuildAsync(setup);
        await state.WriteStateAsync();
    }

    Task<long> ILearnerGrain.Version() => Task.FromResult(state.State.Version);

    Task<long> ILearnerGrain.LastStep() => Task.FromResult(state.State.LastStep);

    Task<string?> ILearnerGrain.Checkpoint(long version) =>
        Task.FromResult(state.State.Checkpoints.TryGetValue(version, out string? location) ? location : null);

    Task<long[]> ILearnerGrain.Checkpoints() => Task.FromResult(state.State.Checkpoints.Keys.Order().ToArray());

    Task<PublishedVersion> ILearnerGrain.Latest() => Task.FromResult(new PublishedVersion(state.State.Version, state.State.LatestCheckpoint));

    async Task<LearnerStepResult> ILearnerGrain.Step(long step, TrajectoryRecord[] rows)
    {
        LearnerSetup setup = state.State.Setup ?? throw new InvalidOperationException($"learner {this.GetPrimaryKeyString()} is not configured.");
        if (step <= state.State.LastStep)
        {
            // Applied before (a retried call): the same result, no second update; the publication may not have finished.
            LearnerStepResult previous = state.State.LastResult ?? throw new InvalidOperationException($"learner {this.GetPrimaryKeyString()}: step {step} is older than the last applied step {state.State.LastStep}.");
            await PublishAsync(setup, previous.CheckpointPath, previous.Version);
            return previous;
        }
        long version = state.State.Version + 1;
        string root = setup.CheckpointRoot;
        var metadata = new Dictionary<string, string> { ["policy"] = this.GetPrimaryKeyString(), ["version"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        UpdateMetrics metrics;
        int filtered;
        string path;
        using (await ReMA.Learner.Runtime.ComputeThreads.ReserveAsync(CoresOf(_stepThreads)))
        {
            (metrics, filtered, path) = await Task.Run(() =>
            {
                var result = Advantages.Compute(rows.Select(EpisodeGrain.FromRecord).ToList(), AlgorithmOptions.Advantage(setup.Algorithm));
                UpdateMetrics m = _updater!.Update(result.Rows);
                string saved = TrainingCheckpoint.Save(root, version, _updater, _tokenizer, metadata);
                return (m, result.FilteredGroups, saved);
            });
        }
        path = await checkpoints.PublishAsync(path, CampaignOfPolicy(this.GetPrimaryKeyString()), this.GetPrimaryKeyString(), version);
        var stepResult = new LearnerStepResult(step, version, path, ToMetrics(metrics, filtered));
        state.State.Version = version;
        state.State.LastStep = step;
        state.State.LastResult = stepResult;
        state.State.LatestCheckpoint = path;
        state.State.Checkpoints[version] = path;
        await state.WriteStateAsync();
        // Then publish to every replica (they swap weights between decode steps); one activating from now on reads
        // the version just written.
        await PublishAsync(setup, path, version);
        Prune(setup, version);
        logger.LogInformation("Learner {Policy}: step {Step} -> version {Version} (loss {Loss:F4}, {Rows} rows)", this.GetPrimaryKeyString(), step, version, metrics.Loss, metrics.Rows);
        return stepResult;
    }

    async Task<SftResult> ILearnerGrain.Sft(TrajectoryRecord[] rows, SftSpec spec)
    {
        LearnerSetup setup = state.State.Setup ?? throw new InvalidOperationException($"learner {this.GetPrimaryKeyString()} is not configured.");
        if (rows.Length == 0)
        {
            throw new ArgumentException("sft: no demonstration rows.");
        }
        long version = state.State.Version + 1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using IDisposable cores = await ReMA.Learner.Runtime.ComputeThreads.ReserveAsync(CoresOf(_sftThreads));
        (double before, double after, int steps, string path) = await Task.Run(() =>
        {
            var data = rows.Select(EpisodeGrain.FromRecord).ToList();
            int perEpoch = (data.Count + spec.BatchRows - 1) / spec.BatchRows;
            int total = spec.Steps > 0 ? spec.Steps : perEpoch * spec.Epochs;
            LearningRateSchedule schedule = AlgorithmOptions.SftSchedule(spec, total);
            using var trainer = new SftTrainer(_model!, AlgorithmOptions.SftOptimizer(spec, setup.Algorithm), schedule,
                new SftOptions { MicroBatchTokens = setup.Algorithm.MicroBatchTokens, MaxGradNorm = setup.Algorithm.MaxGradNorm, Threads = _sftThreads }, (ulong)setup.Seed);
            // Loss before and after on a fixed sample (a full pass over tens of thousands of rows costs more than it tells).
            var sample = data.Count <= 2048 ? data : Enumerable.Range(0, 2048).Select(i => data[(int)((long)i * data.Count / 2048)]).ToList();
            double lossBefore = trainer.EvaluationLoss(sample);
            int count = 0;
            while (count < total)
            {
                foreach (var batch in trainer.EpochBatches(data, spec.BatchRows))
                {
                    trainer.Step(batch);
                    if (++count == total)
                    {
                        break;
                    }
                }
            }
            double lossAfter = trainer.EvaluationLoss(sample);
            // The RL optimizer starts fresh after the warm start; its checkpoint holds the fine-tuned weights.
            string saved = TrainingCheckpoint.Save(setup.CheckpointRoot, version, _updater!, _tokenizer, new Dictionary<string, string> { ["stage"] = "sft" });
            return (lossBefore, lossAfter, count, saved);
        });
        cores.Dispose();   // publication needs no cores
        path = await checkpoints.PublishAsync(path, CampaignOfPolicy(this.GetPrimaryKeyString()), this.GetPrimaryKeyString(), version);
        state.State.Version = version;
        state.State.LatestCheckpoint = path;
        state.State.Checkpoints[version] = path;
        await state.WriteStateAsync();
        await PublishAsync(setup, path, version);
        Prune(setup, version);
        return new SftResult(version, path, rows.Length, steps, before, after, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Once every replica serves <paramref name="published"/>, the previous version's checkpoint is only needed if it is
    /// one to keep (a multiple of KeepEvery, or the SFT warm start's).
    /// </summary>
    private void Prune(LearnerSetup setup, long published)
    {
        long previous = published - 1;
        if (setup.KeepEvery <= 0 || previous <= 0 || previous % setup.KeepEvery == 0)
        {
            return;
        }
        string folder = Path.Combine(setup.CheckpointRoot, TrainingCheckpoint.FolderName(previous));
        if (TrainingCheckpoint.Metadata(folder).TryGetValue("stage", out string? stage) && stage == "sft")
        {
            return;   // the RL stage's starting point: kept for comparisons (rema eval --swap, the demo's role swap)
        }
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        if (state.State.Checkpoints.TryGetValue(previous, out string? location) && !Directory.Exists(location)
            && string.Equals(Path.GetFullPath(location), Path.GetFullPath(folder), StringComparison.Ordinal))
        {
            state.State.Checkpoints.Remove(previous);   // a local folder just deleted; remote copies stay readable
        }
    }

    private async Task BuildAsync(LearnerSetup setup)
    {
        PolicySource source = await sources.ResolveAsync(this.GetPrimaryKeyString());
        // Resuming: the latest published checkpoint, fetched to this silo when it lives in Blob storage.
        string? latest = state.State.LatestCheckpoint is string location ? await checkpoints.FetchAsync(location) : null;
        (_model, _tokenizer, _updater) = await Task.Run(() =>
        {
            (CausalLM model, ITokenizer tokenizer) = PolicyModelLoader.Load(source);
            _stepThreads = ReMA.Learner.Runtime.ComputeThreads.ForLearner(model, source.Threads, setup.Algorithm.OverlapRollout, setup.ConcurrentSteps);
            _sftThreads = ReMA.Learner.Runtime.ComputeThreads.ForLearner(model, source.Threads, besideRollouts: false, setup.ConcurrentSft);
            var updater = new PolicyUpdater(model, AlgorithmOptions.Optimizer(setup.Algorithm), AlgorithmOptions.Schedule(setup.Algorithm,
                    setup.Updates > 0 ? setup.Updates * setup.Algorithm.Epochs : 1_000_000),
                AlgorithmOptions.Loss(setup.Algorithm, setup.Temperature),
                AlgorithmOptions.Update(setup.Algorithm) with { Threads = _stepThreads },
                setup.Algorithm.KlCoefficient > 0 ? () => PolicyModelLoader.Load(source).Model : null, (ulong)setup.Seed);
            if (latest is not null)
            {
                TrainingCheckpoint.Load(latest, updater);
            }
            return (model, tokenizer, updater);
        });
    }

    /// <summary>
    /// Sends <paramref name="version"/> to the setup's named replicas and to every replica the policy registry knows
    /// (one per silo that served episodes). Replicas of silos that membership no longer lists as active are dropped
    /// from the registry instead of being called (a call would activate a stray replica elsewhere); a replica whose
    /// silo dies during the call is dropped too. Any other failure fails the step, whose retry publishes again.
    /// </summary>
    private async Task PublishAsync(LearnerSetup setup, string path, long version)
    {
        var registry = grains.GetGrain<IPolicyRegistryGrain>(this.GetPrimaryKeyString());
        var targets = setup.Replicas.Where(r => !PolicyKey.IsLocal(r)).Concat(await registry.Replicas()).Distinct(StringComparer.Ordinal).ToList();
        bool Gone(string replica) => PolicyKey.SiloOf(replica) is SiloAddress silo && membership.CurrentSnapshot.GetSiloStatus(silo) != SiloStatus.Active;
        foreach (string dead in targets.Where(Gone).ToList())
        {
            logger.LogInformation("Learner {Policy}: replica {Replica} is on a silo that is no longer active; dropped", this.GetPrimaryKeyString(), dead);
            await registry.RemoveReplica(dead);
            targets.Remove(dead);
        }
        await Task.WhenAll(targets.Select(async replica =>
        {
            try
            {
                await grains.GetGrain<IPolicyGrain>(replica).LoadVersion(path, version);
            }
            catch (Exception e) when (e is not OutOfMemoryException && Gone(replica))
            {
                logger.LogWarning("Learner {Policy}: replica {Replica} went away while receiving version {Version}; dropped", this.GetPrimaryKeyString(), replica, version);
                await registry.RemoveReplica(replica);
            }
        }));
    }

    /// <summary>Campaign policies are named "&lt;campaign&gt;.&lt;role or shared&gt;"; configured ones are their own campaign.</summary>
    private static string CampaignOfPolicy(string policy) => policy.LastIndexOf('.') is int dot and > 0 ? policy[..dot] : policy;

    private static LearnerMetrics ToMetrics(UpdateMetrics m, int filtered) => new(
        m.Rows, m.LossTokens, m.OptimizerSteps, m.Loss, m.ClipFractionTokens, m.ClipFractionTurns, m.ApproxKl, m.ReferenceKl,
        m.Entropy, m.GradNorm, m.RatioMean, m.RatioMin, m.RatioMax, m.OldLogProbDrift, m.LearningRate, m.TokensPerSecond, m.Seconds, filtered, m.SkippedRows,
        m.PassRowTokens, m.ComputedTokens);
}
