namespace ReMA.Client.Experiments;

/// <summary>Named experiments (<c>rema experiment --preset NAME</c>; <c>--print</c> writes one out as a file to edit).</summary>
public static class ExperimentPresets
{
    public const string ArithmeticPaper = "arithmetic-paper";

    public static IReadOnlyList<string> Names { get; } = [ArithmeticPaper];

    public static ExperimentConfig Get(string name) => name switch
    {
        ArithmeticPaper => ExperimentFile.Parse(ArithmeticPaperJson, $"preset {ArithmeticPaper}"),
        _ => throw new ArgumentException($"experiment preset '{name}' is not known; presets: {string.Join(", ", Names)}."),
    };

    /// <summary>
    /// The paper's comparison on the arithmetic task (REMA.md section 9): single-agent VRP, MRP, ReMA single-turn and
    /// multi-turn (shared, and separate parameters trained at once), the token-level ratio ablation of multi-turn ReMA,
    /// and a control that spends multi-turn RL's compute on more SFT. Every arm starts from its protocol's SFT checkpoint
    /// (the arithmetic-demo warm start); 40 RL steps of 16 x 8 episodes per arm and seed; greedy pass@1 on 500
    /// problems of the in-distribution test split and of each out-of-distribution split. About 65 minutes on 2 cores;
    /// --quick (2 seeds, 8 steps of 8 x 8, 100 SFT steps, 100 problems per set) about 7.
    /// </summary>
    private const string ArithmeticPaperJson = """
    {
      "name": "arithmetic-paper",
      "base": "arithmetic-demo",
      "campaign": {
        "steps": 40,
        "eval": { "sets": ["test", "ood-operands", "ood-large", "ood-nested"], "interval": 40, "max_problems": 500 }
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
        "campaign": { "steps": 8, "prompts_per_step": 8, "sft": { "steps": 100 }, "eval": { "interval": 8, "max_problems": 100 } }
      }
    }
    """;
}
