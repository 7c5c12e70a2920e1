using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;
using ReMA.Tasks.Core;

namespace ReMA.Bench;

/// <summary>
/// The arithmetic demo's SFT and GRPO stages in one process, without Orleans: the product's task, episode runner,
/// generation engine, advantages and updater, wired the way the campaign wires them, with per-step diagnostics
/// (issue 19's differential). `dotnet run -c Release --project bench -- rl-probe [options]`.
/// </summary>
public static class RlProbe
{
    private static string Arg(string[] args, string name, string fallback) => BenchArgs.Value(args, name) ?? fallback;
    private static int Int(string[] args, string name, int fallback) => int.Parse(Arg(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
    private static double Num(string[] args, string name, double fallback) => double.Parse(Arg(args, name, fallback.ToString("R", CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new Dictionary<string, string> { ["prompts"] = "none", ["train_size"] = Arg(args, "--train-size", "5000"), ["eval_size"] = Arg(args, "--eval-size", "500") };
        foreach (string kv in Arg(args, "--task", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = kv.Split('=', 2);
            options[parts[0]] = parts[1];
        }
        ITask task = TaskCatalog.Default().Create("arithmetic", options);
        int seed = Int(args, "--seed", 1);
        string preset = Arg(args, "--model", "nano");
        string? load = BenchArgs.Value(args, "--load");
        string? save = BenchArgs.Value(args, "--save");
        string logPath = Arg(args, "--log", "rl-probe.jsonl");
        using var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        void Log(object o)
        {
            string line = JsonSerializer.Serialize(o);
            log.WriteLine(line);
            Console.WriteLine(line);
        }

        (CausalLM model, ITokenizer tokenizer) = PolicyModelLoader.Load(new PolicySource { Preset = preset, Seed = seed });
        var chat = new ChatTemplate(tokenizer);
        var episode = new EpisodeSettings
        {
            Protocol = Protocol.RemaMultiTurn, View = ViewMode.Compact, MaxTurns = Int(args, "--max-turns", 8),
            MaxTokensPerTurn = 24, MaxContextTokens = 400, StopWhenTruncated = true,
        };
        var wd = new AdamWOptions { WeightDecay = Num(args, "--wd", 0.01) };

        if (load is not null)
        {
            ModelFolder.LoadWeights(model, load);
            Log(new { stage = "load", path = load });
        }
        else
        {
            int demos = Int(args, "--demos", 4000), sftSteps = Int(args, "--sft-steps", 700), batch = Int(args, "--sft-batch", 128);
            double sftLr = Num(args, "--sft-lr", 1e-3);
            var rows = await DemonstrationRows(task, episode, chat, task.Load("train").Take(demos));
            var clock = Stopwatch.StartNew();
            var schedule = Arg(args, "--sft-schedule", "cosine") == "cosine"
                ? new LearningRateSchedule { Kind = ScheduleKind.Cosine, Peak = sftLr, WarmupSteps = Math.Max(1, sftSteps / 20), TotalSteps = sftSteps, MinRatio = 0.1 }
                : new LearningRateSchedule { Kind = ScheduleKind.LinearWarmup, Peak = sftLr, WarmupSteps = Int(args, "--sft-warmup", 50), TotalSteps = sftSteps };
            using (var trainer = new SftTrainer(model, new AdamWOptions { WeightDecay = Num(args, "--sft-wd", 0.01), Beta2 = Num(args, "--sft-beta2", 0.999) }, schedule, new SftOptions(), (ulong)seed))
            {
                int done = 0;
                while (done < sftSteps)
                {
                    foreach (var b in trainer.EpochBatches(rows, batch))
                    {
                        trainer.Step(b);
                        if (++done == sftSteps)
                        {
                            break;
                        }
                    }
                }
            }
            Log(new { stage = "sft", rows = rows.Count, steps = sftSteps, seconds = clock.Elapsed.TotalSeconds });
            if (save is not null)
            {
                ModelFolder.Save(model, save, tokenizer);
            }
        }

        using var engine = new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = 256 });
        var generator = EngineRoleGenerator.Shared(engine, chat, Roles.Meta, Roles.Reasoner);
        int evalEvery = Int(args, "--eval-every", 20);
        IReadOnlyList<Problem> evalProblems = task.Load(Arg(args, "--eval-split", "test"));

        async Task Evaluate(int step)
        {
            var clock = Stopwatch.StartNew();
            var runner = new EpisodeRunner(task, episode with { Sampling = new SamplingSpec(Temperature: 0) }, generator);
            var results = await Task.WhenAll(evalProblems.Select(p => runner.RunAsync(p, "eval-" + p.Id, "eval-" + p.Id)));
            Log(new
            {
                stage = "eval", step, n = results.Length, accuracy = results.Average(r => r.Correct ? 1.0 : 0.0),
                reasoner_step_acc = StepAccuracy(results),
                finish = results.GroupBy(r => r.FinishReason).ToDictionary(g => g.Key, g => g.Count()),
                seconds = clock.Elapsed.TotalSeconds,
            });
        }

        int rlSteps = Int(args, "--rl-steps", 60), prompts = Int(args, "--prompts", 16), group = Int(args, "--group", 8);
        int warmup = Int(args, "--warmup", 5), miniBatches = Int(args, "--minibatches", 1);
        bool dropZero = args.Contains("--drop-zero");
        double lr = Num(args, "--lr", 3e-5);
        var rlSchedule = new LearningRateSchedule { Kind = warmup > 0 ? ScheduleKind.LinearWarmup : ScheduleKind.Constant, Peak = lr, WarmupSteps = warmup, TotalSteps = rlSteps * miniBatches + warmup + 1 };
        var loss = new PolicyLossOptions { Temperature = 1f, Ratio = Arg(args, "--ratio", "turn-geometric") == "token" ? RatioLevel.Token : RatioLevel.TurnGeometric };
        using var updater = new PolicyUpdater(model, wd, rlSchedule, loss, new UpdateOptions { RecomputeOldLogProbs = args.Contains("--recompute") }, (Func<CausalLM>?)null, (ulong)seed);
        IReadOnlyList<Problem> train = task.Load("train");
        // Control: the SFT trainer on each step's correct episodes instead of the RL update (rejection-sampling fine-tuning).
        using SftTrainer? rftSft = args.Contains("--rft-sft") ? new SftTrainer(model, wd, rlSchedule, new SftOptions(), (ulong)seed) : null;
        var training = episode with { Sampling = new SamplingSpec(Temperature: (float)Num(args, "--temperature", 1.0), Seed: (ulong)seed) };
        var pick = new Random(seed * 7919 + 17);
        for (int step = 0; step < rlSteps; step++)
        {
            if (step % evalEvery == 0)
            {
                await Evaluate(step);
            }
            var clock = Stopwatch.StartNew();
            var runner = new EpisodeRunner(task, training, generator);
            var problems = Enumerable.Range(0, prompts).Select(_ => train[pick.Next(train.Count)]).ToList();
            var results = await Task.WhenAll(problems.SelectMany((p, i) => Enumerable.Range(0, group)
                .Select(g => runner.RunAsync(p, $"s{step}-p{i}-e{g}", $"s{step}-p{i}"))));
            double rollout = clock.Elapsed.TotalSeconds;
            var rows = results.SelectMany(r => r.Rows).ToList();
            var advantaged = Advantages.Compute(rows, new AdvantageOptions()).Rows;
            if (args.Contains("--rft"))
            {
                // Control: reward itself as the advantage (1 on every turn of a correct episode, 0 elsewhere), i.e.
                // supervised learning on the policy's own successes through the RL updater.
                advantaged = rows.Select(r => new AdvantagedRow(r, r.TurnRewards.Select(_ => (float)r.TurnRewards[^1]).ToArray())).ToList();
            }
            int informative = advantaged.GroupBy(a => (a.Row.GroupId, a.Row.Role)).Count(g => g.Any(a => a.TurnAdvantages.Any(v => v != 0)));
            int groupsRoles = advantaged.Select(a => (a.Row.GroupId, a.Row.Role)).Distinct().Count();
            if (BenchArgs.Value(args, "--dump") is string dumpPath && step < 2)
            {
                using var dump = new StreamWriter(dumpPath, append: step > 0);
                var demoRows = (await DemonstrationRows(task, episode, chat, problems.Take(4))).Select(r => new AdvantagedRow(r, new float[r.Turns])).ToList();
                foreach (AdvantagedRow a in demoRows.Concat(advantaged))
                {
                    var text = new System.Text.StringBuilder();
                    for (int j = 0; j < a.Row.Length; j++)
                    {
                        string piece = tokenizer.Decode([a.Row.TokenIds[j]]).Replace("\n", "\\n");
                        text.Append(a.Row.LossMask[j] ? $"[{piece}|{a.Row.OldLogProbs[j]:F2}]" : piece);
                    }
                    dump.WriteLine($"{a.Row.EpisodeId} {a.Row.Role} R={a.Row.TurnRewards[0]} A={string.Join(",", a.TurnAdvantages.Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))}: {text}");
                }
            }
            IReadOnlyList<AdvantagedRow> toTrain = dropZero ? advantaged.Where(a => a.TurnAdvantages.Any(v => v != 0)).ToList() : advantaged;
            var metrics = new List<UpdateMetrics>();
            if (rftSft is not null)
            {
                var winners = rows.Where(r => r.TurnRewards[^1] > 0).ToList();
                if (args.Contains("--demo-control"))
                {
                    // Control of the control: the step's problems' demonstrations (perfect data) instead of the successes.
                    winners = await DemonstrationRows(task, episode, chat, problems);
                }
                if (winners.Count > 0)
                {
                    var m = rftSft.Step(winners);
                    metrics.Add(new UpdateMetrics { GradNorm = m.GradNorm, LearningRate = m.LearningRate });
                }
                else
                {
                    metrics.Add(new UpdateMetrics());
                }
            }
            else if (miniBatches <= 1)
            {
                metrics.Add(updater.Update(toTrain));
            }
            else
            {
                // Shuffle episodes (all rows of an episode together) into equal parts, one optimizer step each.
                var episodes = toTrain.GroupBy(a => a.Row.EpisodeId).OrderBy(_ => pick.Next()).ToList();
                for (int m = 0; m < miniBatches; m++)
                {
                    var part = episodes.Where((_, k) => k % miniBatches == m).SelectMany(e => e).ToList();
                    metrics.Add(updater.Update(part));
                }
            }
            await engine.RunBetweenStepsAsync(_ => { }, step + 1);
            (double up, double down, double kl) = Movement(model, toTrain);
            Log(new
            {
                stage = "rl", step, reward = results.Average(r => r.Rewards.Values.Max()),
                correct = results.Average(r => r.Correct ? 1.0 : 0.0),
                informative_groups = (double)informative / Math.Max(1, groupsRoles),
                distinct_answers = problems.Select((_, i) => results.Skip(i * group).Take(group).Select(r => string.Join("|", r.Transcript.Select(t => t.Text))).Distinct().Count()).Average(),
                meta_tokens = results.SelectMany(r => r.Transcript).Where(t => t.Role == Roles.Meta).Average(t => (double)t.Tokens),
                reasoner_tokens = results.SelectMany(r => r.Transcript).Where(t => t.Role == Roles.Reasoner).Average(t => (double)t.Tokens),
                reasoner_step_acc = StepAccuracy(results),
                rows = rows.Count, trained_rows = toTrain.Count,
                grad_norm = metrics.Average(x => x.GradNorm), approx_kl = metrics.Average(x => x.ApproxKl),
                clip = metrics.Average(x => x.ClipFractionTurns), drift = metrics.Max(x => x.OldLogProbDrift),
                dlogp_pos = up, dlogp_neg = down, kl_step = kl,
                lr = metrics.Last().LearningRate, rollout_s = rollout, update_s = clock.Elapsed.TotalSeconds - rollout,
                finish = results.GroupBy(r => r.FinishReason).ToDictionary(g => g.Key, g => g.Count()),
            });
        }
        await Evaluate(rlSteps);
        return 0;
    }

    /// <summary>The demonstration rows of <paramref name="problems"/>, replayed through the episode runner as the campaign's SFT stage does.</summary>
    internal static async Task<List<TrajectoryRow>> DemonstrationRows(ITask task, EpisodeSettings episode, ChatTemplate chat, IEnumerable<Problem> problems)
    {
        var settings = episode with { MaxTurns = int.MaxValue / 2, MaxTokensPerTurn = 4096, MaxContextTokens = int.MaxValue / 2 };
        var rows = new List<TrajectoryRow>();
        foreach (Problem p in problems)
        {
            var r = await new EpisodeRunner(task, settings, new DemonstrationGenerator(((IDemonstrationSource)task).Demonstrate(p, Protocol.RemaMultiTurn), _ => chat)).RunAsync(p, $"demo-{p.Id}", p.Id);
            rows.AddRange(r.Rows);
        }
        return rows;
    }

    /// <summary>
    /// How the update moved the policy on the rows it trained on: the mean change of log-prob per token for tokens
    /// with a positive and with a negative advantage, and the mean (old - new) over all tokens (a KL(old || new) estimate).
    /// </summary>
    private static (double Up, double Down, double Kl) Movement(CausalLM model, IReadOnlyList<AdvantagedRow> rows)
    {
        double up = 0, down = 0, kl = 0;
        long nUp = 0, nDown = 0, n = 0;
        using var noGrad = TorchSharp.torch.no_grad();
        (var groups, int packWidth) = RowBatching.Packed(rows.Select(r => r.Row.Length).ToList(), 8192);
        foreach (int[] micro in groups)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var batch = new MicroBatch(micro.Select(i => rows[i].Row).ToList(), packWidth);
            if (batch.LossTokens == 0)
            {
                continue;
            }
            float[] logp = batch.Score(model).LogProbs.to(TorchSharp.torch.ScalarType.Float32).cpu().data<float>().ToArray();
            for (int m = 0; m < logp.Length; m++)
            {
                AdvantagedRow r = rows[micro[batch.RowOf[m]]];
                float old = r.Row.OldLogProbs[batch.PositionOf[m]];
                if (float.IsNaN(old))
                {
                    continue;
                }
                double d = logp[m] - old;
                float a = r.TurnAdvantages[batch.TurnOf[m]];
                kl -= d;
                n++;
                if (a > 0) { up += d; nUp++; }
                else if (a < 0) { down += d; nDown++; }
            }
        }
        return (nUp == 0 ? 0 : up / nUp, nDown == 0 ? 0 : down / nDown, n == 0 ? 0 : kl / n);
    }

    private static double StepAccuracy(IEnumerable<EpisodeResult> results)
    {
        var steps = results.SelectMany(r => r.Transcript).Where(t => t.StepCorrect is not null).ToList();
        return steps.Count == 0 ? double.NaN : steps.Average(t => t.StepCorrect == true ? 1.0 : 0.0);
    }
}
