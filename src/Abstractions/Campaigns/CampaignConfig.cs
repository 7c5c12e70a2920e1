namespace ReMA.Abstractions.Campaigns;

/// <summary>
/// Everything a training campaign needs, as submitted by a client (campaign files use snake_case names, e.g.
/// "group_size"). Defaults are the embedded arithmetic demo's; ReMA's paper values are noted where they differ.
/// </summary>
[GenerateSerializer, Immutable, Alias("rema.CampaignConfig")]
public sealed record CampaignConfig
{
    [Id(0)] public string Name { get; init; } = "arithmetic-demo";
    [Id(1)] public ModelSpec Model { get; init; } = new();
    [Id(2)] public TaskSpec Task { get; init; } = new();
    /// <summary>vrp, mrp, rema-single-turn or rema-multi-turn.</summary>
    [Id(3)] public string Protocol { get; init; } = "rema-multi-turn";
    /// <summary>full (paper) or compact (question + current state + last message; stateful tasks only).</summary>
    [Id(4)] public string View { get; init; } = "compact";
    [Id(5)] public RolesSpec Roles { get; init; } = new();
    /// <summary>Episodes per prompt, G [16].</summary>
    [Id(6)] public int GroupSize { get; init; } = 8;
    /// <summary>Prompts per RL step, B [128].</summary>
    [Id(7)] public int PromptsPerStep { get; init; } = 16;
    [Id(8)] public int Steps { get; init; } = 200;
    [Id(9)] public LimitsSpec Limits { get; init; } = new();
    [Id(10)] public SamplingSettings Sampling { get; init; } = new();
    [Id(11)] public AlgorithmSpec Algorithm { get; init; } = new();
    [Id(12)] public SftSpec Sft { get; init; } = new();
    [Id(13)] public EvalSpec Eval { get; init; } = new();
    [Id(14)] public int CheckpointInterval { get; init; } = 50;
    [Id(15)] public long Seed { get; init; } = 1;
    /// <summary>Seconds an episode may take before it is retried once and then counted as failed.</summary>
    [Id(16)] public int EpisodeTimeoutSeconds { get; init; } = 120;
    /// <summary>Collapse warnings (the paper's echo trap and its relatives): thresholds on every RL step's rollout statistics.</summary>
    [Id(17)] public MonitorSpec Monitor { get; init; } = new();
}

[GenerateSerializer, Immutable, Alias("rema.ModelSpec")]
public sealed record ModelSpec
{
    /// <summary>A named architecture trained from scratch (nano, nano-qwen2, micro, stories15m) ...</summary>
    [Id(0)] public string? Preset { get; init; } = "nano";
    /// <summary>... or a Hugging Face style folder (config.json, safetensors, tokenizer.json).</summary>
    [Id(1)] public string? Path { get; init; }
    [Id(2)] public string Device { get; init; } = "cpu";
    [Id(3)] public string? DType { get; init; }
    /// <summary>
    /// Turn markup of a preset's character tokenizer: chatml, or compact (6 tokens of markup per turn instead of 20;
    /// the tokenizer file saved with every checkpoint records it). A model folder's tokenizer decides its own.
    /// </summary>
    [Id(4)] public string ChatMarkup { get; init; } = "chatml";
    /// <summary>
    /// Multi-character tokens of a preset's character tokenizer, separated by spaces (e.g. "[FINISH] \\boxed{"): a
    /// protocol's fixed markers then cost one token each instead of one per character. Recorded in the tokenizer file
    /// with every checkpoint. Null: none. A model folder's tokenizer decides its own.
    /// </summary>
    [Id(5)] public string? TokenizerWords { get; init; }
    /// <summary>
    /// libtorch intra-op threads of the policies' engine threads and learner updates; 0: automatic. Engines of a model
    /// under a million parameters on the CPU take one (two spent more time meeting at barriers than computing), others
    /// the silo's count; learners the silo's count, less the engine's thread when rollouts overlap the updates
    /// (algorithm.overlap_rollout) of such a model.
    /// </summary>
    [Id(6)] public int ComputeThreads { get; init; }

    /// <summary>
    /// This model taken from a folder (a checkpoint of it, or a Hugging Face model): the preset and its markup and word
    /// choices give way to the folder's files, whose tokenizer file records the markup it was trained with.
    /// </summary>
    public ModelSpec FromFolder(string path) => this with { Preset = null, Path = path, ChatMarkup = "chatml", TokenizerWords = null };
}

