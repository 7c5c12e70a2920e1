namespace ReMA.Abstractions.Campaigns;

/// <summary>
/// Named campaigns (<c>rema train --preset NAME</c>). The arithmetic ones share one budget so their results compare:
/// a character-level nano model, an SFT warm start on the task's demonstrations, then RL steps of 16 prompts x 8
/// episodes; all but <c>arithmetic-parens</c> pose the reference GRPO's task. <c>math-qwen</c> is the paper's MATH setting for a real checkpoint and a GPU.
/// </summary>
public static class CampaignPresets
{
    public const string ArithmeticDemo = "arithmetic-demo";
    public const string ArithmeticVrp = "arithmetic-vrp";
    public const string ArithmeticSingleTurn = "arithmetic-single-turn";
    public const string ArithmeticSeparate = "arithmetic-separate";
    public const string ArithmeticReference = "arithmetic-reference";
    public const string ArithmeticParens = "arithmetic-parens";
    public const string MathQwen = "math-qwen";

    /// <summary>Where <c>math-qwen</c> looks for its checkpoint (a Qwen2.5 instruct model in the Hugging Face layout) unless the campaign file or --model-path says otherwise.</summary>
    public const string MathQwenDefaultPath = "models/Qwen2.5-1.5B-Instruct";

    public static IReadOnlyList<string> Names { get; } = [ArithmeticDemo, ArithmeticVrp, ArithmeticSingleTurn, ArithmeticSeparate, ArithmeticReference, ArithmeticParens, MathQwen];

    public static CampaignConfig Get(string name) => name switch
    {
        ArithmeticDemo => Arithmetic(ArithmeticDemo, "rema-multi-turn", "shared"),
        ArithmeticVrp => Arithmetic(ArithmeticVrp, "vrp", "shared"),
        ArithmeticSingleTurn => Arithmetic(ArithmeticSingleTurn, "rema-single-turn", "shared"),
        ArithmeticSeparate => Arithmetic(ArithmeticSeparate, "rema-multi-turn", "separate"),
        ArithmeticReference => Reference(),
        ArithmeticParens => Parens(),
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
    /// The arithmetic task as the reference GRPO (../shared/reference, issue 19) poses it: 2-4 operands 0-9 without
    /// parentheses, every intermediate within +-99, worked solutions in the multiplication-first order, fresh problems for every RL step and for the SFT warm start, bare-operation meta turns, terse compact views, no role prompts; the model's compact chat markup.
    /// </summary>
    private static Dictionary<string, string> ReferenceTask(int evalSize) => new()
    {
        ["prompts"] = "none", ["min_operand"] = "0", ["parentheses_probability"] = "0", ["order"] = "multiplication-first",
        ["format"] = "terse", ["problems"] = "fresh", ["eval_size"] = evalSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// The reference's SFT warm start: AdamW 2e-3, beta2 0.98, weight decay 0.01, 50 warm-up steps then constant (no
    /// annealing: RL does not improve an annealed SFT model, in the product or in the reference; docs/results.md),
    /// 800 steps of 128 rows: about one pass over the rows of 17,000 demonstrated problems, so no row repeats.
    /// </summary>
    private static SftSpec ReferenceSft => new()
    {
        Demonstrations = 17000, Steps = 800, BatchRows = 128, LearningRate = 2e-3, Schedule = "constant", WarmupSteps = 50,
        WeightDecay = 0.01, AdamBeta2 = 0.98,
    };

    /// <summary>
    /// The demo's budget on the reference's task: the nano model (0.34M parameters with this vocabulary, about the
    /// reference's size) with the compact chat markup, terse views and <see cref="ArithmeticWords"/> (20 tokens per turn
    /// row instead of 54: issue 20), the reference's SFT, then 60 RL steps of 16 x 8 episodes with the reference's update (plain Adam at 1e-4, no
    /// warm-up, groups whose episodes all scored the same left out of the update and its normalisation) and
    /// overlapped rollouts, which keep both cores of a small machine busy (docs/benchmarks.md).
    /// </summary>
    /// <summary>
    /// The arithmetic presets' multi-character tokens: the protocol's markers and the terse views' labels, one token
    /// each (as the reference's vocabulary has them) instead of one per character.
    /// </summary>
    public const string ArithmeticWords = "[FINISH] \\boxed{ Last: Do:";

    private static CampaignConfig Arithmetic(string name, string protocol, string parameters) => new()
    {
        Name = name,
        Model = new ModelSpec { Preset = "nano", Device = "cpu", ChatMarkup = "compact", TokenizerWords = ArithmeticWords },
        Task = new TaskSpec { Name = "arithmetic", Options = ReferenceTask(500) },
        Protocol = protocol,
        View = protocol == "rema-multi-turn" ? "compact" : "full",
        Roles = new RolesSpec { Parameters = parameters },
        GroupSize = 8,
        PromptsPerStep = 16,
        Steps = 60,
        Limits = new LimitsSpec { MaxTurns = 8, MaxTokensPerTurn = protocol == "rema-multi-turn" ? 24 : 96, MaxContextTokens = 400 },
        Algorithm = new AlgorithmSpec { LearningRate = 1e-4, WeightDecay = 0, FilterSolvedAndFailedGroups = true, OverlapRollout = true },
        Sft = ReferenceSft,
        Eval = new EvalSpec { Sets = ["test", "ood-operands"], Interval = 20, MaxProblems = 500 },
        CheckpointInterval = 20,
    };

    /// <summary>
    /// The reference's setting as closely as the product allows, at the reference's budget: the demo's task, model and
    /// SFT, 250 GRPO steps with two optimizer steps each (episodes dealt into two mini-batches) and no overlap,
    /// evaluated on 1,000 problems every 50 steps. About 20 minutes on 2 cores.
    /// </summary>
    private static CampaignConfig Reference() => Arithmetic(ArithmeticReference, "rema-multi-turn", "shared") with
    {
        Task = new TaskSpec { Name = "arithmetic", Options = ReferenceTask(1000) },
        Steps = 250,
        Algorithm = new AlgorithmSpec { LearningRate = 1e-4, WeightDecay = 0, FilterSolvedAndFailedGroups = true, MiniBatches = 2 },
        Eval = new EvalSpec { Sets = ["test", "ood-operands"], Interval = 50, MaxProblems = 1000 },
        CheckpointInterval = 50,
    };

    /// <summary>
    /// The harder task the demo used before issue 19: operands 1-9, 30 % of expressions group a run in parentheses
    /// (states printed with the parentheses they need, the next step the leftmost operation with two number operands),
    /// "Next: a op b" instructions, a fixed pool of 5,000 training problems (the first 4,000 demonstrated), SFT at a
    /// constant 1e-3 after 35 warm-up steps; evaluated out of distribution on more operands, two-digit operands and
    /// nested parentheses too.
    /// </summary>
    private static CampaignConfig Parens() => Arithmetic(ArithmeticParens, "rema-multi-turn", "shared") with
    {
        // The previous demo exactly, ChatML markup included (its results in docs/results.md were measured so).
        Model = new ModelSpec { Preset = "nano", Device = "cpu" },
        Task = new TaskSpec { Name = "arithmetic", Options = new Dictionary<string, string> { ["prompts"] = "none", ["train_size"] = "5000", ["eval_size"] = "500" } },
        Sft = new SftSpec { Demonstrations = 4000, Steps = 700, BatchRows = 128, LearningRate = 1e-3, Schedule = "constant", WarmupSteps = 35 },
        Eval = new EvalSpec { Sets = ["test", "ood-operands", "ood-large", "ood-nested"], Interval = 20, MaxProblems = 500 },
    };
}
