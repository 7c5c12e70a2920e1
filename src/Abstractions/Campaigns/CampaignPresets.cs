namespace ReMA.Abstractions.Campaigns;

/// <summary>
/// Named campaigns (<c>rema train --preset NAME</c>). The arithmetic ones share one budget so their results compare:
/// a character-level nano model, an SFT warm start on the task's demonstrations, then RL steps of 16 prompts x 8
/// episodes. <c>math-qwen</c> is the paper's MATH setting for a real checkpoint and a GPU.
/// </summary>
public static class CampaignPresets
{
    public const string ArithmeticDemo = "arithmetic-demo";
    public const string ArithmeticVrp = "arithmetic-vrp";
    public const string ArithmeticSingleTurn = "arithmetic-single-turn";
    public const string ArithmeticSeparate = "arithmetic-separate";
    public const string ArithmeticReference = "arithmetic-reference";
    public const string MathQwen = "math-qwen";

    /// <summary>Where <c>math-qwen</c> looks for its checkpoint (a Qwen2.5 instruct model in the Hugging Face layout) unless the campaign file or --model-path says otherwise.</summary>
    public const string MathQwenDefaultPath = "models/Qwen2.5-1.5B-Instruct";

    public static IReadOnlyList<string> Names { get; } = [ArithmeticDemo, ArithmeticVrp, ArithmeticSingleTurn, ArithmeticSeparate, ArithmeticReference, MathQwen];

    public static CampaignConfig Get(string name) => name switch
    {
        ArithmeticDemo => Arithmetic(ArithmeticDemo, "rema-multi-turn", "shared"),
        ArithmeticVrp => Arithmetic(ArithmeticVrp, "vrp", "shared"),
        ArithmeticSingleTurn => Arithmetic(ArithmeticSingleTurn, "rema-single-turn", "shared"),
        ArithmeticSeparate => Arithmetic(ArithmeticSeparate, "rema-multi-turn", "separate"),
        ArithmeticReference => Reference(),
        MathQwen => new CampaignConfig
        {
            Name = MathQwen,
            Model = new ModelSpec { Preset = null, Path = MathQwenDefaultPath, Device = "cuda", DType = "bfloat16" },
            // Word problems to train on (GSM8K train), GSM8K test and MATH-500 to evaluate: the datasets beside the
            // repository (../shared/data); point the paths elsewhere in a campaign file.
            Task = new TaskSpec
            {
                Name = "math",
                Options = new Dictionary<string, string>
                {
                    ["train_path"] = "../shared/data/gsm8k/train.jsonl", ["train_format"] = "gsm8k",
                    ["test_path"] = "../shared/data/gsm8k/test.jsonl", ["test_format"] = "gsm8k",
                    ["eval_sets"] = "math500=../shared/data/math500/test.jsonl",
                },
            },
            Protocol = "rema-multi-turn",
            View = "full",
            Roles = new RolesSpec { Parameters = "shared" },
            GroupSize = 16,
            PromptsPerStep = 128,
            Steps = 500,
            Limits = new LimitsSpec { MaxTurns = 30, MaxTokensPerTurn = 512, MaxContextTokens = 4096, StopWhenTruncated = true },
            Sampling = new SamplingSettings { Temperature = 1f, TopP = 1f },
            Algorithm = new AlgorithmSpec { LearningRate = 1e-6, Ratio = "turn-geometric", Aggregation = "trajectory", MicroBatchTokens = 16384 },
            Sft = new SftSpec { Enabled = false },
            Eval = new EvalSpec { Sets = ["test", "math500"], Interval = 10, MaxProblems = 500 },
            CheckpointInterval = 25,
            EpisodeTimeoutSeconds = 900,
        },
        _ => throw new ArgumentException($"preset '{name}' is not known; presets: {string.Join(", ", Names)}."),
    };

    /// <summary>
    /// The reference GRPO's setting (../shared/reference, issue 19) as closely as the product allows: 2-4 operands
    /// 0-9 without parentheses, every intermediate within +-99 in the multiplication-first order its worked solutions
    /// follow, fresh problems for every RL step and for the SFT warm start (about one pass over 17,000 demonstrated
    /// problems, so no row repeats), state-only views, bare-operation meta turns, the nano model (0.42M parameters,
    /// the reference's size); SFT as the reference's (AdamW 2e-3, beta2 0.98, weight decay 0.01, 50 warm-up steps then
    /// constant, 800 steps of 128 rows) and its GRPO (plain Adam at 1e-4, zero-advantage episodes dropped, two
    /// optimizer steps per RL step, no warm-up, no overlap), 250 steps, evaluated on 1,000 problems.
    /// </summary>
    private static CampaignConfig Reference() => Arithmetic(ArithmeticReference, "rema-multi-turn", "shared") with
    {
        Task = new TaskSpec
        {
            Name = "arithmetic",
            Options = new Dictionary<string, string>
            {
                ["prompts"] = "none", ["min_operand"] = "0", ["parentheses_probability"] = "0", ["order"] = "multiplication-first",
                ["format"] = "short", ["problems"] = "fresh", ["eval_size"] = "1000",
            },
        },
        Steps = 250,
        Algorithm = new AlgorithmSpec { LearningRate = 1e-4, WeightDecay = 0, FilterSolvedAndFailedGroups = true, MiniBatches = 2 },
        Sft = new SftSpec
        {
            Demonstrations = 17000, Steps = 800, BatchRows = 128, LearningRate = 2e-3, Schedule = "constant", WarmupSteps = 50,
            WeightDecay = 0.01, AdamBeta2 = 0.98,
        },
        Eval = new EvalSpec { Sets = ["test", "ood-operands"], Interval = 50, MaxProblems = 1000 },
        CheckpointInterval = 50,
    };

    private static CampaignConfig Arithmetic(string name, string protocol, string parameters) => new()
    {
        Name = name,
        Model = new ModelSpec { Preset = "nano", Device = "cpu" },
        Task = new TaskSpec
        {
            Name = "arithmetic",
            Options = new Dictionary<string, string> { ["prompts"] = "none", ["train_size"] = "5000", ["eval_size"] = "500" },
        },
        Protocol = protocol,
        View = protocol == "rema-multi-turn" ? "compact" : "full",
        Roles = new RolesSpec { Parameters = parameters },
        GroupSize = 8,
        PromptsPerStep = 16,
        Steps = 60,
        Limits = new LimitsSpec { MaxTurns = 8, MaxTokensPerTurn = protocol == "rema-multi-turn" ? 24 : 96, MaxContextTokens = 400 },
        // Overlapped rollouts keep both cores of a small machine busy: RL stage 253 s -> 203 s, CPU 73 % -> 83 %, same
        // accuracy (docs/benchmarks.md).
        // The RL stage of the reference GRPO (issue 19): plain Adam at 1e-4, no warm-up, groups whose episodes all scored
        // the same (zero advantage) left out of the update and of its normalisation.
        Algorithm = new AlgorithmSpec { LearningRate = 1e-4, WeightDecay = 0, FilterSolvedAndFailedGroups = true, OverlapRollout = true },
        // A constant learning rate after a short warm-up: RL does not improve an SFT model annealed by a cosine schedule
        // (46.6 -> 28.4 % after 60 RL steps) but does improve the same SFT run at a constant rate (docs/results.md).
        Sft = new SftSpec { Demonstrations = 4000, Steps = 700, BatchRows = 128, LearningRate = 1e-3, Schedule = "constant", WarmupSteps = 35 },
        Eval = new EvalSpec { Sets = ["test", "ood-operands"], Interval = 20, MaxProblems = 500 },
        CheckpointInterval = 20,
    };
}
