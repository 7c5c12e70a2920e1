using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Campaigns;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;
using ReMA.Grains.Learning;
using ReMA.Silo;
using ReMA.Tasks.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace ReMA.Bench;

/// <summary>
/// The training loop as a user runs it: the <c>arithmetic-reference</c> preset as a campaign on an in-process silo,
/// cut to a short SFT stage, a warm-up RL step and N timed RL steps, with a greedy evaluation of 500 test problems
/// before and after. Per RL step: wall time (watched from outside the campaign), rollout, learner compute,
/// checkpoint-and-publication (the learner call less its compute) and the rest (storing episodes, the campaign loop);
/// the rollout's Orleans share from the same episodes run directly on an engine in this process; tokens per turn, per
/// step and per second; the matmul rate of this process. Where /usr/bin/python3 has torch, the reference
/// (../shared/reference/nano_rema.py) is timed in the same sitting with the same step counts and the ratios printed:
/// its SFT before the product's campaign, its RL steps right after the campaign's, so the two RL timings are seconds apart.
/// `dotnet run -c Release --project bench -- train-loop [--json] [--rl-steps 10] [--sft-steps 800] [--no-reference]`.
/// </summary>
public static class TrainLoopBenchmark
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(string[] args)
    {
        bool json = args.Contains("--json");
        string output = BenchArgs.Value(args, "--out") ?? Path.Combine("bench", "results", "train-loop.json");
        int rlSteps = int.Parse(BenchArgs.Value(args, "--rl-steps") ?? "10", CultureInfo.InvariantCulture);
        int sftSteps = int.Parse(BenchArgs.Value(args, "--sft-steps") ?? "800", CultureInfo.InvariantCulture);
        int evalProblems = 500;
        void Say(string line)
        {
            if (!json)
            {
                Console.WriteLine(line);
            }
        }

        double matmul = GenerateBenchmark.MatmulGflops(CPU);
        Say($"matmul rate of this process: {matmul:F1} GFLOP/s ({get_num_threads()} threads)");

        string root = Directory.CreateTempSubdirectory("rema-train-loop").FullName;
        CampaignConfig preset = CampaignPresets.Get(CampaignPresets.ArithmeticReference);
        var options = new Dictionary<string, string>(preset.Task.Options) { ["eval_size"] = evalProblems.ToString(CultureInfo.InvariantCulture) };
        CampaignConfig config = preset with
        {
            Name = "train-loop",
            Task = preset.Task with { Options = options },
            Steps = rlSteps + 1,
            Sft = preset.Sft with { Steps = sftSteps, Demonstrations = Math.Min(preset.Sft.Demonstrations, sftSteps * preset.Sft.BatchRows / 6 + 1) },
            Eval = new EvalSpec { Sets = ["test"], Interval = 1_000_000, MaxProblems = evalProblems, AtStart = true },
        };

        // Checkpoints go where every campaign's go (runs/<name>/checkpoints under the working folder): cleared before
        // and after; state, episodes and logs in a temporary folder.
        string checkpoints = Path.Combine("runs", config.Name);
        if (Directory.Exists(checkpoints))
        {
            Directory.Delete(checkpoints, recursive: true);
        }
        // The references fine-tune first; their RL steps run right after the product's (below), so that the two RL
        // timings are seconds apart rather than minutes (the VM's speed drifts within minutes).
        var referenceLines = new List<string>();
        void Later(string line) => referenceLines.Add(line);
        ReferenceRun? compactRun = args.Contains("--no-reference") ? null : ReferenceSft(root, sftSteps, Later, "compact", []);
        ReferenceRun? chatRun = args.Contains("--no-reference") || args.Contains("--compact-reference-only") ? null
            : ReferenceSft(root, sftSteps, Later, "chat", ["--format", "chat", "--arch", "llama"]);
        ReferenceRun? llamaRun = args.Contains("--no-reference") || !args.Contains("--llama-reference") ? null
            : ReferenceSft(root, sftSteps, Later, "llama", ["--arch", "llama"]);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReMA:Storage:Folder"] = Path.Combine(root, "storage"),
            ["ReMA:Runs:Folder"] = Path.Combine(root, "runs"),
            ["ReMA:Checkpoints:Cache"] = Path.Combine(root, "cache"),
            ["ReMA:Logging:Folder"] = Path.Combine(root, "logs"),
        });
        builder.AddReMALogging(LogConsole.ErrorsOnly);
        builder.AddReMAEmbeddedSilo(11411, 30411);
        using IHost host = builder.Build();
        await host.StartAsync();
        IGrainFactory grains = host.Services.GetRequiredService<IGrainFactory>();
        ICampaignGrain campaign = grains.GetGrain<ICampaignGrain>(config.Name);

        // Watched from outside at 10 ms: when the SFT stage ends, when each step ends, when each evaluation ends.
        var clock = Stopwatch.StartNew();
        await campaign.Start(config);
        double sftEnd = double.NaN;
        var stepEnds = new Dictionary<long, double>();
        var evalEnds = new List<double>();
        CampaignStatus status;
        while (true)
        {
            status = await campaign.Status();
            double now = clock.Elapsed.TotalSeconds;
            if (double.IsNaN(sftEnd) && status.Stage != "sft")
            {
                sftEnd = now;
            }
            stepEnds.TryAdd(status.NextStep, now);
            while (evalEnds.Count < status.Evaluations.Length)
            {
                evalEnds.Add(now);
            }
            if (status.Status is not "running")
            {
                break;
            }
            await Task.Delay(10);
        }
        if (status.Status != "completed")
        {
            Console.Error.WriteLine($"train-loop: the campaign ended {status.Status}: {status.Error}");
            return 1;
        }
        StepRecord[] history = await campaign.History();
        await host.StopAsync();
        JsonObject? reference = ReferenceRl(compactRun, sftSteps, rlSteps, Later);
        JsonObject? referenceChat = ReferenceRl(chatRun, sftSteps, rlSteps, Later);
        JsonObject? referenceLlama = ReferenceRl(llamaRun, sftSteps, rlSteps, Later);

        // Step s (0-based) ends when NextStep becomes s + 1; step 0 is the warm-up, and step 1 starts when step 0 ends.
        var timed = history.Where(h => h.Step >= 1).ToList();
        double Mean(Func<StepRecord, double> f) => timed.Average(f);
        double wall = (stepEnds[rlSteps + 1] - stepEnds[1]) / rlSteps;
        double rollout = Mean(h => h.RolloutSeconds);
        double update = Mean(h => h.UpdateSeconds);
        // The policies' learners update at the same time: the step waits for the longest.
        double compute = Mean(h => h.Learners.Values.Max(l => l.Seconds));
        double publish = update - compute;
        double rest = wall - rollout - update;
        double generated = Mean(h => h.RolloutTokensPerSecond * h.RolloutSeconds);
        double rounds = Mean(h => h.TurnsPerEpisode);   // rounds (a meta turn and the reasoner's answer) per episode
        double lossTokens = Mean(h => h.Learners.Values.Sum(l => (double)l.LossTokens));
        double trainedPerSecond = Mean(h => h.Learners.Values.Sum(l => l.TokensPerSecond));
        double rows = Mean(h => h.Learners.Values.Sum(l => (double)l.Rows));
        double passRowTokens = Mean(h => h.Learners.Values.Sum(l => (double)l.PassRowTokens));
        double computedTokens = Mean(h => h.Learners.Values.Sum(l => (double)l.ComputedTokens));
        var perTurn = timed.SelectMany(h => h.TokensPerTurn).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => Math.Round(g.Average(kv => kv.Value), 2));
        double sftWall = sftEnd;
        SftResult sft = status.Sft!;
        EvalRecord[] evals = status.Evaluations;

        // The same kind of episodes without Orleans: the SFT checkpoint on an engine in this process, the timed steps'
        // problems, the campaign's sampling settings; warm-up once, then the mean over the steps' problems.
        var plan = new CampaignPlan(config);
        ITask task = TaskCatalog.Default().Create(config.Task.Name, config.Task.Options);
        (var model, var tokenizer) = PolicyModelLoader.Load(new PolicySource { Preset = config.Model.Preset ?? "nano", Seed = (int)config.Seed, ChatMarkup = config.Model.ChatMarkup, TokenizerWords = config.Model.TokenizerWords });
        ModelFolder.LoadWeights(model, sft.CheckpointPath);
        // Once on the C# decode kernels (the product's default; the RL update is profiled on its warmed-up runner), once
        // on the torch operators (the kernels were written for the 15M preset's shapes).
        double direct = 0, directTorch = 0, engineSteps = 0;
        JsonObject? rolloutProfile = null;
        UpdateProfile? updateProfile = null;
        long[] timedSteps = [.. timed.Select(h => h.Step).Take(5)];
        foreach (bool kernels in new[] { true, false })
        {
            using var engine = new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = 256, DecodeKernels = kernels });
            var runner = new EpisodeRunner(task, EpisodeGrain.Settings(plan.Spec(evaluation: false)),
                EngineRoleGenerator.Shared(engine, new ChatTemplate(tokenizer), Roles.Meta, Roles.Reasoner));
            string tag = kernels ? "d" : "t";
            async Task<double> Step(long step)
            {
                var watch = Stopwatch.StartNew();
                await Task.WhenAll(plan.StepProblems(task, step).SelectMany((p, i) => Enumerable.Range(0, config.GroupSize)
                    .Select(g => runner.RunAsync(p, $"{tag}{step}-{i}-{g}", $"{tag}{step}-{i}"))));
                return watch.Elapsed.TotalSeconds;
            }
            await Step(0);
            if (kernels)
            {
                updateProfile = await ProfileUpdate(task, plan, config, runner, model);
            }
            long stepsBefore = engine.Steps, tokensBefore = engine.GeneratedTokens;
            EngineTimes timesBefore = engine.Times;
            var times = new List<double>();
            foreach (long s in timedSteps)
            {
                times.Add(await Step(s));
            }
            if (kernels)
            {
                direct = times.Average();
                engineSteps = (engine.Steps - stepsBefore) / (double)times.Count;
                Say($"direct rollout: {direct:F3} s per step, {engineSteps:F0} engine steps ({direct / engineSteps * 1000:F1} ms each), "
                    + $"{(engine.GeneratedTokens - tokensBefore) / (double)times.Count:F0} tokens generated");
                EngineTimes after = engine.Times;
                double n = times.Count;
                rolloutProfile = new JsonObject
                {
                    ["decode_forwards"] = Round((after.DecodeForwards - timesBefore.DecodeForwards) / n),
                    ["decode_seconds"] = Round((after.DecodeSeconds - timesBefore.DecodeSeconds) / n),
                    ["mixed_forwards"] = Round((after.MixedForwards - timesBefore.MixedForwards) / n),
                    ["prefill_forwards"] = Round((after.PrefillForwards - timesBefore.PrefillForwards) / n),
                    ["prefill_prompts"] = Round((after.PrefillSequences - timesBefore.PrefillSequences) / n),
                    ["prefill_tokens"] = Round((after.PrefillTokens - timesBefore.PrefillTokens) / n),
                    ["prefill_padded_tokens"] = Round((after.PrefillPaddedTokens - timesBefore.PrefillPaddedTokens) / n),
                    ["prefill_seconds"] = Round((after.PrefillSeconds - timesBefore.PrefillSeconds) / n),
                    ["engine_idle_seconds"] = Round((after.IdleSeconds - timesBefore.IdleSeconds) / n),
                };
                Say($"  per rollout: {rolloutProfile["decode_forwards"]} decode forwards ({rolloutProfile["mixed_forwards"]} with prompts packed in) in {rolloutProfile["decode_seconds"]} s; "
                    + $"{rolloutProfile["prefill_forwards"]} prefill-only forwards; {rolloutProfile["prefill_prompts"]} prompts ({rolloutProfile["prefill_tokens"]} tokens, "
                    + $"{rolloutProfile["prefill_padded_tokens"]} padded), prefill-only {rolloutProfile["prefill_seconds"]} s; engine idle {rolloutProfile["engine_idle_seconds"]} s");
            }
            else
            {
                directTorch = times.Average();
                Say($"direct rollout on torch operators (no C# decode kernels): {directTorch:F3} s per step");
            }
        }
        // Greedy evaluation of the same 500 problems directly on an engine: at the campaign's batch limit, and at 512.
        var evalDirect = new JsonObject();
        foreach (int maxBatch in new[] { plan.Model.MaxBatch, 512 })
        {
            using var engine = new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = maxBatch });
            var runner = new EpisodeRunner(task, EpisodeGrain.Settings(plan.Spec(evaluation: true)),
                EngineRoleGenerator.Shared(engine, new ChatTemplate(tokenizer), Roles.Meta, Roles.Reasoner));
            var problems = task.Load("test").Take(evalProblems).ToList();
            double best = double.MaxValue;
            for (int round = 0; round < 2; round++)
            {
                var watch = Stopwatch.StartNew();
                await Task.WhenAll(problems.Select((p, i) => runner.RunAsync(p, $"e{round}-{i}", $"e{round}-{i}")));
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
            evalDirect[$"max_batch_{maxBatch}"] = Round(best);
            Say($"greedy evaluation of {problems.Count} directly on an engine (SFT checkpoint), max batch {maxBatch}: {best:F2} s");
        }
        Say($"RL update of one step's rows, direct ({updateProfile!.ActiveRows} of {updateProfile.Rows} rows with an advantage, {updateProfile.RowTokens:F1} tokens each): "
            + $"updater {updateProfile.Update:F3} s; one forward and backward of those rows {updateProfile.ForwardBackwardFloor:F3} s");
        model.Dispose();
        SftProfile profile = await ProfileSft(task, plan, config, args);
        Say($"SFT step, direct ({profile.Steps} steps of {config.Sft.BatchRows} rows, mean {profile.RowTokens:F1} tokens per row of which {profile.MarkupTokensPerRow} chat markup, {profile.LossTokens:F1} loss tokens): "
            + $"{profile.Total:F3} s = forward {profile.Forward:F3} + backward {profile.Backward:F3} + clip and optimizer {profile.Optimizer:F3} + batching {profile.Batching:F3}");

        var product = new JsonObject
        {
            ["preset"] = CampaignPresets.ArithmeticReference,
            ["rl_steps_timed"] = rlSteps,
            ["episodes_per_step"] = config.PromptsPerStep * config.GroupSize,
            ["rl_step_seconds"] = Round(wall),
            ["rollout_seconds"] = Round(rollout),
            ["rollout_direct_seconds"] = Round(direct),
            ["rollout_direct_engine_steps"] = Round(engineSteps),
            ["rollout_direct_profile"] = rolloutProfile,
            ["rollout_direct_torch_operators_seconds"] = Round(directTorch),
            ["learner_compute_seconds"] = Round(compute),
            ["checkpoint_publication_seconds"] = Round(publish),
            ["other_seconds"] = Round(rest),
            ["shares"] = new JsonObject
            {
                ["rollout_generation"] = Round(Math.Min(direct, rollout) / wall),
                ["rollout_orleans"] = Round(Math.Max(0, rollout - direct) / wall),
                ["update_compute"] = Round(compute / wall),
                ["checkpoint_publication"] = Round(publish / wall),
                ["other_loop_and_storage"] = Round(rest / wall),
            },
            ["rounds_per_episode"] = Round(rounds),
            ["tokens_per_turn"] = JsonSerializer.SerializeToNode(perTurn),
            ["generated_tokens_per_step"] = Round(generated),
            ["generated_tokens_per_second"] = Round(generated / rollout),
            ["trained_rows_per_step"] = Round(rows),
            ["trained_loss_tokens_per_step"] = Round(lossTokens),
            ["trained_tokens_per_second"] = Round(trainedPerSecond),
            ["update_pass_row_tokens_per_step"] = Round(passRowTokens),
            ["update_computed_tokens_per_step"] = Round(computedTokens),
            ["sft_steps"] = sft.OptimizerSteps,
            ["sft_stage_seconds"] = Round(sftWall),
            ["sft_learner_seconds"] = Round(sft.Seconds),
            ["sft_seconds_per_step"] = Round(sft.Seconds / Math.Max(1, sft.OptimizerSteps)),
            ["sft_direct"] = JsonSerializer.SerializeToNode(profile),
            ["update_direct"] = JsonSerializer.SerializeToNode(updateProfile),
            ["eval_problems"] = evalProblems,
            ["eval_direct_seconds"] = evalDirect,
            ["eval_seconds"] = new JsonArray([.. evals.Select(e => JsonValue.Create(Round(e.Seconds)))]),
            ["eval_accuracy"] = new JsonArray([.. evals.Select(e => JsonValue.Create(Round(e.Accuracy)))]),
        };
        Say($"product: RL step {wall:F3} s (rollout {rollout:F3}, direct {direct:F3}; learner compute {compute:F3}; checkpoint+publication {publish:F3}; other {rest:F3})");
        Say($"         {rounds:F2} rounds per episode, {generated:F0} generated tokens per step ({generated / rollout:F0}/s); tokens per turn {string.Join(", ", perTurn.Select(kv => $"{kv.Key} {kv.Value}"))}; {rows:F0} rows, {lossTokens:F0} loss tokens trained per step; "
            + $"the update's passes took {passRowTokens:F0} row tokens and computed {computedTokens:F0} positions (rows share prefixes)");
        Say($"         SFT {sft.OptimizerSteps} steps: {sft.Seconds / Math.Max(1, sft.OptimizerSteps):F3} s per step (learner call {sft.Seconds:F1} s, stage {sftWall:F1} s)");
        Say($"         greedy evaluation of {evalProblems}: {string.Join(", ", evals.Select(e => $"{e.Seconds:F2} s ({e.Accuracy:P1})"))}");

        // The reference in its own compact format (the issue's yardstick), and in the product's chat format with the
        // product's model family (--format chat --arch llama): the second separates the format's cost from the loop's.
        // --llama-reference adds its compact format with the product's model family (--arch llama): a policy as strong
        // as the product's after the same SFT, so RL steps that train as many turns (equal work).
        foreach (string line in referenceLines)
        {
            Say(line);
        }
        var result = new JsonObject
        {
            ["machine"] = Environment.GetEnvironmentVariable("REMA_MACHINE") ?? $"{Environment.ProcessorCount} cores",
            ["matmul_gflops"] = Round(matmul),
            ["torch_threads"] = get_num_threads(),
            ["product"] = product,
        };
        double evalSeconds = evals.Min(e => e.Seconds);
        foreach ((string key, JsonObject? r) in new[] { ("reference", reference), ("reference_chat_format", referenceChat), ("reference_llama", referenceLlama) })
        {
            if (r is null)
            {
                continue;
            }
            result[key] = r;
            double refStep = (double)r["rl_step_seconds"]!, refSft = (double)r["sft_seconds_per_step"]!, refEval = (double)r["eval_seconds_per_problem"]!;
            var ratios = new JsonObject
            {
                ["rl_step"] = Round(wall / refStep),
                ["sft_step"] = Round(sft.Seconds / Math.Max(1, sft.OptimizerSteps) / refSft),
                ["eval_per_problem"] = Round(evalSeconds / evalProblems / refEval),
            };
            result[$"ratios_to_{key}"] = ratios;
            Say($"ratios to the {key.Replace('_', ' ')} (product / reference): RL step {ratios["rl_step"]}x, SFT step {ratios["sft_step"]}x, evaluation per problem {ratios["eval_per_problem"]}x");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        File.WriteAllText(output, result.ToJsonString(Indented));
        Console.WriteLine(json ? File.ReadAllText(output) : $"written: {output}");
        try
        {
            Directory.Delete(root, recursive: true);
            Directory.Delete(checkpoints, recursive: true);
        }
        catch (IOException)
        {
        }
        return 0;
    }

    private static double Round(double x) => Math.Round(x, 4);

    /// <summary>The RL update of one step's rows (seconds): the product's updater, and a plain forward and backward of the same rows.</summary>
    public sealed record UpdateProfile(int Rows, int ActiveRows, double RowTokens, double Update, double ForwardBackwardFloor);

    /// <summary>
    /// One step's episodes (the step-1 problems, the SFT checkpoint), advantages as the learner computes them, then
    /// (on a copy of the weights, restored after) the updater's Update with the campaign's settings against the floor
    /// of one forward and backward over the rows the update trains (no loss arithmetic, statistics or optimizer).
    /// </summary>
    private static async Task<UpdateProfile> ProfileUpdate(ITask task, CampaignPlan plan, CampaignConfig config, EpisodeRunner runner, ReMA.Learner.Model.CausalLM model)
    {
        var problems = plan.StepProblems(task, 1);
        var results = await Task.WhenAll(problems.SelectMany((p, i) => Enumerable.Range(0, config.GroupSize)
            .Select(g => runner.RunAsync(p, $"u-{i}-{g}", $"u-{i}"))));
        var advantaged = Advantages.Compute(results.SelectMany(r => r.Rows).ToList(), AlgorithmOptions.Advantage(config.Algorithm)).Rows;
        var active = advantaged.Where(a => a.TurnAdvantages.Any(v => v != 0)).Select(a => a.Row).ToList();
        var saved = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        double update = double.MaxValue, floor = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            using (var updater = new PolicyUpdater(model, AlgorithmOptions.Optimizer(config.Algorithm), AlgorithmOptions.Schedule(config.Algorithm, 1000),
                AlgorithmOptions.Loss(config.Algorithm, config.Sampling.Temperature),
                AlgorithmOptions.Update(config.Algorithm) with { Threads = ReMA.Learner.Runtime.ComputeThreads.ForLearner(model, null, config.Algorithm.OverlapRollout) },
                (Func<ReMA.Learner.Model.CausalLM>?)null, 1))
            {
                var watch = Stopwatch.StartNew();
                updater.Update(advantaged);
                update = Math.Min(update, watch.Elapsed.TotalSeconds);
            }
            // The bare pass with the thread count the campaign's learner takes (ComputeThreads.ForLearner).
            ReMA.Learner.Runtime.ComputeThreads.Use(ReMA.Learner.Runtime.ComputeThreads.ForLearner(model, null, config.Algorithm.OverlapRollout));
            var clock = Stopwatch.StartNew();
            model.train();
            (var groups, int packWidth) = RowBatching.Packed(active.Select(r => r.Length).ToList(), AlgorithmOptions.Update(config.Algorithm).MicroBatchTokens);
            foreach (int[] micro in groups)
            {
                using var scope = NewDisposeScope();
                var mb = new MicroBatch(micro.Select(i => active[i]).ToList(), packWidth);
                mb.Score(model).LogProbs.sum().backward();
            }
            model.eval();
            floor = Math.Min(floor, clock.Elapsed.TotalSeconds);
            using (no_grad())
            {
                foreach (var kv in model.state_dict())
                {
                    kv.Value.copy_(saved[kv.Key]);
                }
                foreach (var p in model.parameters())
                {
                    p.grad?.zero_();
                }
            }
        }
        ReMA.Learner.Runtime.ComputeThreads.Use(ReMA.Learner.Runtime.ComputeThreads.ProcessDefault);
        return new UpdateProfile(advantaged.Count, active.Count, active.Count == 0 ? 0 : active.Average(r => r.Length), Round(update), Round(floor));
    }

    /// <summary>Where one SFT step's time goes (seconds per step), measured on the campaign's own demonstration rows.</summary>
    public sealed record SftProfile(int Steps, double RowTokens, double LossTokens, int MarkupTokensPerRow, double Batching, double Forward, double Backward, double Optimizer, double Total);

    /// <summary>
    /// The SFT step as <see cref="SftTrainer.Step"/> takes it (same batching, loss, clipping and optimizer), timed in
    /// parts, on a fresh model of the campaign's preset and rows demonstrated the way the campaign demonstrates them.
    /// </summary>
    private static async Task<SftProfile> ProfileSft(ITask task, CampaignPlan plan, CampaignConfig config, string[] args)
    {
        (var model, var tokenizer) = PolicyModelLoader.Load(new PolicySource { Preset = config.Model.Preset ?? "nano", Seed = (int)config.Seed, ChatMarkup = config.Model.ChatMarkup, TokenizerWords = config.Model.TokenizerWords });
        var settings = EpisodeGrain.Settings(plan.Spec(evaluation: false));
        var rows = await RlProbe.DemonstrationRows(task, settings, new ChatTemplate(tokenizer), plan.SftProblems(task).Take(600));
        var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), AlgorithmOptions.SftOptimizer(config.Sft, config.Algorithm));
        // --sft-budget N: another micro-batch token budget (length buckets), for comparisons.
        int budget = BenchArgs.Value(args, "--sft-budget") is string b0 ? int.Parse(b0, CultureInfo.InvariantCulture) : new SftOptions().MicroBatchTokens;
        var shuffle = new Random(1);
        double batching = 0, forward = 0, backward = 0, step = 0;
        const int warmup = 5, steps = 30;
        ReMA.Learner.Runtime.ComputeThreads.Use(ReMA.Learner.Runtime.ComputeThreads.ProcessDefault);   // as SftTrainer.Step runs
        model.train();
        for (int s = 0; s < warmup + steps; s++)
        {
            var batch = Enumerable.Range(0, config.Sft.BatchRows).Select(_ => rows[shuffle.Next(rows.Count)]).ToList();
            long total = batch.Sum(r => (long)r.LossTokens);
            var watch = Stopwatch.StartNew();
            optimizer.ZeroGrad();
            double b = 0, f = 0, k = 0;
            (var groups, int packWidth) = RowBatching.Packed(batch.Select(r => r.Length).ToList(), budget);
            foreach (int[] micro in groups)
            {
                using var scope = NewDisposeScope();
                long t0 = watch.ElapsedTicks;
                var mb = new MicroBatch(micro.Select(i => batch[i]).ToList(), packWidth);
                long t1 = watch.ElapsedTicks;
                Tensor nll = -mb.Score(model).LogProbs.sum() / total;
                nll.ToDouble();
                long t2 = watch.ElapsedTicks;
                nll.backward();
                long t3 = watch.ElapsedTicks;
                b += t1 - t0;
                f += t2 - t1;
                k += t3 - t2;
            }
            long before = watch.ElapsedTicks;
            nn.utils.clip_grad_norm_(optimizer.Parameters, 1.0);
            optimizer.Step(1e-4);
            double o = (watch.ElapsedTicks - before) / (double)Stopwatch.Frequency;
            if (s >= warmup)
            {
                batching += b / Stopwatch.Frequency;
                forward += f / Stopwatch.Frequency;
                backward += k / Stopwatch.Frequency;
                step += o;
            }
        }
        optimizer.Dispose();
        ReMA.Learner.Runtime.ComputeThreads.Use(ReMA.Learner.Runtime.ComputeThreads.ProcessDefault);
        model.Dispose();
        // The chat markup every compact row carries (an empty user message, the generation prompt, the turn's end).
        var chat = new ChatTemplate(tokenizer);
        int markup = chat.Render([ChatMessage.User("")], addGenerationPrompt: true).Length + 1;
        return new SftProfile(steps, rows.Average(r => r.Length), rows.Average(r => r.LossTokens), markup, Round(batching / steps), Round(forward / steps),
            Round(backward / steps), Round(step / steps), Round((batching + forward + backward + step) / steps));
    }

    /// <summary>
    /// The reference's SFT and GRPO with the same step counts, 2 threads, in this sitting; null (and a note) when
    /// /usr/bin/python3 or its torch is missing, or the reference is not at ../shared/reference.
    /// </summary>
    /// <summary>A reference run whose SFT has finished: where its checkpoint and logs are.</summary>
    private sealed record ReferenceRun(string Label, string[] Extra, string Script, string Checkpoint, string SftLog, string RlLog);

    /// <summary>The reference's SFT (null, with the reason said, when it cannot run or fails).</summary>
    private static ReferenceRun? ReferenceSft(string root, int sftSteps, Action<string> say, string tag, string[] extra)
    {
        string label = extra.Length == 0 ? "reference" : $"reference ({string.Join(' ', extra)})";
        string script = Path.GetFullPath(Path.Combine("..", "shared", "reference", "nano_rema.py"));
        string why = !File.Exists("/usr/bin/python3") ? "/usr/bin/python3 is missing"
            : !File.Exists(script) ? $"{script} is missing"
            : Python(["-c", "import torch"], out string importError) != 0 ? $"import torch failed: {importError.Trim().Split('\n').LastOrDefault()}"
            : "";
        if (why.Length > 0)
        {
            say($"{label}: skipped ({why}; it needs /usr/bin/python3 with torch and ../shared/reference/nano_rema.py)");
            return null;
        }
        var run = new ReferenceRun(label, extra, script, Path.Combine(root, $"reference-{tag}.pt"), Path.Combine(root, $"reference-{tag}-sft.jsonl"), Path.Combine(root, $"reference-{tag}-rl.jsonl"));
        if (Python([script, "--sft_steps", S(sftSteps), "--save", run.Checkpoint, "--eval_every", "1000000", "--log_every", S(sftSteps), "--threads", "2", "--log", run.SftLog, .. extra], out string error) != 0)
        {
            say($"{label}: SFT failed ({error.Trim().Split('\n').LastOrDefault()})");
            return null;
        }
        return run;
    }

    /// <summary>The reference's RL steps from its SFT checkpoint, and its figures.</summary>
    private static JsonObject? ReferenceRl(ReferenceRun? run, int sftSteps, int rlSteps, Action<string> say)
    {
        if (run is null)
        {
            return null;
        }
        if (Python([run.Script, "--load", run.Checkpoint, "--rl_steps", S(rlSteps), "--rl_block", S(rlSteps), "--eval_every", "1000000", "--threads", "2", "--log", run.RlLog, .. run.Extra], out string error) != 0)
        {
            say($"{run.Label}: RL failed ({error.Trim().Split('\n').LastOrDefault()})");
            return null;
        }
        JsonNode[] sft = [.. File.ReadAllLines(run.SftLog).Select(l => JsonNode.Parse(l)!)];
        JsonNode[] rl = [.. File.ReadAllLines(run.RlLog).Select(l => JsonNode.Parse(l)!)];
        double sftTrain = (double)sft.First(n => (string?)n["kind"] == "time")["train_s"]!;
        JsonNode block = rl.First(n => (string?)n["kind"] == "rl");
        JsonNode firstEval = rl.First(n => (string?)n["kind"] == "eval");
        double gen = (double)block["gen_s"]!, upd = (double)block["upd_s"]!;
        double evalSeconds = (double)firstEval["eval_s"]!;
        var result = new JsonObject
        {
            ["command"] = $"/usr/bin/python3 {Path.Combine("..", "shared", "reference", "nano_rema.py")} --sft_steps {sftSteps} --threads 2 {string.Join(' ', run.Extra)} (before the product's campaign), then --load --rl_steps {rlSteps} (right after its RL steps)",
            ["rl_step_seconds"] = Round((gen + upd) / rlSteps),
            ["rollout_seconds"] = Round(gen / rlSteps),
            ["update_seconds"] = Round(upd / rlSteps),
            ["tokens_per_turn"] = new JsonObject { ["meta"] = (double)block["meta_len"]!, ["reasoner"] = (double)block["reas_len"]! },
            ["trained_turns_per_step"] = (double)block["nturn"]!,
            ["sft_seconds_per_step"] = Round(sftTrain / sftSteps),
            ["eval_problems"] = 400,
            ["eval_seconds"] = Round(evalSeconds),
            ["eval_seconds_per_problem"] = evalSeconds / 400,
            ["eval_accuracy"] = Round((double)firstEval["id"]! / 100),
        };
        say($"{run.Label}: RL step {(gen + upd) / rlSteps:F3} s (generation {gen / rlSteps:F3}, update {upd / rlSteps:F3}); SFT {sftTrain / sftSteps:F3} s per step; greedy evaluation of 400: {evalSeconds:F2} s ({(double)firstEval["id"]!:F1} %); tokens per turn meta {block["meta_len"]}, reasoner {block["reas_len"]}; {(double)block["nturn"]!:F0} turns trained per step");
        return result;
    }

    private static string S(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static int Python(string[] arguments, out string error)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        error = stderr.Result;
        return process.ExitCode;
    }
}