[GenerateSerializer, Immutable, Alias("rema.TaskSpec")]
public sealed record TaskSpec
{
    [Id(0)] public string Name { get; init; } = "arithmetic";
    [Id(1)] public Dictionary<string, string> Options { get; init; } = [];
    [Id(2)] public string TrainSplit { get; init; } = "train";
}

[GenerateSerializer, Immutable, Alias("rema.RolesSpec")]
public sealed record RolesSpec
{
    /// <summary>shared (one policy plays both roles; paper default) or separate (one policy per role).</summary>
    [Id(0)] public string Parameters { get; init; } = "shared";
    /// <summary>For separate parameters: simultaneous, or alternating (paper: freeze one, switch every K steps).</summary>
    [Id(1)] public string Schedule { get; init; } = "simultaneous";
    [Id(2)] public int SwitchEvery { get; init; } = 10;
    [Id(3)] public string FirstRole { get; init; } = "meta";
}

[GenerateSerializer, Immutable, Alias("rema.LimitsSpec")]
public sealed record LimitsSpec
{
    [Id(0)] public int MaxTurns { get; init; } = 8;                 // paper: 30
    [Id(1)] public int MaxTokensPerTurn { get; init; } = 24;        // paper: 512
    [Id(2)] public int MaxContextTokens { get; init; } = 400;       // paper: 4096
    [Id(3)] public bool StopWhenTruncated { get; init; } = true;
}

[GenerateSerializer, Immutable, Alias("rema.SamplingSettings")]
public sealed record SamplingSettings
{
    [Id(0)] public float Temperature { get; init; } = 1f;
    [Id(1)] public float TopP { get; init; } = 1f;
    [Id(2)] public int TopK { get; init; }
    /// <summary>Evaluation decoding: 0 = greedy (paper).</summary>
    [Id(3)] public float EvalTemperature { get; init; }
}

[GenerateSerializer, Immutable, Alias("rema.AlgorithmSpec")]
public sealed record AlgorithmSpec
{
    /// <summary>grpo or reinforce++.</summary>
    [Id(0)] public string Estimator { get; init; } = "grpo";
    /// <summary>token, turn-arithmetic or turn-geometric.</summary>
    [Id(1)] public string Ratio { get; init; } = "turn-geometric";
    /// <summary>token, turn or trajectory.</summary>
    [Id(2)] public string Aggregation { get; init; } = "trajectory";
    [Id(3)] public double ClipLow { get; init; } = 0.2;
    [Id(4)] public double ClipHigh { get; init; } = 0.2;
    [Id(5)] public double DualClip { get; init; } = 3.0;
    [Id(6)] public double LogRatioClamp { get; init; } = 3.0;
    [Id(7)] public double KlCoefficient { get; init; }
    [Id(8)] public double EntropyCoefficient { get; init; }
    [Id(9)] public double LearningRate { get; init; } = 1e-4;       // paper: 1e-6 for 7-8B models
    [Id(10)] public int WarmupSteps { get; init; }
    /// <summary>constant, linear-warmup or cosine.</summary>
    [Id(11)] public string LrSchedule { get; init; } = "constant";
    [Id(12)] public double WeightDecay { get; init; } = 0.01;
    [Id(13)] public double MaxGradNorm { get; init; } = 1.0;
    [Id(14)] public int Epochs { get; init; } = 1;
    [Id(15)] public int MiniBatchRows { get; init; }
    [Id(16)] public int MicroBatchTokens { get; init; } = 8192;
    [Id(17)] public double TurnDiscount { get; init; } = 1.0;
    [Id(18)] public bool FilterSolvedAndFailedGroups { get; init; }
    /// <summary>AdamW betas and epsilon (torch defaults). A larger epsilon damps the steps of parameters whose gradients are tiny.</summary>
    [Id(19)] public double AdamBeta1 { get; init; } = 0.9;
    [Id(20)] public double AdamBeta2 { get; init; } = 0.999;
    [Id(21)] public double AdamEpsilon { get; init; } = 1e-8;
    /// <summary>
    /// Generate step N+1's episodes while step N's update runs (one policy version behind; the recorded sampling
    /// log-probs make the ratio account for it). Keeps both cores busy on small machines; off by default.
    /// </summary>
    [Id(22)] public bool OverlapRollout { get; init; }
    /// <summary>
    /// Recompute every old log-prob with the learner's weights before the update instead of using the ones recorded
    /// at sampling; the step's old_log_prob_drift then reports the largest |recorded - recomputed| over all trained
    /// tokens (a check that sampler and learner agree; off by default, it costs one scoring pass).
    /// </summary>
    [Id(23)] public bool RecomputeOldLogProbs { get; init; }
    /// <summary>
    /// Weight of a per-turn step reward on top of the outcome reward (0, the paper's setting, turns it off). Where the
    /// task's environment checks the reasoner's turns as steps (the arithmetic task: is the operation it applied
    /// computed correctly), each checked turn's advantage gains weight x its step advantage, normalised against the
    /// group's other checked turns under GRPO. The outcome reward is unchanged; the meta agent's turns have no steps.
    /// </summary>
    [Id(24)] public double StepRewardWeight { get; init; }
    /// <summary>
    /// Split each update into this many mini-batches of whole episodes, one optimizer step each (the reference GRPO
    /// uses 2); 0 or 1 leaves the split to mini_batch_rows. Not with mini_batch_rows.
    /// </summary>
    [Id(25)] public int MiniBatches { get; init; }
}

