using ReMA.Learner.Generation;

namespace ReMA.Learner.Training;

/// <summary>
/// One training row: a role's whole conversation in one episode, as token ids exactly as they were sampled or
/// rendered (never decoded and re-encoded). Arrays are indexed by token position: position j holds token j, and the
/// loss at j is about predicting token j from the tokens before it.
/// </summary>
public sealed record TrajectoryRow
{
    public required string EpisodeId { get; init; }
    public required string Role { get; init; }
    /// <summary>Rows rolled out from the same prompt share a group id (GRPO groups by group id and role).</summary>
    public required string GroupId { get; init; }
    /// <summary>Policy version that sampled the row's generated tokens.</summary>
    public long PolicyVersion { get; init; }
    public required int[] TokenIds { get; init; }
    /// <summary>True where the token is one of the role's own generated tokens (or a trained turn-end token).</summary>
    public required bool[] LossMask { get; init; }
    /// <summary>Turn index (0, 1, ...) at loss positions; -1 elsewhere.</summary>
    public required int[] TurnIndex { get; init; }
    /// <summary>Log-prob recorded when the token was sampled; NaN where none was (the learner recomputes those).</summary>
    public required float[] OldLogProbs { get; init; }
    /// <summary>Reward of each turn (a terminal reward sits on the last turn).</summary>
    public required double[] TurnRewards { get; init; }
    /// <summary>
    /// Optional verdict of the environment on each turn as a step (1 correct, 0 wrong; NaN where the turn was not a
    /// checkable step), one per turn; null when the episode checked no steps. Used only when the advantage estimator is
    /// given a step reward weight (see <see cref="AdvantageOptions.StepRewardWeight"/>).
    /// </summary>
    public double[]? StepScores { get; init; }

    public int Length => TokenIds.Length;
    public int Turns => TurnRewards.Length;
    public int LossTokens => LossMask.Count(m => m);

    /// <summary>Checks that the arrays agree; names the first problem.</summary>
    public void Validate()
    {
        string where = $"trajectory row (episode {EpisodeId}, role {Role})";
        int n = TokenIds.Length;
        if (LossMask.Length != n || TurnIndex.Length != n || OldLogProbs.Length != n)
        {
            throw new ArgumentException($"{where}: token_ids ({n}), loss_mask ({LossMask.Length}), turn_index ({TurnIndex.Length}) and old_logprobs ({OldLogProbs.Length}) must have the same length.");
        }
        if (n > 0 && LossMask[0])
        {
            throw new ArgumentException($"{where}: position 0 cannot carry loss (nothing precedes it).");
        }
        int maxTurn = -1;
        for (int j = 0; j < n; j++)
        {
            if (LossMask[j] != (TurnIndex[j] >= 0))
            {
                throw new ArgumentException($"{where}: position {j} has loss_mask {LossMask[j]} but turn_index {TurnIndex[j]}; loss positions need a turn index >= 0 and others -1.");
            }
            maxTurn = Math.Max(maxTurn, TurnIndex[j]);
        }
        if (maxTurn >= TurnRewards.Length)
        {
            throw new ArgumentException($"{where}: turn index {maxTurn} has no reward (turn_rewards has {TurnRewards.Length}).");
        }
        if (StepScores is not null && StepScores.Length != TurnRewards.Length)
        {
            throw new ArgumentException($"{where}: step_scores has {StepScores.Length} values for {TurnRewards.Length} turns (one per turn, NaN where a turn was not a step).");
        }
        if (StepScores is not null && StepScores.Any(double.IsInfinity))
        {
            throw new ArgumentException($"{where}: step_scores must be finite or NaN (got {string.Join(", ", StepScores.Where(double.IsInfinity))}).");
        }
    }
}

/// <summary>
/// Builds a <see cref="TrajectoryRow"/> from a role's conversation in the order it happened: context (system and
/// user messages, generation prompts: no loss) and generated turns (loss). After a turn that stopped normally on a
/// stop string, the turn-end token that closes it is trained too (with no recorded log-prob: the learner computes
/// it); after a length-truncated turn it is context only.
/// </summary>
public sealed class TrajectoryRowBuilder(string episodeId, string role, string groupId, int turnEndId)
{
    private readonly List<int> _ids = [];
    private readonly List<bool> _mask = [];
    private readonly List<int> _turn = [];
    private readonly List<float> _old = [];
    private int _turns;
    private long _version;

    public int Turns => _turns;
    public int Length => _ids.Count;

    /// <summary>The ids so far: the prompt for the role's next turn once its context has been added.</summary>
    public int[] Ids => [.. _ids];

    public TrajectoryRowBuilder Context(IEnumerable<int> ids)
    {
        foreach (int id in ids)
        {
            Add(id, false, -1, float.NaN);
        }
        return this;
    }

    /// <summary>Adds one generated turn: the sampled ids with their log-probs, closed by the turn-end token.</summary>
    public TrajectoryRowBuilder Turn(IReadOnlyList<int> ids, IReadOnlyList<float> logProbs, FinishReason finish, long policyVersion = 0)
    {
        if (ids.Count != logProbs.Count)
        {
            throw new ArgumentException($"turn {_turns}: {ids.Count} token ids but {logProbs.Count} log-probs.");
        }
        if (_ids.Count == 0)
        {
            throw new InvalidOperationException($"turn {_turns}: a generated turn needs context before it.");
        }
        for (int i = 0; i < ids.Count; i++)
        {
            Add(ids[i], true, _turns, logProbs[i]);
        }
        bool sampledEnd = ids.Count > 0 && finish == FinishReason.Eos;
        if (!sampledEnd)
        {
            // Stop string: the turn ended normally, so closing it is part of what the role should learn.
            bool trained = finish == FinishReason.Stop;
            Add(turnEndId, trained, trained ? _turns : -1, float.NaN);
        }
        _version = Math.Max(_version, policyVersion);
        _turns++;
        return this;
    }

    private void Add(int id, bool loss, int turn, float old)
    {
        _ids.Add(id);
        _mask.Add(loss);
        _turn.Add(turn);
        _old.Add(old);
    }

    /// <summary>The row with the given per-turn rewards (one per generated turn).</summary>
    public TrajectoryRow Build(IReadOnlyList<double> turnRewards, IReadOnlyList<double>? stepScores = null)
    {
        if (turnRewards.Count != _turns)
        {
            throw new ArgumentException($"episode {episodeId}, role {role}: {turnRewards.Count} turn rewards for {_turns} turns.");
        }
        var row = new TrajectoryRow
        {
            EpisodeId = episodeId, Role = role, GroupId = groupId, PolicyVersion = _version,
            TokenIds = [.. _ids], LossMask = [.. _mask], TurnIndex = [.. _turn], OldLogProbs = [.. _old],
            TurnRewards = [.. turnRewards],
            StepScores = stepScores is null ? null : [.. stepScores],
        };
        row.Validate();
        return row;
    }

    /// <summary>The row with one terminal reward on the last turn (0 on the others) and, optionally, each turn's step score.</summary>
    public TrajectoryRow BuildTerminal(double reward, IReadOnlyList<double>? stepScores = null) =>
        Build(Enumerable.Range(0, _turns).Select(t => t == _turns - 1 ? reward : 0.0).ToArray(), stepScores);
}
