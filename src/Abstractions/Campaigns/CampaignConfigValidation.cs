namespace ReMA.Abstractions.Campaigns;

/// <summary>Checks a campaign configuration and reports every bad field at once, by its file name (snake_case path).</summary>
public static class CampaignConfigValidation
{
    private static readonly string[] Protocols = ["vrp", "mrp", "rema-single-turn", "rema-multi-turn"];

    public static IReadOnlyList<string> Errors(CampaignConfig c)
    {
        var e = new List<string>();
        void Check(bool ok, string field, string message)
        {
            if (!ok)
            {
                e.Add($"{field}: {message}");
            }
        }
        void OneOf(string value, string field, params string[] allowed) =>
            Check(allowed.Contains(value), field, $"'{value}' is not one of {string.Join(", ", allowed)}");

        Check(!string.IsNullOrWhiteSpace(c.Name) && c.Name.Length <= 100 && c.Name[0] != '.' && c.Name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'), "name",
            $"'{c.Name}' must be 1-100 letters, digits, '-', '_' or '.', not starting with '.' (it names folders)");
        Check((c.Model.Preset is null) != (c.Model.Path is null), "model", "give exactly one of model.preset and model.path");
        Check(c.Model.Device == "cpu" || c.Model.Device == "cuda" || c.Model.Device.StartsWith("cuda:", StringComparison.Ordinal), "model.device", $"'{c.Model.Device}' must be cpu, cuda or cuda:N");
        Check(c.Model.DType is null or "float32" or "bfloat16", "model.dtype", $"'{c.Model.DType}' must be float32 or bfloat16");
        OneOf(c.Model.ChatMarkup ?? "chatml", "model.chat_markup", "chatml", "compact");   // null: state saved before the field
        Check(c.Model.ChatMarkup is null or "chatml" || c.Model.Path is null, "model.chat_markup",
            $"'{c.Model.ChatMarkup}' applies to presets only; a model folder's tokenizer file decides its markup");
        if (!string.IsNullOrWhiteSpace(c.Model.TokenizerWords))
        {
            Check(c.Model.Path is null, "model.tokenizer_words", "applies to presets only; a model folder's tokenizer file decides its tokens");
            string[] words = c.Model.TokenizerWords.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach ((string word, int i) in words.Select((w, i) => (w, i)))
            {
                // The preset's character tokenizer knows printable ASCII; "<|" starts its special tokens.
                Check(word.Length is >= 2 and <= 32 && word.All(ch => ch is > ' ' and <= '~') && !word.Contains("<|", StringComparison.Ordinal),
                    "model.tokenizer_words", $"'{word}' must be 2-32 printable ASCII characters without '<|' (words are separated by spaces)");
                Check(Array.IndexOf(words, word) == i, "model.tokenizer_words", $"'{word}' is repeated");
            }
        }
        Check(c.Model.ComputeThreads is >= 0 and <= 1024, "model.compute_threads", $"{c.Model.ComputeThreads} must be 0 (automatic) or a thread count up to 1024");
        Check(!string.IsNullOrWhiteSpace(c.Task.Name), "task.name", "is required");
        OneOf(c.Protocol, "protocol", Protocols);
        OneOf(c.View, "view", "full", "compact");
        OneOf(c.Roles.Parameters, "roles.parameters", "shared", "separate");
        OneOf(c.Roles.Schedule, "roles.schedule", "simultaneous", "alternating");
        OneOf(c.Roles.FirstRole, "roles.first_role", "meta", "reasoner");
        Check(c.Roles.SwitchEvery > 0, "roles.switch_every", $"must be positive (got {c.Roles.SwitchEvery})");
        Check(c.Roles.Parameters == "shared" || c.Protocol is "rema-single-turn" or "rema-multi-turn", "roles.parameters", "separate parameters need a two-agent protocol");
        Check(c.GroupSize >= 2, "group_size", $"must be at least 2 for group-relative advantages (got {c.GroupSize})");
        Check(c.PromptsPerStep > 0, "prompts_per_step", $"must be positive (got {c.PromptsPerStep})");
        Check(c.Steps >= 0, "steps", $"must be >= 0 (got {c.Steps})");
        Check(c.Limits.MaxTurns > 0, "limits.max_turns", $"must be positive (got {c.Limits.MaxTurns})");
        Check(c.Limits.MaxTokensPerTurn > 0, "limits.max_tokens_per_turn", $"must be positive (got {c.Limits.MaxTokensPerTurn})");
        Check(c.Limits.MaxContextTokens > c.Limits.MaxTokensPerTurn, "limits.max_context_tokens", $"must exceed max_tokens_per_turn ({c.Limits.MaxContextTokens} <= {c.Limits.MaxTokensPerTurn})");
        Check(c.Sampling.Temperature > 0, "sampling.temperature", $"must be positive for training rollouts (got {c.Sampling.Temperature})");
        Check(c.Sampling.TopP is > 0 and <= 1, "sampling.top_p", $"must be in (0, 1] (got {c.Sampling.TopP})");
        Check(c.Sampling.TopK >= 0, "sampling.top_k", $"must be >= 0 (got {c.Sampling.TopK})");
        Check(c.Sampling.EvalTemperature >= 0, "sampling.eval_temperature", $"must be >= 0 (got {c.Sampling.EvalTemperature})");
        AlgorithmSpec a = c.Algorithm;
        OneOf(a.Estimator, "algorithm.estimator", "grpo", "reinforce++");
        OneOf(a.Ratio, "algorithm.ratio", "token", "turn-arithmetic", "turn-geometric");
        OneOf(a.Aggregation, "algorithm.aggregation", "token", "turn", "trajectory");
        OneOf(a.LrSchedule, "algorithm.lr_schedule", "constant", "linear-warmup", "cosine");
        Check(a.ClipLow is >= 0 and < 1, "algorithm.clip_low", $"must be in [0, 1) (got {a.ClipLow})");
        Check(a.ClipHigh >= 0, "algorithm.clip_high", $"must be >= 0 (got {a.ClipHigh})");
        Check(a.DualClip == 0 || a.DualClip > 1, "algorithm.dual_clip", $"must be > 1, or 0 to disable (got {a.DualClip})");
        Check(a.KlCoefficient >= 0, "algorithm.kl_coefficient", $"must be >= 0 (got {a.KlCoefficient})");
        Check(a.EntropyCoefficient >= 0, "algorithm.entropy_coefficient", $"must be >= 0 (got {a.EntropyCoefficient})");
        Check(a.LearningRate > 0, "algorithm.learning_rate", $"must be positive (got {a.LearningRate})");
        Check(a.WarmupSteps >= 0, "algorithm.warmup_steps", $"must be >= 0 (got {a.WarmupSteps})");
        // A constant schedule has no warm-up: a warm-up given with it used to be ignored without a word.
        Check(a.WarmupSteps <= 0 || a.LrSchedule != "constant", "algorithm.warmup_steps",
            $"{a.WarmupSteps} warm-up steps need lr_schedule linear-warmup or cosine (lr_schedule constant has no warm-up)");
        Check(a.MaxGradNorm > 0, "algorithm.max_grad_norm", $"must be positive (got {a.MaxGradNorm})");
        Check(a.AdamBeta1 is >= 0 and < 1, "algorithm.adam_beta1", $"must be in [0, 1) (got {a.AdamBeta1})");
        Check(a.AdamBeta2 is >= 0 and < 1, "algorithm.adam_beta2", $"must be in [0, 1) (got {a.AdamBeta2})");
        Check(a.AdamEpsilon > 0, "algorithm.adam_epsilon", $"must be positive (got {a.AdamEpsilon})");
        Check(a.Epochs > 0, "algorithm.epochs", $"must be positive (got {a.Epochs})");
        Check(a.MiniBatchRows >= 0, "algorithm.mini_batch_rows", $"must be >= 0 (got {a.MiniBatchRows})");
        Check(a.MiniBatches >= 0, "algorithm.mini_batches", $"must be >= 0 (got {a.MiniBatches})");
        Check(a.MiniBatches <= 1 || a.MiniBatchRows == 0, "algorithm.mini_batches",
            $"{a.MiniBatches} mini-batches of whole episodes and mini_batch_rows {a.MiniBatchRows} cannot both be set: choose one way to split the rows");
        Check(a.LrSchedule != "cosine" || (a.MiniBatchRows == 0 && a.MiniBatches <= 1), "algorithm.lr_schedule",
            $"cosine decays over the learner's optimizer steps, known ahead only with one mini-batch per update (mini_batch_rows {a.MiniBatchRows}, mini_batches {a.MiniBatches}): use linear-warmup or constant with mini-batches");
        Check(a.MicroBatchTokens > 0, "algorithm.micro_batch_tokens", $"must be positive (got {a.MicroBatchTokens})");
        Check(a.TurnDiscount is > 0 and <= 1, "algorithm.turn_discount", $"must be in (0, 1] (got {a.TurnDiscount})");
        Check(double.IsFinite(a.StepRewardWeight) && a.StepRewardWeight >= 0, "algorithm.step_reward_weight", $"must be a finite number >= 0 (got {a.StepRewardWeight})");
        Check(a.StepRewardWeight == 0 || c.Protocol == "rema-multi-turn", "algorithm.step_reward_weight",
            $"step rewards come from the reasoner's steps in multi-turn episodes: set protocol rema-multi-turn or the weight to 0 (protocol {c.Protocol}, weight {a.StepRewardWeight})");
        Check(!c.Sft.Enabled || c.Sft.Demonstrations > 0, "sft.demonstrations", $"an enabled SFT stage needs demonstrations > 0 (got {c.Sft.Demonstrations})");
        Check(c.Sft.Epochs > 0, "sft.epochs", $"must be positive (got {c.Sft.Epochs})");
        Check(c.Sft.WeightDecay is null or >= 0, "sft.weight_decay", $"must be >= 0 (got {c.Sft.WeightDecay})");
        Check(c.Sft.AdamBeta2 is null or (>= 0 and < 1), "sft.adam_beta2", $"must be in [0, 1) (got {c.Sft.AdamBeta2})");
        Check(c.Sft.LearningRate > 0, "sft.learning_rate", $"must be positive (got {c.Sft.LearningRate})");
        Check(c.Sft.BatchRows > 0, "sft.batch_rows", $"must be positive (got {c.Sft.BatchRows})");
        Check(c.Sft.Steps >= 0, "sft.steps", $"must be 0 (epochs decide) or positive (got {c.Sft.Steps})");
        Check(c.Sft.Schedule is "constant" or "cosine", "sft.schedule", $"must be constant or cosine (got '{c.Sft.Schedule}')");
        Check(c.Sft.WarmupSteps >= 0, "sft.warmup_steps", $"must be >= 0 (got {c.Sft.WarmupSteps})");
        Check(c.Sft.WarmupSteps == 0 || c.Sft.Schedule == "constant", "sft.warmup_steps",
            $"{c.Sft.WarmupSteps} warm-up steps apply to sft.schedule constant only (cosine warms up over 5% of its steps)");
        Check(c.Eval.Interval > 0, "eval.interval", $"must be positive (got {c.Eval.Interval})");
        Check(c.Eval.MaxProblems >= 0, "eval.max_problems", $"must be >= 0 (got {c.Eval.MaxProblems})");
        Check(c.CheckpointInterval > 0, "checkpoint_interval", $"must be positive (got {c.CheckpointInterval})");
        Check(c.EpisodeTimeoutSeconds > 0, "episode_timeout_seconds", $"must be positive (got {c.EpisodeTimeoutSeconds})");
        foreach ((string field, double rate) in new[]
        {
            ("monitor.repetition_rate", c.Monitor.RepetitionRate), ("monitor.within_turn_repetition_rate", c.Monitor.WithinTurnRepetitionRate),
            ("monitor.empty_turn_rate", c.Monitor.EmptyTurnRate), ("monitor.no_guidance_rate", c.Monitor.NoGuidanceRate),
            ("monitor.turns_fraction", c.Monitor.TurnsFraction),
        })
        {
            Check(rate is >= 0 and <= 1, field, $"must be between 0 and 1, 0 turning the check off (got {rate})");
        }
        Check(c.Monitor.LengthRatio == 0 || c.Monitor.LengthRatio > 1, "monitor.length_ratio", $"must be above 1, or 0 to turn the check off (got {c.Monitor.LengthRatio})");
        Check(c.Monitor.BaselineSteps >= 1, "monitor.baseline_steps", $"must be at least 1 (got {c.Monitor.BaselineSteps})");
        return e;
    }

    public static void ThrowIfInvalid(CampaignConfig c, string source = "campaign")
    {
        var errors = Errors(c);
        if (errors.Count > 0)
        {
            throw new ArgumentException(Report(source, errors));
        }
    }

    /// <summary>The one error message for every bad field of <paramref name="source"/>: a line each, path first.</summary>
    public static string Report(string source, IReadOnlyCollection<string> errors) =>
        $"{source}: {errors.Count} invalid field(s):\n  " + string.Join("\n  ", errors);
}