[GenerateSerializer, Immutable, Alias("rema.SftSpec")]
public sealed record SftSpec
{
    [Id(0)] public bool Enabled { get; init; } = true;
    /// <summary>Demonstrations written by the task from its training split.</summary>
    [Id(1)] public int Demonstrations { get; init; } = 2000;
    [Id(3)] public int Epochs { get; init; } = 3;
    [Id(4)] public double LearningRate { get; init; } = 1e-3;       // paper: 1e-5 for large models
    [Id(5)] public int BatchRows { get; init; } = 64;
    /// <summary>Optimizer steps; 0 = as many as <see cref="Epochs"/> passes over the rows take.</summary>
    [Id(6)] public int Steps { get; init; }
    /// <summary>
    /// constant (after <see cref="WarmupSteps"/> of linear warm-up), or cosine (5% linear warm-up, then decay to a
    /// tenth of the peak). Constant is what RL after it needs on the arithmetic presets: a model annealed to a tenth
    /// of its learning rate is not improved by the RL stage that follows (docs/results.md, issue 19).
    /// </summary>
    [Id(7)] public string Schedule { get; init; } = "constant";
    /// <summary>Linear warm-up steps of the constant schedule (the cosine schedule always warms up over 5% of its steps).</summary>
    [Id(8)] public int WarmupSteps { get; init; }
    /// <summary>The SFT stage's AdamW weight decay and beta2; absent (null), the algorithm's are used.</summary>
    [Id(9)] public double? WeightDecay { get; init; }
    [Id(10)] public double? AdamBeta2 { get; init; }
}

/// <summary>
/// When a step's rollouts look like a collapse, the campaign warns (CLI, silo log, dashboard): a rate above its
/// threshold, episodes near the turn limit, or a role's mean turn length moved by more than <see cref="LengthRatio"/>
/// either way from its mean over the first <see cref="BaselineSteps"/> steps. A threshold of 0 turns its check off.
/// </summary>
[GenerateSerializer, Immutable, Alias("rema.MonitorSpec")]
public sealed record MonitorSpec
{
    /// <summary>Turns that repeat their role's previous turn of the episode verbatim.</summary>
    [Id(0)] public double RepetitionRate { get; init; } = 0.3;
    /// <summary>Turns that loop within themselves (fewer than half of their character 4-grams distinct).</summary>
    [Id(1)] public double WithinTurnRepetitionRate { get; init; } = 0.2;
    [Id(2)] public double EmptyTurnRate { get; init; } = 0.01;
    /// <summary>Meta turns that give no guidance: blank, or a verbatim copy of the meta's previous message or of the reasoner's last one.</summary>
    [Id(3)] public double NoGuidanceRate { get; init; } = 0.3;
    /// <summary>Mean rounds per episode above this share of max_turns.</summary>
    [Id(4)] public double TurnsFraction { get; init; } = 0.9;
    [Id(5)] public double LengthRatio { get; init; } = 3.0;
    [Id(6)] public int BaselineSteps { get; init; } = 5;
}

[GenerateSerializer, Immutable, Alias("rema.EvalSpec")]
public sealed record EvalSpec
{
    /// <summary>Splits of the task evaluated with greedy pass@1.</summary>
    [Id(0)] public List<string> Sets { get; init; } = ["test", "ood-operands"];
    [Id(1)] public int Interval { get; init; } = 25;
    /// <summary>Problems per set at most (0 = all).</summary>
    [Id(2)] public int MaxProblems { get; init; } = 500;
    /// <summary>
    /// Evaluate before the first RL step too (the starting checkpoint). Off where that point is already measured, for
    /// example the arms of an experiment that share one SFT checkpoint.
    /// </summary>
    [Id(3)] public bool AtStart { get; init; } = true;
}
