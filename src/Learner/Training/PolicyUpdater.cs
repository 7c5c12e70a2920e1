using System.Diagnostics;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using static TorchSharp.torch;

namespace ReMA.Learner.Training;

public sealed record UpdateOptions
{
    public int Epochs { get; init; } = 1;
    /// <summary>Rows per mini-batch (one optimizer step each); 0 puts all rows in one mini-batch.</summary>
    public int MiniBatchRows { get; init; }
    /// <summary>
    /// Split the rows into this many mini-batches of whole episodes (every row of an episode in the same one; one
    /// optimizer step each), as the reference GRPO does with two. 0 or 1: as <see cref="MiniBatchRows"/> says.
    /// Cannot be combined with <see cref="MiniBatchRows"/>. Learning-rate warm-up counts optimizer steps, so K
    /// mini-batches warm up over 1/K as many RL steps.
    /// </summary>
    public int MiniBatches { get; init; }
    /// <summary>Padded tokens per forward/backward pass; the mini-batch gradient does not depend on it.</summary>
    public int MicroBatchTokens { get; init; } = 8192;
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Recompute every old log-prob with the current weights before the update (otherwise only missing ones).</summary>
    public bool RecomputeOldLogProbs { get; init; }
    /// <summary>
    /// Leave rows whose advantages are all zero out of the forward and backward passes when the loss has no KL or
    /// entropy term: their gradient is exactly zero, and the loss weights still count them, so the update is the same.
    /// </summary>
    public bool SkipZeroAdvantageRows { get; init; } = true;
    /// <summary>
    /// libtorch intra-op threads of the calling thread during an update (<see cref="Runtime.ComputeThreads"/>); null:
    /// the process's count.
    /// </summary>
    public int? Threads { get; init; }

    public void Validate()
    {
        var errors = new List<string>();
        if (Epochs <= 0)
        {
            errors.Add($"epochs must be positive (got {Epochs})");
        }
        if (MiniBatchRows < 0)
        {
            errors.Add($"mini_batch_rows must be >= 0 (got {MiniBatchRows})");
        }
        if (MiniBatches < 0)
        {
            errors.Add($"mini_batches must be >= 0 (got {MiniBatches})");
        }
        if (MiniBatches > 1 && MiniBatchRows > 0)
        {
            errors.Add($"mini_batches ({MiniBatches}) and mini_batch_rows ({MiniBatchRows}) cannot both be set: choose one way to split the rows");
        }
        if (MicroBatchTokens <= 0)
        {
            errors.Add($"micro_batch_tokens must be positive (got {MicroBatchTokens})");
        }
        if (!(MaxGradNorm > 0))
        {
            errors.Add($"max_grad_norm must be positive (got {MaxGradNorm})");
        }
        if (Threads is <= 0)
        {
            errors.Add($"threads must be positive or null for the process's count (got {Threads})");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException("update: " + string.Join("; ", errors) + ".");
        }
    }
}

/// <summary>What one call of <see cref="PolicyUpdater.Update"/> did, averaged over its optimizer steps where it says so.</summary>
public sealed record UpdateMetrics
{
    public int Rows { get; init; }
    /// <summary>Rows left out of the passes because all their advantages were zero (see <see cref="UpdateOptions.SkipZeroAdvantageRows"/>).</summary>
    public int SkippedRows { get; init; }
    public long LossTokens { get; init; }
    /// <summary>Row tokens the update's passes took (every epoch), and the positions they computed: fewer where rows share a prefix.</summary>
    public long PassRowTokens { get; init; }
    public long ComputedTokens { get; init; }
    public int OptimizerSteps { get; init; }
    /// <summary>Mean over optimizer steps of the mini-batch loss (surrogate + KL - entropy bonus).</summary>
    public double Loss { get; init; }
    public double PolicyLoss { get; init; }
    public double ClipFractionTokens { get; init; }
    public double ClipFractionTurns { get; init; }
    public double DualClipFraction { get; init; }
    /// <summary>Mean k3 KL between the sampling policy and the updated one over loss tokens (drift within the update).</summary>
    public double ApproxKl { get; init; }
    public double ReferenceKl { get; init; }
    public double Entropy { get; init; }
    public double GradNorm { get; init; }
    public double GradNormMax { get; init; }
    public double RatioMean { get; init; }
    public double RatioMin { get; init; }
    public double RatioMax { get; init; }
    /// <summary>Largest |recorded - recomputed| old log-prob before the update (sampler/learner agreement).</summary>
    public double OldLogProbDrift { get; init; }
    public double LearningRate { get; init; }
    public double TokensPerSecond { get; init; }
    public double Seconds { get; init; }
}

