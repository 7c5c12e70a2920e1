namespace ReMA.Client.Experiments;

/// <summary>Named experiments (<c>rema experiment --preset NAME</c>; <c>--print</c> writes one out as a file to edit).</summary>
public static class ExperimentPresets
{
    public const string ArithmeticPaper = "arithmetic-paper";
    public const string ArithmeticStepReward = "arithmetic-step-reward";

    public static IReadOnlyList<string> Names { get; } = [ArithmeticPaper, ArithmeticStepReward];

    public static ExperimentConfig Get(string name) => name switch
    {
        ArithmeticPaper => ExperimentFile.Parse(ArithmeticPaperJson, $"preset {ArithmeticPaper}"),
        ArithmeticStepReward => ExperimentFile.Parse(ArithmeticStepRewardJson, $"preset {ArithmeticStepReward}"),
        _ => throw new ArgumentException($"experiment preset '{name}' is not known; presets: {string.Join(", ", Names)}."),
    };

    /// <summary>
    /// The paper's comparison on the arithmetic task (REMA.md section 9): single-agent VRP, MRP, ReMA single-turn and
    /// multi-turn (shared, and separate parameters trained at once), the token-level ratio ablation of multi-turn ReMA,
    /// and a control that spends multi-turn RL's compute on more SFT. Every arm starts from its protocol's SFT checkpoint
    /// (the arithmetic-demo warm start, on the reference GRPO's task since issue 19); 40 RL steps of 16 x 8 episodes per
    /// arm and seed; greedy pass@1 on 500 problems of the in-distribution test split and of the out-of-distribution
    /// splits with more operands and with two-digit operands (the demo's task has no parentheses, so ood-nested is left
    /// out; base it on arithmetic-parens in an experiment file to bring it back). About an hour on 2 cores (65 minutes on the
    /// parenthesised task before issue 19);
    /// --quick (2 seeds, 8 steps of 8 x 8, 100 SFT steps, 100 problems per set) about 7.
    /// </summary>
    private const string ArithmeticPaperJson = """
    {
      "name": "arithmetic-paper",
      "base": "arithmetic-demo",
      "campaign": {
        "steps": 40,
        "eval": { "sets": ["test", "ood-operands", "ood-large"], "interval": 40, "max_problems": 500 }
      },
      "seeds": [1, 2, 3],
      "arms": [
        { "name": "vrp-rl", "campaign": { "protocol": "vrp", "view": "full", "limits": { "max_tokens_per_turn": 96 } } },
        { "name": "mrp-rl", "campaign": { "protocol": "mrp", "view": "full", "limits": { "max_tokens_per_turn": 96 } } },
        { "name": "rema-single-turn", "campaign": { "protocol": "rema-single-turn", "view": "full", "limits": { "max_tokens_per_turn": 96 } } },
        { "name": "rema-multi-turn" },
        { "name": "rema-separate", "campaign": { "roles": { "parameters": "separate", "schedule": "simultaneous" } } },
        { "name": "rema-token-ratio", "campaign": { "algorithm": { "ratio": "token" } } },
        { "name": "more-sft", "kind": "sft", "compute_of": "rema-multi-turn" }
      ],
      "quick": {
        "seeds": [1, 2],
        "campaign": { "steps": 8, "prompts_per_step": 8, "sft": { "steps": 100, "demonstrations": 3000 }, "eval": { "interval": 8, "max_problems": 100 } }
      }
    }
    """;

    /// <summary>
    /// Outcome reward against outcome plus a per-turn step reward (algorithm.step_reward_weight 1) for multi-turn
    /// ReMA on the arithmetic task, longer than the paper comparison: 250 RL steps of 16 x 8 at lr 1e-4 (the brief's
    /// prototype settings, no overlap), greedy pass@1 on 500 problems every 50 steps, and the control that spends the
    /// step-reward arm's wall time on more SFT. About 35 minutes per seed on 2 cores; --quick about 3.
    /// </summary>
    private const string ArithmeticStepRewardJson = """
    {
      "name": "arithmetic-step-reward",
      "base": "arithmetic-demo",
      "campaign": {
        "steps": 250,
        "algorithm": { "learning_rate": 1e-4, "warmup_steps": 5, "lr_schedule": "linear-warmup", "overlap_rollout": false },
        "eval": { "sets": ["test", "ood-operands"], "interval": 50, "max_problems": 500 }
      },
      "seeds": [1, 2],
      "arms": [
        { "name": "outcome" },
        { "name": "step-reward", "campaign": { "algorithm": { "step_reward_weight": 1.0 } } },
        { "name": "more-sft", "kind": "sft", "compute_of": "step-reward" }
      ],
      "quick": {
        "seeds": [1],
        "campaign": { "steps": 8, "prompts_per_step": 8, "sft": { "steps": 100, "demonstrations": 3000 }, "eval": { "interval": 8, "max_problems": 100 } }
      }
    }
    """;
}
