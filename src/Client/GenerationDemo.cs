using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Runtime;
using ReMA.Learner.Scoring;
using ReMA.Learner.Tokenization;
using static TorchSharp.torch;

namespace ReMA.Client;

public sealed record DemoOptions
{
    public string OutputDirectory { get; init; } = Path.Combine("runs", "demo");
    public string Device { get; init; } = "cpu";
    public string Preset { get; init; } = "nano";
    public int Prompts { get; init; } = 32;
    public int MaxNewTokens { get; init; } = 48;
    public float Temperature { get; init; } = 1.0f;
    public int Seed { get; init; } = 1;
}

public sealed record DemoEpisode(string Question, string Completion, int Tokens, string FinishReason, double Seconds);

public sealed record DemoReport(
    string Preset,
    long Parameters,
    string Device,
    int Requests,
    long GeneratedTokens,
    double Seconds,
    double TokensPerSecond,
    IReadOnlyDictionary<string, int> FinishReasons,
    double MaxScorerDifference,
    bool ReloadIdentical,
    IReadOnlyList<DemoEpisode> Samples);

/// <summary>
/// The embedded demo of the policy engine: a nano model answers a stream of arithmetic questions through the
/// continuous-batching engine (requests arriving while others decode), the model folder is saved and reloaded, and
/// the learner's scorer re-computes the sampled log-probs. Writes report.md and report.json.
/// </summary>
public static class GenerationDemo
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<DemoReport> RunAsync(DemoOptions options, TextWriter log)
    {
        Device device = TorchDevice.Resolve(options.Device);
        Directory.CreateDirectory(options.OutputDirectory);
        manual_seed(options.Seed);
        var tokenizer = new CharTokenizer();
        var chat = new ChatTemplate(tokenizer);
        using var model = new CausalLM(ModelPresets.Get(options.Preset, tokenizer.VocabSize), device);
        model.eval();
        log.WriteLine($"model: preset {options.Preset}, {model.ParameterCount():N0} parameters on {options.Device}");

        var random = new Random(options.Seed);
        var questions = Enumerable.Range(0, options.Prompts).Select(_ => Question(random)).ToList();
        var sampling = new SamplingParams { Temperature = options.Temperature, MaxNewTokens = options.MaxNewTokens, StopStrings = ["[FINISH]"] };
        var requests = questions.Select((q, i) => new GenerationRequest(
            chat.Render([ChatMessage.System("You are the reasoning agent. Solve the step and box the result."), ChatMessage.User(q)], addGenerationPrompt: true),
            sampling with { Seed = (ulong)(options.Seed * 1000 + i) }, $"q{i}")).ToList();

        var results = new GenerationResult[requests.Count];
        var seconds = new double[requests.Count];
        var clock = Stopwatch.StartNew();
        using (var engine = new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = 16 }))
        {
            // Requests arrive in waves while earlier ones are still decoding.
            var pending = new List<Task>();
            for (int i = 0; i < requests.Count; i++)
            {
                int index = i;
                double start = clock.Elapsed.TotalSeconds;
                pending.Add(engine.GenerateAsync(requests[i]).ContinueWith(t =>
                {
                    results[index] = t.Result;
                    seconds[index] = clock.Elapsed.TotalSeconds - start;
                }, TaskScheduler.Default));
                if (i % 8 == 7)
                {
                    await Task.Delay(20);
                }
            }
            await Task.WhenAll(pending);
        }
        double elapsed = clock.Elapsed.TotalSeconds;
        long generated = results.Sum(r => (long)r.TokenIds.Length);
        log.WriteLine($"generated {generated} tokens for {results.Length} requests in {elapsed:F2} s ({generated / elapsed:F0} tokens/s)");

        string modelDir = Path.Combine(options.OutputDirectory, "model");
        ModelFolder.Save(model, modelDir, tokenizer);
        using CausalLM reloaded = ModelFolder.LoadModel(modelDir, device);
        bool identical = SameOutputs(model, reloaded, requests[0].PromptIds);
        double maxDiff = MaxScorerDifference(reloaded, requests, results);
        log.WriteLine($"saved and reloaded {modelDir}: outputs identical = {identical}; scorer vs sampler max |d logp| = {maxDiff:E2}");

        var report = new DemoReport(
            options.Preset, model.ParameterCount(), options.Device, results.Length, generated, elapsed, generated / elapsed,
            results.GroupBy(r => r.FinishReason.ToString().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count()),
            maxDiff, identical,
            results.Take(6).Select((r, i) => new DemoEpisode(questions[i], r.Text, r.TokenIds.Length, r.FinishReason.ToString().ToLowerInvariant(), seconds[i])).ToList());
        WriteReport(report, options.OutputDirectory);
        log.WriteLine($"report: {Path.Combine(options.OutputDirectory, "report.md")}");
        return report;
    }

    private static string Question(Random random)
    {
        int a = random.Next(1, 10), b = random.Next(1, 10), c = random.Next(1, 10);
        string[] ops = ["+", "-", "*"];
        return $"Compute {a}{ops[random.Next(3)]}{b}{ops[random.Next(3)]}{c}.";
    }

    private static bool SameOutputs(CausalLM a, CausalLM b, IReadOnlyList<int> prompt)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Count], device: a.Device);
        return a.Forward(ids).eq(b.Forward(ids)).all().item<bool>();
    }

    private static double MaxScorerDifference(CausalLM model, IReadOnlyList<GenerationRequest> requests, IReadOnlyList<GenerationResult> results)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rows = requests.Zip(results, (q, r) => (q.PromptIds, (IReadOnlyList<int>)r.TokenIds)).ToList();
        (Tensor logProbs, Tensor mask) = LogProbScorer.Score(model, rows, requests[0].Sampling.Temperature);
        var recorded = new float[logProbs.shape[0] * logProbs.shape[1]];
        int width = (int)logProbs.shape[1];
        for (int i = 0; i < results.Count; i++)
        {
            results[i].LogProbs.CopyTo(recorded, i * width);
        }
        Tensor diff = (logProbs - tensor(recorded, logProbs.shape, device: model.Device)).abs() * mask;
        return diff.max().item<float>();
    }

    private static void WriteReport(DemoReport report, string directory)
    {
        File.WriteAllText(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(report, Indented));
        var md = new StringBuilder();
        md.AppendLine("# ReMA demo: the policy engine");
        md.AppendLine();
        md.AppendLine($"Model preset `{report.Preset}` ({report.Parameters:N0} parameters, random initialisation) on `{report.Device}`.");
        md.AppendLine("Training the arithmetic demo on Orleans comes with the campaign grains; this report shows the engine they use.");
        md.AppendLine();
        md.AppendLine("| measure | value |");
        md.AppendLine("|---|---|");
        md.AppendLine($"| requests | {report.Requests} |");
        md.AppendLine($"| generated tokens | {report.GeneratedTokens} |");
        md.AppendLine($"| wall time | {report.Seconds:F2} s |");
        md.AppendLine($"| decode throughput | {report.TokensPerSecond:F0} tokens/s |");
        md.AppendLine($"| finish reasons | {string.Join(", ", report.FinishReasons.Select(kv => $"{kv.Key} {kv.Value}"))} |");
        md.AppendLine($"| save + reload gives identical logits | {report.ReloadIdentical} |");
        md.AppendLine($"| max abs(scorer - sampler log-prob) | {report.MaxScorerDifference:E2} |");
        md.AppendLine();
        md.AppendLine("## Samples (an untrained model produces noise)");
        md.AppendLine();
        foreach (DemoEpisode e in report.Samples)
        {
            md.AppendLine($"- `{e.Question}` -> {e.Tokens} tokens, {e.FinishReason}, {e.Seconds:F2} s: `{e.Completion.Replace("`", "'").Replace("\n", "\\n")}`");
        }
        File.WriteAllText(Path.Combine(directory, "report.md"), md.ToString());
    }
}
