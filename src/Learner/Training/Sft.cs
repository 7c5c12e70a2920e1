using System.Diagnostics;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Learner.Training;

public sealed record SftOptions
{
    public int MicroBatchTokens { get; init; } = 8192;
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>libtorch intra-op threads of the calling thread during a step (<see cref="Runtime.ComputeThreads"/>); null: the process's count.</summary>
    public int? Threads { get; init; }
}

public sealed record SftMetrics(double Loss, long Tokens, double GradNorm, double LearningRate, double TokensPerSecond);

/// <summary>Demonstrations as training rows: ChatML conversations with loss on one role's messages.</summary>
public static class SftData
{
    /// <summary>
    /// Renders a conversation; the content tokens of every <paramref name="trainRole"/> message and the turn-end token
    /// that closes it carry loss (each message is one turn); everything else is context.
    /// </summary>
    public static TrajectoryRow Row(ChatTemplate chat, IReadOnlyList<ChatMessage> messages, string id, string trainRole = "assistant")
    {
        ITokenizer tok = chat.Tokenizer;
        var builder = new TrajectoryRowBuilder(id, trainRole, id, tok.TurnEndId);
        int[] separator = chat.Separator;
        foreach (ChatMessage message in messages)
        {
            builder.Context(chat.GenerationPrompt(message.Role));
            if (message.Role == trainRole)
            {
                int[] content = tok.Encode(message.Content);
                builder.Turn([.. content, tok.TurnEndId], Enumerable.Repeat(float.NaN, content.Length + 1).ToArray(), FinishReason.Eos);
            }
            else
            {
                builder.Context([.. tok.Encode(message.Content), tok.TurnEndId]);
            }
            builder.Context(separator);
        }
        if (builder.Turns == 0)
        {
            throw new ArgumentException($"demonstration {id}: no '{trainRole}' message to learn from.");
        }
        return builder.BuildTerminal(0);
    }
}

/// <summary>
/// Supervised fine-tuning: next-token cross entropy on the loss tokens of demonstration rows (the same masking as
/// RL rows), averaged over all loss tokens of a batch, accumulated over micro-batches, clipped, AdamW.
/// </summary>
public sealed class SftTrainer : ITrainingState, IDisposable
{
    private readonly SftOptions _options;
    private readonly int _threads;

    public SftTrainer(CausalLM model, AdamWOptions? optimizer = null, LearningRateSchedule? schedule = null, SftOptions? options = null, ulong shuffleSeed = 0)
    {
        Model = model;
        Schedule = schedule ?? new LearningRateSchedule { Peak = 1e-3 };
        Schedule.Validate();
        _options = options ?? new SftOptions();
        if (_options.Threads is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"sft: threads must be positive or null for the process's count (got {_options.Threads}).");
        }
        _threads = _options.Threads ?? Runtime.ComputeThreads.ProcessDefault;
        Optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), optimizer);
        Shuffle = new SplitMix64(shuffleSeed);
    }

    public CausalLM Model { get; }
    public AdamW Optimizer { get; }
    public SplitMix64 Shuffle { get; }
    public LearningRateSchedule Schedule { get; }

    /// <summary>One optimizer step on <paramref name="batch"/>.</summary>
    public SftMetrics Step(IReadOnlyList<TrajectoryRow> batch)
    {
        var clock = Stopwatch.StartNew();
        long total = batch.Sum(r => (long)r.LossTokens);
        if (total == 0)
        {
            throw new ArgumentException("sft: the batch has no loss tokens.");
        }
        Runtime.ComputeThreads.Use(_threads);
        Model.train();
        Optimizer.ZeroGrad();
        double loss = 0;
        long processed = 0;
        (List<int[]> groups, int packWidth) = RowBatching.Packed(batch.Select(r => r.Length).ToList(), _options.MicroBatchTokens);
        foreach (int[] micro in groups)
        {
            using var scope = NewDisposeScope();
            var mb = new MicroBatch(micro.Select(i => batch[i]).ToList(), packWidth);
            processed += mb.TotalTokens;
            Tensor nll = -mb.Score(Model).LogProbs.sum() / total;
            nll.backward();
            loss += nll.ToDouble();
        }
        double gradNorm = nn.utils.clip_grad_norm_(Optimizer.Parameters, _options.MaxGradNorm);
        double lr = Schedule.At(Optimizer.Steps);
        Optimizer.Step(lr);
        Model.eval();
        return new SftMetrics(loss, total, gradNorm, lr, processed / clock.Elapsed.TotalSeconds);
    }

    /// <summary>Mean next-token loss over the loss tokens of <paramref name="rows"/>, without updating.</summary>
    public double EvaluationLoss(IReadOnlyList<TrajectoryRow> rows)
    {
        Runtime.ComputeThreads.Use(_threads);
        using var noGrad = no_grad();
        double sum = 0;
        long count = 0;
        (List<int[]> groups, int packWidth) = RowBatching.Packed(rows.Select(r => r.Length).ToList(), _options.MicroBatchTokens);
        foreach (int[] micro in groups)
        {
            using var scope = NewDisposeScope();
            var mb = new MicroBatch(micro.Select(i => rows[i]).ToList(), packWidth);
            sum -= mb.Score(Model).LogProbs.sum().ToDouble();
            count += mb.LossTokens;
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>Shuffled batches of <paramref name="batchRows"/> rows for one epoch, drawn with the trainer's generator.</summary>
    public IEnumerable<IReadOnlyList<TrajectoryRow>> EpochBatches(IReadOnlyList<TrajectoryRow> rows, int batchRows)
    {
        int[] order = Enumerable.Range(0, rows.Count).ToArray();
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = Shuffle.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        for (int start = 0; start < order.Length; start += batchRows)
        {
            yield return order[start..Math.Min(order.Length, start + batchRows)].Select(i => rows[i]).ToList();
        }
    }

    public void Dispose() => Optimizer.Dispose();
}
