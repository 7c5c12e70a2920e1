using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Learning;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Grains.Services;
using ReMA.Learner.Tokenization;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Campaigns;

/// <summary>
/// A training campaign. The loop is a grain timer that runs one unit of work per tick (the SFT stage, one RL step,
/// an evaluation) and persists the state after each, so no grain call is long and a reactivated campaign continues
/// where it stopped. Status, history, pause, resume and cancel interleave with a running unit; pause and cancel
/// take effect at the next unit boundary.
/// </summary>
[ReMA.Grains.Placement.SiloRole(ReMA.Grains.Placement.SiloRoles.Learner)]
public sealed class CampaignGrain(
    [PersistentState("campaign", ReMAStorage.Campaigns)] IPersistentState<CampaignState> state,
    TaskCache tasks,
    PolicyTemplates templates,
    ReMA.Grains.Storage.ITrajectoryStore trajectories,
    ILocalSiloDetails silo,
    Microsoft.Extensions.Options.IOptions<CampaignLoopOptions> loopOptions,
    ILogger<CampaignGrain> logger) : Grain, ICampaignGrain, IRemindable
{
    private const string Reminder = "campaign-loop";

    private IGrainTimer? _timer;
    private bool _busy;
    // Infrastructure trouble (storage or a silo unavailable, a timeout) pauses the loop and retries with back-off.
    private bool _dirty;              // the in-memory state is ahead of storage (a write failed)
    private int _transientFailures;
    private DateTime _retryAt = DateTime.MinValue;
    private string? _warning;
    private DateTime? _storageLostSince;  // first of an unbroken run of "your data is gone" answers from storage

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        state.State.Activations++;   // recorded with the next write
        if (state.State.Status == "running")
        {
            StartTimer();
        }
        return Task.CompletedTask;
    }

    async Task<CampaignStatus> ICampaignGrain.Start(CampaignConfig config)
    {
        // Every bad field and every split the task lacks (eval.sets, task.train_split) in one error: an API submission
        // is refused here as a client's is before it submits.
        CampaignChecks.ThrowIfInvalid(config, $"campaign '{this.GetPrimaryKeyString()}'");
        if (config.Name != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"campaign name '{config.Name}' must equal the grain key '{this.GetPrimaryKeyString()}'.");
        }
        if (state.State.Config is not null)
        {
            return Snapshot();
        }
        var plan = new CampaignPlan(config);
        ITask task = tasks.Get(config.Task.Name, config.Task.Options);   // fail now, not in the loop, on a bad task
        // The built task's splits are the final word (datasets read); the options-only check above should agree.
        if (CampaignChecks.SplitErrors(config, task.Splits).ToList() is { Count: > 0 } missing)
        {
            throw new ArgumentException(CampaignConfigValidation.Report($"campaign '{this.GetPrimaryKeyString()}'", missing));
        }
        foreach (string policy in plan.Policies)
        {
            await GrainFactory.GetGrain<IPolicyRegistryGrain>(policy).Register(plan.Model);
            await GrainFactory.GetGrain<ILearnerGrain>(policy).Configure(new LearnerSetup(
                config.Algorithm, plan.CheckpointRoot(policy), [CampaignPlan.Replica(policy)], config.Seed, config.Sampling.Temperature,
                KeepEvery: config.CheckpointInterval, Updates: plan.UpdatesOf(policy),
                ConcurrentSft: plan.Policies.Count(), ConcurrentSteps: plan.PoliciesTrainedTogether));
        }
        await GrainFactory.GetGrain<ICampaignIndexGrain>(0).Add(config.Name);
        state.State.Config = config;
        state.State.Status = "running";
        state.State.Stage = config.Sft.Enabled ? "sft" : "rl";
        await state.WriteStateAsync();
        // The timer drives the loop while the grain is active; the reminder reactivates it (on any silo) if the
        // activation is lost, for example when its silo dies.
        await this.RegisterOrUpdateReminder(Reminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartTimer();
        logger.LogInformation("Campaign {Campaign} started: {Protocol}, {Steps} steps", config.Name, config.Protocol, config.Steps);
        return Snapshot();
    }

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        // Activation (OnActivateAsync) already restarted the timer of a running campaign; a finished one stops reminding.
        return state.State.Status is "completed" or "cancelled" or "failed" ? StopRemindingAsync() : Task.CompletedTask;
    }

    private async Task StopRemindingAsync()
    {
        if (await this.GetReminder(Reminder) is IGrainReminder reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    Task<CampaignStatus> ICampaignGrain.Status() => Task.FromResult(Snapshot());

    Task<StepRecord[]> ICampaignGrain.History() => Task.FromResult(state.State.History.ToArray());

    Task<CampaignConfig?> ICampaignGrain.Config() => Task.FromResult(state.State.Config);

    Task<CampaignStatus> ICampaignGrain.Pause() => SetStatus("running", "paused");

    Task<CampaignStatus> ICampaignGrain.Resume() => SetStatus("paused", "running");

    async Task<CampaignStatus> ICampaignGrain.Cancel()
    {
        if (state.State.Status is "running" or "paused" or "created")
        {
            state.State.Status = "cancelled";
            await PersistUnlessBusy();
            await StopRemindingAsync();
        }
        return Snapshot();
    }

    private async Task<CampaignStatus> SetStatus(string from, string to)
    {
        if (state.State.Status == from)
        {
            state.State.Status = to;
            await PersistUnlessBusy();
            if (to == "running")
            {
                StartTimer();
            }
        }
        return Snapshot();
    }

    /// <summary>A running unit writes the state when it ends; otherwise write now.</summary>
    private Task PersistUnlessBusy() => _busy ? Task.CompletedTask : state.WriteStateAsync();

    /// <summary>
    /// The loop's timer interleaves with other calls: a unit can take minutes (an SFT stage), and the reminder's
    /// delivery (and Start, which is a no-op once configured) must not wait for it. Units never overlap (_busy).
    /// </summary>
    /// <summary>How often the timer looks at a campaign that is not advancing (paused, waiting out a failure).</summary>
    private static readonly TimeSpan TickPeriod = TimeSpan.FromMilliseconds(200);

    private void StartTimer() => _timer ??= this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions
    {
        DueTime = TimeSpan.FromMilliseconds(10),
        Period = TickPeriod,
        KeepAlive = true,
        Interleave = true,
    });

    /// <summary>
    /// One unit per tick; after a unit that succeeded with the campaign still running, the next tick is due at once
    /// rather than a period later (waiting a period after every unit left the loop idle for about a tenth of an RL
    /// step of the reference preset). Each unit stays its own timer request, so deactivation, a silo's shutdown and
    /// migration wait for one unit, never for the whole campaign; calls interleave at every await.
    /// </summary>
    private async Task TickAsync(CancellationToken cancellation)
    {
        if (await UnitAsync() && !cancellation.IsCancellationRequested)
        {
            // A change during the callback takes effect when it completes: the next tick is queued immediately.
            _timer?.Change(TimeSpan.Zero, TickPeriod);
        }
    }

    /// <summary>One unit of the loop; true when it ran, succeeded, and the campaign is still running.</summary>
    private async Task<bool> UnitAsync()
    {
        if (_busy || state.State.Config is null || DateTime.UtcNow < _retryAt)
        {
            return false;
        }
        if (state.State.Status != "running")
        {
            if (_dirty)
            {
                await FlushAsync();
            }
            return false;
        }
        bool succeeded = false;
        _busy = true;
        try
        {
            if (_dirty)
            {
                await state.WriteStateAsync(CancellationToken.None);   // what the last unit did, before anything new
                _dirty = false;
            }
            await RunUnitAsync(new CampaignPlan(state.State.Config));
            _dirty = true;
            await state.WriteStateAsync(CancellationToken.None);       // the unit's outcome is always recorded
            _dirty = false;
            _transientFailures = 0;
            _warning = null;
            _storageLostSince = null;
            succeeded = true;
        }
        catch (Exception e) when (Transient.IsStorageLoss(e))
        {
            // Storage answers, but the container or table the campaign writes to is gone: retrying cannot restore it.
            DateTime now = DateTime.UtcNow;
            _storageLostSince ??= now;
            double limit = loopOptions.Value.StorageLossSeconds, lost = (now - _storageLostSince.Value).TotalSeconds;
            if (lost >= limit)
            {
                state.State.Status = "failed";
                state.State.Error = $"storage lost the campaign's data ({Transient.Describe(e)}) and did not get it back within {limit:F0} s "
                    + $"({CampaignLoopOptions.Section}:StorageLossSeconds); the campaign cannot continue";
                _warning = null;
                _dirty = true;   // written if storage comes back (FlushAsync); the failure is kept in memory meanwhile
                logger.LogError("Campaign {Campaign} failed: {Error}", this.GetPrimaryKeyString(), state.State.Error);
            }
            else
            {
                _transientFailures++;
                _retryAt = now + TimeSpan.FromSeconds(Math.Min(5, limit - lost));
                _warning = $"storage lost its data: {Transient.Describe(e)}; the campaign fails in {limit - lost:F0} s unless it comes back (attempt {_transientFailures})";
                logger.LogWarning("Campaign {Campaign}: {Warning}", this.GetPrimaryKeyString(), _warning);
            }
        }
        catch (Exception e) when (Transient.Is(e))
        {
            _storageLostSince = null;
            // Units are safe to repeat (learner steps are idempotent by step number), so the loop waits and tries again.
            _transientFailures++;
            TimeSpan wait = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(_transientFailures, 5)) / 2));
            _retryAt = DateTime.UtcNow + wait;
            _warning = $"{Transient.Describe(e)}; retrying in {wait.TotalSeconds:F0} s (attempt {_transientFailures})";
            if (e is Orleans.Storage.InconsistentStateException || e.InnerException is Orleans.Storage.InconsistentStateException)
            {
                DeactivateOnIdle();   // another activation wrote the state: reload it rather than retry with a stale ETag
            }
            logger.LogWarning("Campaign {Campaign}: {Warning}", this.GetPrimaryKeyString(), _warning);
        }
        catch (Exception e)
        {
            state.State.Status = "failed";
            state.State.Error = e.Message;
            logger.LogError(e, "Campaign {Campaign} failed", this.GetPrimaryKeyString());
            try
            {
                await state.WriteStateAsync(CancellationToken.None);
                _dirty = false;
            }
            catch (Exception write) when (Transient.Is(write))
            {
                _dirty = true;   // written by a later tick or call
            }
        }
        finally
        {
            _busy = false;
        }
        if (!_dirty && state.State.Status is "completed" or "failed")
        {
            await StopRemindingAsync();
        }
        return succeeded && state.State.Status == "running";
    }

    /// <summary>Writes state that an earlier write failed to store (the loop is not running).</summary>
    private async Task FlushAsync()
    {
        _busy = true;
        try
        {
            await state.WriteStateAsync(CancellationToken.None);
            _dirty = false;
            if (state.State.Status is "completed" or "failed")
            {
                await StopRemindingAsync();
            }
        }
        catch (Exception e) when (Transient.Is(e))
        {
            _retryAt = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task RunUnitAsync(CampaignPlan plan)
    {
        CampaignConfig c = plan.Config;
        ITask task = tasks.Get(c.Task.Name, c.Task.Options);
        _stageMark ??= (DateTime.UtcNow, SiloCpuSeconds());
        switch (state.State.Stage)
        {
            case "sft":
                state.State.Sft = await SftAsync(plan, task);
                EndStage("rl");
                break;
            case "rl" when state.State.EvaluatedAfter < state.State.NextStep && ShouldEvaluate(c, state.State.NextStep):
                state.State.Evaluations.AddRange(await EvaluateAsync(plan, task, state.State.NextStep));
                state.State.EvaluatedAfter = state.State.NextStep;
                break;
            case "rl" when state.State.NextStep < c.Steps:
                state.State.History.Add(await StepAsync(plan, task, state.State.NextStep));
                state.State.NextStep++;
                break;
            case "rl":
                EndStage("done");
                state.State.Status = "completed";
                break;
        }
    }

    /// <summary>When this activation began the current stage (or began working on it after a failover), and the CPU time then.</summary>
    private (DateTime Wall, double Cpu)? _stageMark;

    /// <summary>Records the current stage's wall and CPU time (since <see cref="_stageMark"/>) and moves to <paramref name="next"/>.</summary>
    private void EndStage(string next)
    {
        if (_stageMark is (DateTime wall, double cpu))
        {
            state.State.Stages.Add(new StageUsage(state.State.Stage, (DateTime.UtcNow - wall).TotalSeconds, SiloCpuSeconds() - cpu,
                Environment.ProcessorCount, silo.SiloAddress.ToString()));
        }
        state.State.Stage = next;
        _stageMark = (DateTime.UtcNow, SiloCpuSeconds());
    }

    /// <summary>Greedy evaluation before step <paramref name="next"/>: at the start (unless eval.at_start is off), every interval, and at the end.</summary>
    public static bool ShouldEvaluate(CampaignConfig c, long next) =>
        next >= c.Steps || (next == 0 ? c.Eval.AtStart : next % c.Eval.Interval == 0);

    /// <summary>SFT warm start: the task's demonstrations replayed into the protocol's rows, one SFT call per policy.</summary>
    private async Task<SftResult?> SftAsync(CampaignPlan plan, ITask task)
    {
        if (task is not IDemonstrationSource demos)
        {
            throw new InvalidOperationException($"task '{task.Name}' cannot write demonstrations; disable sft or use a task that can.");
        }
        CampaignConfig c = plan.Config;
        Protocol protocol = Roles.ParseProtocol(c.Protocol);
        var roleTemplates = new Dictionary<string, ChatTemplate>();
        foreach ((string role, string policy) in plan.PolicyOfRole)
        {
            roleTemplates[role] = await templates.ForAsync(policy);
        }
        var settings = new EpisodeSettings
        {
            Protocol = protocol, View = c.View == "compact" ? ViewMode.Compact : ViewMode.Full,
            MaxTurns = int.MaxValue / 2, MaxTokensPerTurn = 4096, MaxContextTokens = int.MaxValue / 2, StopWhenTruncated = false,
        };
        var problems = plan.SftProblems(task);
        var rows = new List<TrajectoryRecord>();
        foreach (Problem p in problems)
        {
            var runner = new EpisodeRunner(task, settings, new DemonstrationGenerator(demos.Demonstrate(p, protocol), r => roleTemplates[r]));
            rows.AddRange((await runner.RunAsync(p, $"demo-{p.Id}", p.Id)).Rows.Select(EpisodeGrain.ToRecord));
        }
        // The policies fine-tune at the same time, each on its own learner (on one silo they share its cores).
        SftResult[] results = await Task.WhenAll(plan.Policies.Select(policy => GrainFactory.GetGrain<ILearnerGrain>(policy)
            .Sft([.. rows.Where(r => plan.PolicyOfRole[r.Role] == policy)], c.Sft)));
        return results.LastOrDefault();
    }

    /// <summary>A step's episodes: what was asked, what came back (null where an episode failed twice), how long it took, and whether they are stored already.</summary>
    private sealed record Rollout(List<EpisodeRequest> Calls, EpisodeOutcome?[] Outcomes, double Seconds, bool Stored = false);

    /// <summary>The next step's rollout, started during this step's update when algorithm.overlap_rollout is on.</summary>
    private (long Step, Task<Rollout> Task)? _prefetch;

    /// <summary>A step's episodes as requested: prompts x group size, each with its slot's id (see <see cref="EpisodeIds.Training"/>).</summary>
    private static List<EpisodeRequest> StepCalls(CampaignPlan plan, ITask task, long step)
    {
        CampaignConfig c = plan.Config;
        var problems = plan.StepProblems(task, step);
        return problems.SelectMany((p, i) => Enumerable.Range(0, c.GroupSize).Select(g =>
            plan.Episode(EpisodeIds.Training(c.Name, step, i, g), $"{c.Name}-s{step}-p{i}", p, evaluation: false))).ToList();
    }

    /// <param name="store">
    /// Store each episode as soon as it has finished (still before the update, as StepAsync requires), so that the
    /// writes overlap the step's longest episodes instead of following them. A rollout prefetched during the previous
    /// step's update stores nothing until its step consumes it: the campaign may be paused, cancelled or moved first.
    /// </param>
    private async Task<Rollout> RolloutAsync(CampaignPlan plan, ITask task, long step, bool store = true)
    {
        var clock = Stopwatch.StartNew();
        var calls = StepCalls(plan, task, step);
        using var gate = new SemaphoreSlim(16);   // as many writes at once as StoreAsync makes
        EpisodeOutcome?[] outcomes = await Task.WhenAll(calls.Select(async call =>
        {
            EpisodeOutcome? outcome = await RunWithRetryAsync(call);
            if (store && outcome is not null)
            {
                await StoreOneAsync(gate, step, evaluation: false, call.Problem, outcome);
            }
            return outcome;
        }));
        return new Rollout(calls, outcomes, clock.Elapsed.TotalSeconds, Stored: store);
    }

    /// <summary>
    /// A repeated step (its unit failed after the learner call, or the campaign moved to another silo) whose update a
    /// learner applied already: that learner trained on the episodes stored before the update, so the step keeps them
    /// rather than sampling new ones that nothing trains on (the learner answers a repeated step with its first result).
    /// Null when no learner applied the step, or when the store no longer holds its episodes.
    /// </summary>
    private async Task<Rollout?> AppliedRolloutAsync(CampaignPlan plan, ITask task, long step)
    {
        bool applied = false;
        foreach (string policy in plan.TrainedPolicies(step))
        {
            applied |= await GrainFactory.GetGrain<ILearnerGrain>(policy).LastStep() >= step;
        }
        if (!applied)
        {
            return null;
        }
        var clock = Stopwatch.StartNew();
        var calls = StepCalls(plan, task, step);
        var stored = new Dictionary<string, EpisodeOutcome>(StringComparer.Ordinal);
        await foreach (var e in trajectories.ReadAsync(plan.Config.Name, step))
        {
            if (!e.Evaluation)
            {
                stored[e.EpisodeId] = e.Outcome();
            }
        }
        if (stored.Count == 0)
        {
            logger.LogWarning("Campaign {Campaign}: step {Step} was applied but its episodes are not stored ({Store}); sampling them again", plan.Config.Name, step, trajectories.Describe);
            return null;
        }
        logger.LogInformation("Campaign {Campaign}: step {Step} was applied before; keeping its {Count} stored episodes", plan.Config.Name, step, stored.Count);
        return new Rollout(calls, [.. calls.Select(c => stored.GetValueOrDefault(c.EpisodeId))], clock.Elapsed.TotalSeconds);
    }

    private async Task<StepRecord> StepAsync(CampaignPlan plan, ITask task, long step)
    {
        CampaignConfig c = plan.Config;
        Task<Rollout> pending;
        if (_prefetch is { } ahead && ahead.Step == step)
        {
            pending = ahead.Task;
            _prefetch = null;
        }
        else if (await AppliedRolloutAsync(plan, task, step) is Rollout applied)
        {
            pending = Task.FromResult(applied);
        }
        else
        {
            pending = RolloutAsync(plan, task, step);   // (a repeated step keeps an earlier prefetch of the next one)
        }
        Rollout rollout = await pending;
        var done = rollout.Outcomes.OfType<EpisodeOutcome>().ToList();

        // Every episode is stored (before the update, so a step's data is kept even if the update fails and is repeated),
        // one record per episode of the step: a repeated step, or a retried episode, replaces the record of its slot.
        // A fresh rollout stored each episode as it finished; one read back from the store is written again.
        if (!rollout.Stored)
        {
            await StoreAsync(step, evaluation: false, rollout.Calls, done);
        }

        if (c.Algorithm.OverlapRollout && step + 1 < c.Steps && _prefetch?.Step != step + 1)
        {
            // The next step's episodes generate while this update runs: mostly with the current version, the rest
            // with the new one once it is published (each row records the version and log-probs it was sampled with).
            _prefetch = (step + 1, RolloutAsync(plan, task, step + 1, store: false));
        }
        var update = Stopwatch.StartNew();
        // The trained policies update at the same time, each on its own learner (on one silo they share its cores). A
        // failed call fails the step; its retry applies only what was not applied (a learner keeps its last step).
        var trained = plan.TrainedPolicies(step);
        LearnerStepResult[] results = await Task.WhenAll(trained.Select(policy => GrainFactory.GetGrain<ILearnerGrain>(policy)
            .Step(step, [.. done.SelectMany(o => o.Rows).Where(r => plan.PolicyOfRole[r.Role] == policy)])));
        var learners = new Dictionary<string, LearnerMetrics>();
        for (int i = 0; i < trained.Count; i++)
        {
            learners[trained[i]] = results[i].Metrics;
        }
        StepRecord record = Metrics.Of(step, rollout.Calls.Count, done, learners, rollout.Seconds, update.Elapsed.TotalSeconds);
        string[] warnings = CollapseMonitor.Check(record, state.State.History, plan.Config.Monitor, plan.Config.Limits.MaxTurns);
        foreach (string warning in warnings)
        {
            logger.LogWarning("Campaign {Campaign} step {Step}: {Warning}", this.GetPrimaryKeyString(), step, warning);
        }
        return record with { Warnings = warnings };
    }

    private async Task StoreAsync(long step, bool evaluation, IReadOnlyList<EpisodeRequest> calls, IReadOnlyList<EpisodeOutcome> outcomes)
    {
        var problems = calls.GroupBy(c => c.GroupId).ToDictionary(g => g.Key, g => g.First().Problem);
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(outcomes.Select(o => StoreOneAsync(gate, step, evaluation, problems[o.GroupId], o)));
    }

    /// <summary>Writes one episode's document, at most as many at once as <paramref name="gate"/> lets through.</summary>
    private async Task StoreOneAsync(SemaphoreSlim gate, long step, bool evaluation, ProblemRecord problem, EpisodeOutcome outcome)
    {
        await gate.WaitAsync();
        try
        {
            await trajectories.WriteAsync(ReMA.Grains.Storage.TrajectoryDocument.Of(
                this.GetPrimaryKeyString(), step, evaluation, problem, outcome, Metrics.EpisodeReward(outcome)));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// An episode that fails or times out is retried once, then counted as failed (never dropped silently). The retry
    /// runs as a grain of its own (<c>&lt;id&gt;-retry</c>: the first attempt, and its agents, may still be busy), and its
    /// result takes the episode's id, rows included: the step trains on it and stores it as that episode, so a step
    /// holds prompts x group size episodes whichever attempt produced them (a late first attempt is discarded).
    /// </summary>
    private async Task<EpisodeOutcome?> RunWithRetryAsync(EpisodeRequest request)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(state.State.Config!.EpisodeTimeoutSeconds);
        for (int attempt = 0; attempt < 2; attempt++)
        {
            string id = attempt == 0 ? request.EpisodeId : request.EpisodeId + "-retry";
            try
            {
                EpisodeOutcome outcome = await GrainFactory.GetGrain<IEpisodeGrain>(id).Run(request with { EpisodeId = id }).WaitAsync(timeout);
                return attempt == 0 ? outcome : InPlaceOf(outcome, request.EpisodeId);
            }
            catch (Exception e) when (e is TimeoutException or OrleansException or InvalidOperationException)
            {
                logger.LogWarning("Episode {Episode} attempt {Attempt} failed: {Error}", id, attempt + 1, e.Message);
            }
        }
        return null;
    }

    /// <summary>A retry's outcome as the episode it replaces (the id names the episode in its rows too: advantages group by it).</summary>
    private static EpisodeOutcome InPlaceOf(EpisodeOutcome retry, string episodeId) => retry with
    {
        EpisodeId = episodeId,
        Rows = [.. retry.Rows.Select(r => r with { EpisodeId = episodeId })],
    };

    private async Task<List<EvalRecord>> EvaluateAsync(CampaignPlan plan, ITask task, long afterStep)
    {
        var records = new List<EvalRecord>();
        foreach (string set in plan.Config.Eval.Sets)
        {
            var clock = Stopwatch.StartNew();
            var problems = task.Load(set);
            if (plan.Config.Eval.MaxProblems > 0)
            {
                problems = problems.Take(plan.Config.Eval.MaxProblems).ToList();
            }
            var calls = problems.Select((p, i) => plan.Episode(EpisodeIds.Evaluation(plan.Config.Name, afterStep, set, i), $"eval-{set}-{i}", p, evaluation: true)).ToList();
            var outcomes = await Task.WhenAll(calls.Select(RunWithRetryAsync));
            await StoreAsync(afterStep, evaluation: true, calls, outcomes.OfType<EpisodeOutcome>().ToList());
            double accuracy = outcomes.Count(o => o?.Correct == true) / (double)Math.Max(1, problems.Count);
            records.Add(new EvalRecord(afterStep, set, problems.Count, accuracy, clock.Elapsed.TotalSeconds));
        }
        return records;
    }

    async Task<EpisodeSummary[]> ICampaignGrain.Episodes(long step)
    {
        // From the trajectory store, as `rema search` and the web API read them: every step, on any silo, after a failover.
        var episodes = new List<EpisodeSummary>();
        await foreach (var e in trajectories.ReadAsync(this.GetPrimaryKeyString(), step))
        {
            if (!e.Evaluation)
            {
                episodes.Add(e.Summary());
            }
        }
        return [.. episodes];
    }

    async Task<EpisodeOutcome> ICampaignGrain.SampleEpisode(string split, int index)
    {
        CampaignConfig c = state.State.Config ?? throw new InvalidOperationException($"campaign '{this.GetPrimaryKeyString()}' has not been started.");
        ITask task = tasks.Get(c.Task.Name, c.Task.Options);
        var problems = task.Load(split);
        if (index < 0 || index >= problems.Count)
        {
            throw new ArgumentException($"index {index} is outside split '{split}' ({problems.Count} problems).");
        }
        var plan = new CampaignPlan(c);
        string id = $"{c.Name}-sample-{split}-{index}-{Guid.NewGuid():N}";
        return await GrainFactory.GetGrain<IEpisodeGrain>(id).Run(plan.Episode(id, id, problems[index], evaluation: true));
    }

    async Task<ForkResult> ICampaignGrain.Fork(ForkRequest request)
    {
        CampaignConfig c = state.State.Config ?? throw new InvalidOperationException($"campaign '{this.GetPrimaryKeyString()}' has not been started.");
        string campaign = EpisodeIds.Parse(request.EpisodeId).Campaign;
        if (campaign != c.Name)
        {
            throw new ArgumentException($"episode '{request.EpisodeId}' belongs to campaign '{campaign}', not '{c.Name}'.");
        }
        var original = await ReMA.Grains.Storage.RecordedTurns.FindAsync(trajectories, request.EpisodeId)
            ?? throw new KeyNotFoundException($"episode '{request.EpisodeId}' is not in the trajectory store ({trajectories.Describe}).");
        (EpisodeRequest episode, RecordedTurn[] prefix) = new CampaignPlan(c).Fork(original, request);
        if (request.Version is long v)
        {
            episode = episode with { PolicyByRole = episode.PolicyByRole.ToDictionary(kv => kv.Key, kv => PolicyKey.Pinned(PolicyKey.PolicyId(kv.Value), v)) };
        }
        return CampaignPlan.ForkResult(request, episode, await GrainFactory.GetGrain<IEpisodeGrain>(episode.EpisodeId).Fork(episode, prefix));
    }

    async Task<string[]> ICampaignGrain.DecodeTokens(string role, int[] ids)
    {
        CampaignConfig c = state.State.Config ?? throw new InvalidOperationException($"campaign '{this.GetPrimaryKeyString()}' has not been started.");
        var plan = new CampaignPlan(c);
        string policy = plan.PolicyOfRole.TryGetValue(role, out string? p) ? p : throw new ArgumentException($"campaign '{c.Name}' has no role '{role}'.");
        ChatTemplate template = await templates.ForAsync(CampaignPlan.Replica(policy));
        return [.. ids.Select(id => template.Tokenizer.Decode([id]))];
    }

    private CampaignStatus Snapshot() => new(
        this.GetPrimaryKeyString(), state.State.Status, state.State.Stage, state.State.NextStep, state.State.Config?.Steps ?? 0,
        state.State.History.LastOrDefault(), [.. state.State.Evaluations], state.State.Sft, state.State.Error, state.State.Activations,
        silo.SiloAddress.ToString(), _warning, SiloCpuSeconds(), Environment.ProcessorCount, [.. state.State.Stages]);

    /// <summary>CPU time of this silo's process so far (a follower elsewhere measures the stages' CPU use from it).</summary>
    private static double SiloCpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }
}
