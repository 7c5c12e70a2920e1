using ReMA.Abstractions.Campaigns;

namespace ReMA.Abstractions.Tests;

public class CampaignConfigTests
{
    [Fact]
    public void Defaults_AreValid_AndSurviveAFileRoundTrip()
    {
        var config = new CampaignConfig { Task = new TaskSpec { Options = new() { ["max_operands"] = "3" } } };
        Assert.Empty(CampaignConfigValidation.Errors(config));
        string json = CampaignFile.Write(config);
        Assert.Contains("\"group_size\": 8", json);
        Assert.Contains("\"max_operands\": \"3\"", json);
        CampaignConfig back = CampaignFile.Parse(json, "c.json");
        Assert.Equal(CampaignFile.Write(config), CampaignFile.Write(back));
    }

    [Fact]
    public void PartialFile_KeepsDefaultsForTheRest()
    {
        CampaignConfig c = CampaignFile.Parse("""
            // comments are allowed
            { "name": "vrp-baseline", "protocol": "vrp", "limits": { "max_turns": 1 }, "algorithm": { "ratio": "token" }, }
            """, "c.json");
        Assert.Equal("vrp", c.Protocol);
        Assert.Equal(1, c.Limits.MaxTurns);
        Assert.Equal(24, c.Limits.MaxTokensPerTurn);
        Assert.Equal("grpo", c.Algorithm.Estimator);
    }