/// <summary>
/// The RL update of one policy (ReMA sections 5-6): given rows with advantages, fill in missing old log-probs,
/// then for each epoch shuffle the rows into mini-batches; each mini-batch is one optimizer step whose gradient is
/// accumulated over micro-batches (token budget) with mini-batch-wide loss weights, clipped, and applied by AdamW
/// at the scheduled learning rate.
/// </summary>
public sealed class PolicyUpdater : ITrainingState, IDisposable
{
    private readonly PolicyLossOptions _loss;
    private readonly UpdateOptions _update;

    /// <param name="reference">The frozen reference model for the KL penalty; required when kl_coefficient > 0.</param>
    public PolicyUpdater(CausalLM model, AdamWOptions? optimizer = null, LearningRateSchedule? schedule = null,
        PolicyLossOptions? loss = null, UpdateOptions? update = null, CausalLM? reference = null, ulong shuffleSeed = 0)
        : this(model, optimizer, schedule, loss, update, reference is null ? null : () => reference, shuffleSeed)
    {
    }

    /// <param name="referenceFactory">Builds the frozen reference model; called only when kl_coefficient > 0.</param>
    public PolicyUpdater(CausalLM model, AdamWOptions? optimizer, LearningRateSchedule? schedule,
        PolicyLossOptions? loss, UpdateOptions? update, Func<CausalLM>? referenceFactory, ulong shuffleSeed = 0)
    {
        Model = model;
        Schedule = schedule ?? new LearningRateSchedule();
        Schedule.Validate();
        _loss = loss ?? new PolicyLossOptions();
        _loss.Validate();
        _update = update ?? new UpdateOptions();
        _update.Validate();
        if (_loss.KlCoefficient > 0)
        {
            Reference = referenceFactory?.Invoke() ?? throw new ArgumentException("policy loss: kl_coefficient > 0 needs a frozen reference model.");
            Reference.eval();
            foreach (var p in Reference.parameters())
            {
                p.requires_grad = false;
            }
        }
        Optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), optimizer);
        Shuffle = new SplitMix64(shuffleSeed);
        _threads = _update.Threads ?? Runtime.ComputeThreads.ProcessDefault;
    }

    private readonly int _threads;

    public CausalLM Model { get; }
    public CausalLM? Reference { get; }
    public AdamW Optimizer { get; }
    public LearningRateSchedule Schedule { get; }
    public SplitMix64 Shuffle { get; }
    public PolicyLossOptions LossOptions => _loss;
    public UpdateOptions UpdateOptions => _update;

    public UpdateMetrics Update(IReadOnlyList<AdvantagedRow> rows)
    {
        if (rows.Count == 0)
        {
            return new UpdateMetrics { LearningRate = Schedule.At(Optimizer.Steps) };
        }
        foreach (AdvantagedRow r in rows)
        {
            r.Row.Validate();
            if (r.TurnAdvantages.Length != r.Row.Turns)
            {
                throw new ArgumentException($"episode {r.Row.EpisodeId}, role {r.Row.Role}: {r.TurnAdvantages.Length} turn advantages for {r.Row.Turns} turns.");
            }
        }
        var clock = Stopwatch.StartNew();
        Runtime.ComputeThreads.Use(_threads);
        (float[][] old, double drift) = OldLogProbs(rows);
        float[][]? reference = Reference is null ? null : ScoreAll(Reference, rows.Select(r => r.Row).ToList());

        var sums = new Accumulator();
        long tokensProcessed = 0;
        for (int epoch = 0; epoch < _update.Epochs; epoch++)
        {
            foreach (int[] mini in MiniBatchesOf(rows))
            {
                tokensProcessed += OptimizerStep(rows, mini, old, reference, sums);
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        return sums.ToMetrics(rows.Count, rows.Sum(r => (long)r.Row.LossTokens), drift, Schedule.At(Math.Max(0, Optimizer.Steps - 1)),
            tokensProcessed, seconds);
    }

    /// <summary>
    /// Computes the gradient of the loss of <paramref name="rows"/> taken as one mini-batch into the parameters'
    /// .grad (zeroed first), without stepping; old log-probs are filled in as in <see cref="Update"/>. Returns the loss.
    /// </summary>
    public double AccumulateGradients(IReadOnlyList<AdvantagedRow> rows)
    {
        Runtime.ComputeThreads.Use(_threads);
        (float[][] old, _) = OldLogProbs(rows);
        float[][]? reference = Reference is null ? null : ScoreAll(Reference, rows.Select(r => r.Row).ToList());
        Optimizer.ZeroGrad();
        var step = new Accumulator.StepSums();
        (double loss, _, _) = Backward(rows, Enumerable.Range(0, rows.Count).ToArray(), old, reference, step);
        return loss;
    }

    /// <summary>One mini-batch: accumulate gradients over micro-batches, clip, step. Returns tokens processed.</summary>
    private long OptimizerStep(IReadOnlyList<AdvantagedRow> rows, int[] mini, float[][] old, float[][]? reference, Accumulator sums)
    {
        Optimizer.ZeroGrad();
        var step = new Accumulator.StepSums();
        (double loss, double policyLoss, long processed) = Backward(rows, mini, old, reference, step);
        double gradNorm = nn.utils.clip_grad_norm_(Optimizer.Parameters, _update.MaxGradNorm);
        Optimizer.Step(Schedule.At(Optimizer.Steps));
        sums.AddStep(loss, policyLoss, gradNorm, step);
        return processed;
    }

    /// <summary>Backward over the micro-batches of one mini-batch; gradients add up in the parameters.</summary>
    private (double Loss, double PolicyLoss, long Processed) Backward(IReadOnlyList<AdvantagedRow> rows, int[] mini, float[][] old, float[][]? reference, Accumulator.StepSums step)
    {
        long totalTokens = mini.Sum(i => (long)rows[i].Row.LossTokens);
        long totalTurns = mini.Sum(i => (long)Advantages.TokensPerTurn(rows[i].Row).Count(n => n > 0));
        // A trajectory is one role's turns in one episode: several rows in the compact view.
        var trajectoryTurns = mini.GroupBy(i => (rows[i].Row.EpisodeId, rows[i].Row.Role))
            .SelectMany(g => { int turns = g.Sum(i => rows[i].Row.Turns); return g.Select(i => (i, turns)); })
            .ToDictionary(p => p.i, p => p.turns);
        long totalTrajectories = trajectoryTurns.Keys.Select(i => (rows[i].Row.EpisodeId, rows[i].Row.Role)).Distinct().LongCount();
        // Totals above include every row; only the rows that can contribute a gradient go through the model.
        int[] active = SkipsZeroAdvantages ? mini.Where(i => rows[i].TurnAdvantages.Any(a => a != 0)).ToArray() : mini;
        step.SkippedRows += mini.Length - active.Length;
        Model.train();
        double loss = 0, policyLoss = 0;
        long processed = 0;
        (List<int[]> groups, int packWidth) = RowBatching.Packed(active.Select(i => rows[i].Row.Length).ToList(), _update.MicroBatchTokens);
        foreach (int[] micro in groups)
        {
            int[] members = micro.Select(k => active[k]).ToArray();
            using var scope = NewDisposeScope();
            var batch = new MicroBatch(members.Select(i => rows[i].Row).ToList(), packWidth);
            processed += batch.TotalTokens;
            step.ComputedTokens += batch.ComputedTokens;
            if (batch.LossTokens == 0)
            {
                continue;
            }
            Device device = Model.Device;
            float[] weights = PolicyLoss.AggregationWeights(batch, _loss.Aggregation, totalTokens, totalTurns, totalTrajectories,
                [.. members.Select(i => trajectoryTurns[i])]);
            float[] oldFlat = Flatten(batch, members, old);
            float[] adv = new float[batch.LossTokens];
            for (int m = 0; m < adv.Length; m++)
            {
                adv[m] = rows[members[batch.RowOf[m]]].TurnAdvantages[batch.TurnOf[m]];
            }
            EntropyMode entropyMode = _loss.EntropyCoefficient > 0 ? EntropyMode.WithGradient : EntropyMode.Detached;
            (Tensor logp, Tensor? entropy) = batch.Score(Model, _loss.Temperature, entropyMode);
            ScalarType dt = logp.dtype;
            Tensor oldT = tensor(oldFlat, device: device).to(dt);
            Tensor advT = tensor(adv, device: device).to(dt);
            Tensor w = tensor(weights, device: device).to(dt);
            Tensor turnId = tensor(batch.TurnId, device: device);
            Tensor surrogate = PolicyLoss.Surrogate(logp, oldT, advT, w, turnId, batch.TurnCount, _loss);
            Tensor total = surrogate;
            Tensor? k3 = null;
            if (reference is not null)
            {
                k3 = PolicyLoss.K3(logp, tensor(Flatten(batch, members, reference), device: device).to(dt));
                total = total + _loss.KlCoefficient * (k3 * w).sum();
            }
            if (_loss.EntropyCoefficient > 0)
            {
                total = total - _loss.EntropyCoefficient * (entropy! * w).sum();
            }
            total.backward();
            loss += total.ToDouble();
            policyLoss += surrogate.ToDouble();
            step.Add(batch, logp.detach(), oldT, advT, turnId, entropy!.detach(), k3?.detach(), _loss);
        }
        Model.eval();
        return (loss, policyLoss, processed);
    }

    private bool SkipsZeroAdvantages => _update.SkipZeroAdvantageRows && _loss.KlCoefficient == 0 && _loss.EntropyCoefficient == 0;

    /// <summary>Old log-probs per row position: recorded ones, with the missing (or all) computed by the current model.</summary>
    private (float[][] Old, double Drift) OldLogProbs(IReadOnlyList<AdvantagedRow> rows)
    {
        var list = rows.Select(r => r.Row).ToList();
        // Only rows with a missing value (for example a turn-end token appended after a stop string) are scored,
        // unless every old log-prob is to be recomputed.
        var toScore = Enumerable.Range(0, list.Count)
            .Where(i => _update.RecomputeOldLogProbs || list[i].LossMask.Where((m, j) => m && float.IsNaN(list[i].OldLogProbs[j])).Any())
            .ToList();
        if (toScore.Count == 0)
        {
            return (list.Select(r => r.OldLogProbs).ToArray(), 0);
        }
        float[][] scored = ScoreAll(Model, toScore.Select(i => list[i]).ToList());
        var computed = new float[list.Count][];
        for (int k = 0; k < toScore.Count; k++)
        {
            computed[toScore[k]] = scored[k];
        }
        double drift = 0;
        var result = new float[list.Count][];
        for (int i = 0; i < list.Count; i++)
        {
            if (computed[i] is null)
            {
                result[i] = list[i].OldLogProbs;
                continue;
            }
            result[i] = new float[list[i].Length];
            for (int j = 0; j < list[i].Length; j++)
            {
                float recorded = list[i].OldLogProbs[j];
                if (list[i].LossMask[j] && !float.IsNaN(recorded))
                {
                    drift = Math.Max(drift, Math.Abs(recorded - computed[i][j]));
                }
                result[i][j] = _update.RecomputeOldLogProbs || float.IsNaN(recorded) ? computed[i][j] : recorded;
            }
        }
        return (result, drift);
    }

    /// <summary>Log-probs at every loss position of every row under <paramref name="model"/>, without gradients.</summary>
    private float[][] ScoreAll(CausalLM model, IReadOnlyList<TrajectoryRow> rows)
    {
        var result = rows.Select(r => new float[r.Length]).ToArray();
        using var noGrad = no_grad();
        (List<int[]> groups, int packWidth) = RowBatching.Packed(rows.Select(r => r.Length).ToList(), _update.MicroBatchTokens);
        foreach (int[] micro in groups)
        {
            using var scope = NewDisposeScope();
            var batch = new MicroBatch(micro.Select(i => rows[i]).ToList(), packWidth);
            if (batch.LossTokens == 0)
            {
                continue;
            }
            float[] logp = batch.Score(model, _loss.Temperature).LogProbs.to(ScalarType.Float32).cpu().data<float>().ToArray();
            for (int m = 0; m < logp.Length; m++)
            {
                result[micro[batch.RowOf[m]]][batch.PositionOf[m]] = logp[m];
            }
        }
        return result;
    }

    private static float[] Flatten(MicroBatch batch, int[] members, float[][] perRow)
    {
        var flat = new float[batch.LossTokens];
        for (int m = 0; m < flat.Length; m++)
        {
            flat[m] = perRow[members[batch.RowOf[m]]][batch.PositionOf[m]];
        }
        return flat;
    }

    /// <summary>
    /// One epoch's mini-batches as row indices: shuffled rows in chunks of mini_batch_rows (all rows when 0), or, with
    /// mini_batches K, the episodes shuffled and dealt into K parts (fewer when there are fewer episodes).
    /// </summary>
    private IEnumerable<int[]> MiniBatchesOf(IReadOnlyList<AdvantagedRow> rows)
    {
        if (_update.MiniBatches > 1)
        {
            var episodes = Enumerable.Range(0, rows.Count).GroupBy(i => rows[i].Row.EpisodeId, StringComparer.Ordinal).Select(g => g.ToArray()).ToArray();
            int[] order = Permutation(episodes.Length);
            int parts = Math.Min(_update.MiniBatches, episodes.Length);
            for (int part = 0; part < parts; part++)
            {
                yield return order.Where((_, k) => k % parts == part).SelectMany(e => episodes[e]).ToArray();
            }
            yield break;
        }
        int[] shuffled = Permutation(rows.Count);
        int size = _update.MiniBatchRows == 0 ? rows.Count : _update.MiniBatchRows;
        for (int start = 0; start < shuffled.Length; start += size)
        {
            yield return shuffled[start..Math.Min(shuffled.Length, start + size)];
        }
    }

    /// <summary>Fisher-Yates with the updater's own generator (saved in checkpoints).</summary>
    private int[] Permutation(int n)
    {
        int[] order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = Shuffle.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public void Dispose() => Optimizer.Dispose();

    /// <summary>Running sums of per-token and per-turn diagnostics over the optimizer steps of one update.</summary>
    private sealed class Accumulator
    {
        private int _steps;
        private double _loss, _policyLoss, _gradNorm, _gradNormMax;
        private readonly StepSums _all = new();

        public void AddStep(double loss, double policyLoss, double gradNorm, StepSums step)
        {
            _steps++;
            _loss += loss;
            _policyLoss += policyLoss;
            _gradNorm += gradNorm;
            _gradNormMax = Math.Max(_gradNormMax, gradNorm);
            _all.Merge(step);
        }

        public UpdateMetrics ToMetrics(int rows, long lossTokens, double drift, double lr, long processed, double seconds) => new()
        {
            Rows = rows,
            PassRowTokens = processed,
            ComputedTokens = (long)_all.ComputedTokens,
            SkippedRows = (int)_all.SkippedRows,
            LossTokens = lossTokens,
            OptimizerSteps = _steps,
            Loss = _loss / Math.Max(1, _steps),
            PolicyLoss = _policyLoss / Math.Max(1, _steps),
            ClipFractionTokens = _all.ClippedTokens / Math.Max(1, _all.Tokens),
            ClipFractionTurns = _all.ClippedTurns / Math.Max(1, _all.Turns),
            DualClipFraction = _all.DualClipped / Math.Max(1, _all.Tokens),
            ApproxKl = _all.ApproxKl / Math.Max(1, _all.Tokens),
            ReferenceKl = _all.ReferenceKl / Math.Max(1, _all.Tokens),
            Entropy = _all.Entropy / Math.Max(1, _all.Tokens),
            GradNorm = _gradNorm / Math.Max(1, _steps),
            GradNormMax = _gradNormMax,
            RatioMean = _all.RatioSum / Math.Max(1, _all.Tokens),
            RatioMin = _all.Tokens > 0 ? _all.RatioMin : 1,
            RatioMax = _all.Tokens > 0 ? _all.RatioMax : 1,
            OldLogProbDrift = drift,
            LearningRate = lr,
            TokensPerSecond = processed / seconds,
            Seconds = seconds,
        };

        public sealed class StepSums
        {
            public double ComputedTokens, SkippedRows, Tokens, Turns, ClippedTokens, ClippedTurns, DualClipped, RatioSum, ApproxKl, ReferenceKl, Entropy;
            public double RatioMin = double.PositiveInfinity, RatioMax = double.NegativeInfinity;

            public void Add(MicroBatch batch, Tensor logp, Tensor old, Tensor adv, Tensor turnId, Tensor entropy, Tensor? k3, PolicyLossOptions options)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                Tensor ratio = PolicyLoss.TokenRatios(logp, old);
                Tensor low = ratio < 1 - options.ClipLow, high = ratio > 1 + options.ClipHigh;
                Tensor clipped = (high & (adv > 0)) | (low & (adv < 0));
                var turnOptions = options.Ratio == RatioLevel.Token ? options with { Ratio = RatioLevel.TurnArithmetic } : options;
                Tensor turnRatio = PolicyLoss.TurnRatios(logp, old, turnId, batch.TurnCount, turnOptions);
                Tensor turnAdv = PolicyLoss.TurnMean(adv, turnId, batch.TurnCount);
                Tensor turnClipped = ((turnRatio > 1 + options.ClipHigh) & (turnAdv > 0)) | ((turnRatio < 1 - options.ClipLow) & (turnAdv < 0));
                Tensor dual = options.DualClip > 0 ? (adv < 0) & (ratio > options.DualClip) : zeros_like(ratio).to(ScalarType.Bool);
                Tensor logRatio = logp - old;
                Tensor approxKl = logRatio.exp() - logRatio - 1;                    // k3 of old vs new
                Tokens += batch.LossTokens;
                Turns += batch.TurnCount;
                ClippedTokens += clipped.sum().ToInt64();
                ClippedTurns += turnClipped.sum().ToInt64();
                DualClipped += dual.sum().ToInt64();
                RatioSum += ratio.sum().ToDouble();
                RatioMin = Math.Min(RatioMin, ratio.min().ToDouble());
                RatioMax = Math.Max(RatioMax, ratio.max().ToDouble());
                ApproxKl += approxKl.sum().ToDouble();
                Entropy += entropy.sum().ToDouble();
                ReferenceKl += k3 is null ? 0 : k3.sum().ToDouble();
            }

            public void Merge(StepSums other)
            {
                ComputedTokens += other.ComputedTokens;
                SkippedRows += other.SkippedRows;
                Tokens += other.Tokens;
                Turns += other.Turns;
                ClippedTokens += other.ClippedTokens;
                ClippedTurns += other.ClippedTurns;
                DualClipped += other.DualClipped;
                RatioSum += other.RatioSum;
                ApproxKl += other.ApproxKl;
                ReferenceKl += other.ReferenceKl;
                Entropy += other.Entropy;
                RatioMin = Math.Min(RatioMin, other.RatioMin);
                RatioMax = Math.Max(RatioMax, other.RatioMax);
            }
        }
    }
}