    [Fact]
    public void EveryBadFieldIsReportedAtOnce()
    {
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""
            { "name": "bad name!", "group_size": 1, "protocol": "rema", "limits": { "max_tokens_per_turn": 600, "max_context_tokens": 512 },
              "algorithm": { "ratio": "sequence", "clip_low": 1.5 }, "model": { "preset": "nano", "path": "/m" }, "sft": { "epochs": 0 } }
            """, "demo.json"));
        foreach (string expected in new[]
        {
            "demo.json: 8 invalid field(s)", "name: 'bad name!'", "group_size: must be at least 2", "protocol: 'rema' is not one of",
            "limits.max_context_tokens: must exceed max_tokens_per_turn (512 <= 600)", "algorithm.ratio: 'sequence' is not one of",
            "algorithm.clip_low: must be in [0, 1) (got 1.5)", "model: give exactly one of model.preset and model.path", "sft.epochs: must be positive",
        })
        {
            Assert.Contains(expected, error.Message);
        }
    }

    [Fact]
    public void ComputeThreads_AreAutomaticByDefault_AndAPositiveCountWhenGiven()
    {
        Assert.Equal(0, CampaignFile.Parse("""{ }""", "default.json").Model.ComputeThreads);
        Assert.Equal(2, CampaignFile.Parse("""{ "model": { "compute_threads": 2 } }""", "two.json").Model.ComputeThreads);
        var bad = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "model": { "compute_threads": -1 } }""", "bad.json"));
        Assert.Contains("model.compute_threads: -1 must be 0 (automatic) or a thread count up to 1024", bad.Message);
    }

    [Fact]
    public void TokenizerWords_AreCheckedWordByWord_AndOnlyForPresets()
    {
        Assert.Null(CampaignFile.Parse("""{ }""", "default.json").Model.TokenizerWords);
        Assert.Equal("[FINISH] Do:", CampaignFile.Parse("""{ "model": { "preset": "nano", "tokenizer_words": "[FINISH] Do:" } }""", "ok.json").Model.TokenizerWords);
        var bad = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "model": { "tokenizer_words": "ok x ok a<|b" } }""", "bad.json"));
        Assert.Contains("model.tokenizer_words: 'x' must be 2-32 printable ASCII characters", bad.Message);
        Assert.Contains("model.tokenizer_words: 'ok' is repeated", bad.Message);
        Assert.Contains("model.tokenizer_words: 'a<|b' must be", bad.Message);
        Assert.DoesNotContain("'ok' must", bad.Message);
        var folder = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "model": { "preset": null, "path": "/m", "tokenizer_words": "ab" } }""", "folder.json"));
        Assert.Contains("model.tokenizer_words: applies to presets only", folder.Message);
        Assert.Null(new ModelSpec { TokenizerWords = "ab" }.FromFolder("/m").TokenizerWords);
    }

    [Fact]
    public void ChatMarkup_IsChatMlOrCompact_AndOnlyForPresets()
    {
        Assert.Equal("chatml", CampaignFile.Parse("""{ }""", "default.json").Model.ChatMarkup);
        Assert.Equal("compact", CampaignFile.Parse("""{ "model": { "preset": "nano", "chat_markup": "compact" } }""", "ok.json").Model.ChatMarkup);
        var bad = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "model": { "chat_markup": "terse" } }""", "bad.json"));
        Assert.Contains("model.chat_markup: 'terse' is not one of chatml, compact", bad.Message);
        var folder = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "model": { "preset": null, "path": "/m", "chat_markup": "compact" } }""", "folder.json"));
        Assert.Contains("model.chat_markup: 'compact' applies to presets only", folder.Message);
    }

    [Fact]
    public void WarmupSteps_WithAConstantSchedule_AreRefused_NotIgnored()
    {
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "algorithm": { "warmup_steps": 5 } }""", "warm.json"));
        Assert.Contains("algorithm.warmup_steps: 5 warm-up steps need lr_schedule linear-warmup or cosine", error.Message);
        Assert.Empty(CampaignConfigValidation.Errors(CampaignFile.Parse("""{ "algorithm": { "warmup_steps": 5, "lr_schedule": "linear-warmup" } }""", "ok.json")));
        Assert.Empty(CampaignConfigValidation.Errors(CampaignFile.Parse("""{ "algorithm": { "warmup_steps": 0 } }""", "ok.json")));
    }

    [Fact]
    public void SftWarmupSteps_BelongToTheConstantSchedule()
    {
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "sft": { "schedule": "cosine", "warmup_steps": 5 } }""", "sft.json"));
        Assert.Contains("sft.warmup_steps: 5 warm-up steps apply to sft.schedule constant only", error.Message);
        error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "sft": { "warmup_steps": -1 } }""", "sft.json"));
        Assert.Contains("sft.warmup_steps: must be >= 0 (got -1)", error.Message);
        CampaignConfig ok = CampaignFile.Parse("""{ "sft": { "warmup_steps": 5 } }""", "ok.json");
        Assert.Equal("constant", ok.Sft.Schedule);
        Assert.Equal(5, ok.Sft.WarmupSteps);
    }

    [Fact]
    public void ArithmeticPresets_WarmStartAtAConstantRate_AndTrainWithTheReferenceUpdate()
    {
        // Issue 19: RL made a cosine-annealed SFT model worse; these are the settings under which it helps.
        foreach (string name in new[] { CampaignPresets.ArithmeticDemo, CampaignPresets.ArithmeticVrp, CampaignPresets.ArithmeticSingleTurn, CampaignPresets.ArithmeticSeparate, CampaignPresets.ArithmeticReference, CampaignPresets.ArithmeticParens })
        {
            CampaignConfig c = CampaignPresets.Get(name);
            Assert.Equal("constant", c.Sft.Schedule);
            Assert.True(c.Sft.WarmupSteps > 0);
            Assert.Equal(1e-4, c.Algorithm.LearningRate);
            Assert.True(c.Algorithm.FilterSolvedAndFailedGroups);
            Assert.Equal(0, c.Algorithm.WeightDecay);
            Assert.Empty(CampaignConfigValidation.Errors(c));
        }
    }

    [Fact]
    public void ReferencePreset_HasTheReferenceSettings_AndValidates()
    {
        CampaignConfig c = CampaignPresets.Get(CampaignPresets.ArithmeticReference);
        Assert.Empty(CampaignConfigValidation.Errors(c));
        Assert.Equal("fresh", c.Task.Options["problems"]);
        Assert.Equal("0", c.Task.Options["parentheses_probability"]);
        Assert.Equal("multiplication-first", c.Task.Options["order"]);
        Assert.Equal("terse", c.Task.Options["format"]);
        Assert.Equal("compact", c.Model.ChatMarkup);
        Assert.Equal(CampaignPresets.ArithmeticWords, c.Model.TokenizerWords);
        Assert.Equal(2, c.Algorithm.MiniBatches);
        Assert.False(c.Algorithm.OverlapRollout);
        Assert.Equal(0, c.Algorithm.WarmupSteps);
        Assert.Equal((2e-3, 50, 800, 0.98, 0.01), (c.Sft.LearningRate, c.Sft.WarmupSteps, c.Sft.Steps, c.Sft.AdamBeta2, c.Sft.WeightDecay));
        Assert.True(c.Eval.MaxProblems >= 1000);
        Assert.Contains(CampaignPresets.ArithmeticReference, CampaignPresets.Names);
    }

    [Fact]
    public void MiniBatchesAndSftOptimizerFields_AreReadAndChecked()
    {
        CampaignConfig ok = CampaignFile.Parse("""{ "algorithm": { "mini_batches": 2 }, "sft": { "weight_decay": 0.01, "adam_beta2": 0.98 } }""", "ok.json");
        Assert.Equal((2, 0.01, 0.98), (ok.Algorithm.MiniBatches, ok.Sft.WeightDecay!.Value, ok.Sft.AdamBeta2!.Value));
        Assert.Null(new CampaignConfig().Sft.AdamBeta2);
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse(
            """{ "algorithm": { "mini_batches": 2, "mini_batch_rows": 64 }, "sft": { "adam_beta2": 1.5, "weight_decay": -1 } }""", "bad.json"));
        Assert.Contains("algorithm.mini_batches: 2 mini-batches of whole episodes and mini_batch_rows 64 cannot both be set", error.Message);
        Assert.Contains("sft.adam_beta2: must be in [0, 1) (got 1.5)", error.Message);
        Assert.Contains("sft.weight_decay: must be >= 0 (got -1)", error.Message);
    }

    [Fact]
    public void CosineSchedule_NeedsOneOptimizerStepPerEpoch()
    {
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse(
            """{ "algorithm": { "lr_schedule": "cosine", "mini_batch_rows": 64 } }""", "cosine.json"));
        Assert.Contains("algorithm.lr_schedule: cosine decays over the learner's optimizer steps, known ahead only with one mini-batch per update (mini_batch_rows 64, mini_batches 0)", error.Message);
        Assert.Empty(CampaignConfigValidation.Errors(CampaignFile.Parse("""{ "algorithm": { "lr_schedule": "cosine" } }""", "ok.json")));
    }

    [Fact]
    public void StepRewardWeight_IsReadAndMustBeNonNegative()
    {
        Assert.Equal(0.5, CampaignFile.Parse("""{ "algorithm": { "step_reward_weight": 0.5 } }""", "ok.json").Algorithm.StepRewardWeight);
        Assert.Equal(0, new CampaignConfig().Algorithm.StepRewardWeight);   // off by default (the paper's outcome reward only)
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "algorithm": { "step_reward_weight": -1 } }""", "steps.json"));
        Assert.Contains("algorithm.step_reward_weight: must be a finite number >= 0 (got -1)", error.Message);
        var vrp = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "protocol": "vrp", "view": "full", "algorithm": { "step_reward_weight": 1 } }""", "vrp.json"));
        Assert.Contains("algorithm.step_reward_weight: step rewards come from the reasoner's steps in multi-turn episodes", vrp.Message);
    }

    [Fact]
    public void UnknownFieldsAndWrongTypesNameTheField()
    {
        var unknown = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "limits": { "max_turn": 3 } }""", "c.json"));
        Assert.Contains("c.json", unknown.Message);
        Assert.Contains("max_turn", unknown.Message);
        var type = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "group_size": "eight" }""", "c.json"));
        Assert.Contains("c.json: 1 invalid field(s):\n  group_size: expected an integer, got string \"eight\"", type.Message);
        Assert.Throws<FileNotFoundException>(() => CampaignFile.Load("/no/such/campaign.json"));
        Assert.StartsWith("c.json: not valid JSON (", Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "steps": 3 """, "c.json")).Message);
        Assert.Equal("c.json: expected a JSON object with the campaign settings (got a list).",
            Assert.Throws<ArgumentException>(() => CampaignFile.Parse("[1]", "c.json")).Message);
    }

    [Fact]
    public void UnknownFieldsWrongTypesAndMeaningErrors_AreAllReportedTogether_WithTheirPaths()
    {
        var error = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""
            { "eval": { "setz": ["test"] }, "group_size": "eight", "limits": { "max_turn": 3 }, "protocol": "rema",
              "sampling": { "top_p": true }, "task": { "options": { "anything": "goes", "seed": 3 } }, "model": null }
            """, "all.json"));
        Assert.StartsWith("all.json: 7 invalid field(s):\n  ", error.Message);
        foreach (string expected in new[]
        {
            "\n  eval.setz: unknown field (did you mean 'sets'?)",
            "\n  group_size: expected an integer, got string \"eight\"",
            "\n  limits.max_turn: unknown field (did you mean 'max_turns'?)",
            "\n  sampling.top_p: expected a number, got true",
            "\n  task.options.seed: expected a string, got number 3",
            "\n  model: expected an object, got null",
            "\n  protocol: 'rema' is not one of",
        })
        {
            Assert.Contains(expected, error.Message);
        }
        // The bad fields keep their defaults while the rest is checked: no second error about group_size's value.
        Assert.DoesNotContain("group_size: must be", error.Message);

        var list = Assert.Throws<ArgumentException>(() => CampaignFile.Parse("""{ "eval": { "sets": ["test", 3] }, "bogus": 1 }""", "l.json"));
        Assert.Contains("eval.sets[1]: expected a string, got number 3", list.Message);
        Assert.Contains("bogus: unknown field (fields here: algorithm, checkpoint_interval,", list.Message);
    }

    [Fact]
    public void YamlFiles_ReadLikeTheirJsonEquivalent_AndBadFieldsAreNamed()
    {
        string dir = Directory.CreateTempSubdirectory("rema-yaml").FullName;
        string good = Path.Combine(dir, "c.yaml");
        File.WriteAllText(good, """
            name: yaml-demo
            group_size: 4
            task:
              name: arithmetic
              options: { prompts: none, train_size: "300" }
            sft: { enabled: false }
            algorithm: { learning_rate: 3.0e-5, clip_low: 0.2 }
            eval: { sets: [test, ood-operands], interval: 5 }
            """);
        CampaignConfig c = CampaignFile.Load(good);
        Assert.Equal("yaml-demo", c.Name);
        Assert.Equal(4, c.GroupSize);
        Assert.Equal("300", c.Task.Options["train_size"]);
        Assert.False(c.Sft.Enabled);
        Assert.Equal(3e-5, c.Algorithm.LearningRate);
        Assert.Equal(["test", "ood-operands"], c.Eval.Sets);

        string bad = Path.Combine(dir, "bad.yml");
        File.WriteAllText(bad, "limits:\n  max_turn: 3\ngroup_size: eight\neval:\n  setz: [test]\n  interval: 0\n");
        var e = Assert.Throws<ArgumentException>(() => CampaignFile.Load(bad));
        Assert.StartsWith($"{bad}: 4 invalid field(s):\n  ", e.Message);
        Assert.Contains("\n  limits.max_turn: unknown field (did you mean 'max_turns'?)", e.Message);
        Assert.Contains("\n  group_size: expected an integer, got string \"eight\"", e.Message);
        Assert.Contains("\n  eval.setz: unknown field (did you mean 'sets'?)", e.Message);
        Assert.Contains("\n  eval.interval: must be positive (got 0)", e.Message);
        string broken = Path.Combine(dir, "broken.yaml");
        File.WriteAllText(broken, "name: [unclosed\n");
        var syntax = Assert.Throws<ArgumentException>(() => CampaignFile.Load(broken));
        Assert.Contains("broken.yaml: not valid YAML at line", syntax.Message);
    }
}
