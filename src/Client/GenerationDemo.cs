using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Policy;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Model;
using ReMA.Learner.Scoring;
using ReMA.Learner.Tokenization;
using ReMA.Silo;
using ReMA.Tasks.Arithmetic;
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
    public int SiloPort { get; init; } = 11111;
    public int GatewayPort { get; init; } = 30000;
}

public sealed record DemoEpisode(string Question, string Answer, string Completion, int Tokens, string FinishReason, double Reward, double Seconds);

public sealed record DemoReport(
    string Preset,
    long Parameters,
    string Device,
    string Silo,
    int Requests,
    long GeneratedTokens,
    double Seconds,
    double TokensPerSecond,
    double Accuracy,
    IReadOnlyDictionary<string, int> FinishReasons,
    double MaxScorerDifference,
    bool ReloadIdentical,
    IReadOnlyList<DemoEpisode> Samples);

/// <summary>
/// The embedded demo as far as the platform goes today: an in-process Orleans silo hosts a policy grain (a nano model
/// behind the continuous-batching engine); arithmetic questions from the task library are sent to it concurrently, as
/// episodes would, and their answers are scored; the learner's scorer re-computes the sampled log-probs; the model
/// folder is saved and reloaded. Writes report.md and report.json. Training comes with the campaign grains.
/// </summary>
public static class GenerationDemo
{
    private const string PolicyId = "demo";
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<DemoReport> RunAsync(DemoOptions options, TextWriter log)
    {
        Directory.CreateDirectory(options.OutputDirectory);
        var source = new PolicySource { Preset = options.Preset, Device = options.Device, Seed = options.Seed, MaxBatch = 16 };
        Learner.Runtime.TorchDevice.Resolve(options.Device);   // fail fast, before the silo starts

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"ReMA:Policies:{PolicyId}:Preset"] = source.Preset,
            [$"ReMA:Policies:{PolicyId}:Device"] = source.Device,
            [$"ReMA:Policies:{PolicyId}:Seed"] = source.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"ReMA:Policies:{PolicyId}:MaxBatch"] = source.MaxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.AddReMAEmbeddedSilo(options.SiloPort, options.GatewayPort);
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            return await RunOnSiloAsync(host.Services.GetRequiredService<IGrainFactory>(), source, options, log);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static async Task<DemoReport> RunOnSiloAsync(IGrainFactory grains, PolicySource source, DemoOptions options, TextWriter log)
    {
        IPolicyGrain policy = grains.GetGrain<IPolicyGrain>(PolicyKey.Replica(PolicyId, "0"));
        PolicyInfo info = await policy.GetInfo();
        log.WriteLine($"silo {info.SiloAddress}: policy {info.PolicyId} ({info.Architecture}, preset {options.Preset}, {info.Parameters:N0} parameters, {info.Device})");

        var task = new ArithmeticTask(seed: options.Seed, evalSize: options.Prompts);
        var problems = task.Load("test");
        const string system = "You are the reasoning agent. Solve the step and put the result in \\boxed{}.";
        int[][] prompts = await Task.WhenAll(problems.Select(p => policy.RenderChat([new ChatTurn("system", system), new ChatTurn("user", p.Question)], true)));

        var clock = Stopwatch.StartNew();
        var seconds = new double[problems.Count];
        GenerateResponse[] responses = await Task.WhenAll(problems.Select(async (p, i) =>
        {
            var sampling = new SamplingSpec(options.Temperature, MaxNewTokens: options.MaxNewTokens, Seed: (ulong)(options.Seed * 1000 + i), StopStrings: ["[FINISH]"]);
            GenerateResponse r = await policy.Generate(new GenerateRequest(p.Id, prompts[i], sampling));
            seconds[i] = clock.Elapsed.TotalSeconds;
            return r;
        }));
        double elapsed = clock.Elapsed.TotalSeconds;
        long generated = responses.Sum(r => (long)r.TokenIds.Length);
        double[] rewards = problems.Select((p, i) => task.Judge(p, responses[i].Text).Correct ? 1.0 : 0.0).ToArray();
        log.WriteLine($"generated {generated} tokens for {responses.Length} concurrent requests in {elapsed:F2} s ({generated / elapsed:F0} tokens/s); accuracy {rewards.Average():P1} (untrained model)");

        // The learner side: the same policy built locally must score the sampled ids exactly as the sampler did.
        (CausalLM model, ITokenizer tokenizer) = PolicyModelLoader.Load(source);
        using (model)
        {
            double maxDiff = MaxScorerDifference(model, prompts, responses, options.Temperature);
            string modelDir = Path.Combine(options.OutputDirectory, "model");
            ModelFolder.Save(model, modelDir, tokenizer);
            using CausalLM reloaded = ModelFolder.LoadModel(modelDir, model.Device);
            bool identical = SameOutputs(model, reloaded, prompts[0]);
            log.WriteLine($"scorer vs sampler max |d logp| = {maxDiff:E2}; saved and reloaded {modelDir}: identical outputs = {identical}");

            var report = new DemoReport(
                options.Preset, info.Parameters, options.Device, info.SiloAddress, responses.Length, generated, elapsed, generated / elapsed,
                rewards.Average(),
                responses.GroupBy(r => r.FinishReason).ToDictionary(g => g.Key, g => g.Count()),
                maxDiff, identical,
                problems.Take(6).Select((p, i) => new DemoEpisode(p.Question, p.Answer, responses[i].Text, responses[i].TokenIds.Length,
                    responses[i].FinishReason, rewards[i], seconds[i])).ToList());
            WriteReport(report, options.OutputDirectory);
            log.WriteLine($"report: {Path.Combine(options.OutputDirectory, "report.md")}");
            return report;
        }
    }

    private static bool SameOutputs(CausalLM a, CausalLM b, IReadOnlyList<int> prompt)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Count], device: a.Device);
        return a.Forward(ids).eq(b.Forward(ids)).all().item<bool>();
    }

    private static double MaxScorerDifference(CausalLM model, int[][] prompts, GenerateResponse[] responses, float temperature)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rows = prompts.Zip(responses, (p, r) => ((IReadOnlyList<int>)p, (IReadOnlyList<int>)r.TokenIds)).ToList();
        (Tensor logProbs, Tensor mask) = LogProbScorer.Score(model, rows, temperature);
        int width = (int)logProbs.shape[1];
        var recorded = new float[responses.Length * width];
        for (int i = 0; i < responses.Length; i++)
        {
            responses[i].LogProbs.CopyTo(recorded, i * width);
        }
        Tensor diff = (logProbs - tensor(recorded, logProbs.shape, device: model.Device)).abs() * mask;
        return diff.max().item<float>();
    }

    private static void WriteReport(DemoReport report, string directory)
    {
        File.WriteAllText(Path.Combine(directory, "report.json"), JsonSerializer.Serialize(report, Indented));
        var md = new StringBuilder();
        md.AppendLine("# ReMA demo: a policy grain on an embedded silo");
        md.AppendLine();
        md.AppendLine($"Policy preset `{report.Preset}` ({report.Parameters:N0} parameters, random initialisation) on `{report.Device}`, hosted by silo `{report.Silo}`.");
        md.AppendLine("Questions come from the synthetic arithmetic task; all requests were in flight at once and decoded in one continuous batch.");
        md.AppendLine("Training (SFT, then GRPO with turn-level ratios) comes with the campaign grains; until then the model is untrained.");
        md.AppendLine();
        md.AppendLine("| measure | value |");
        md.AppendLine("|---|---|");
        md.AppendLine($"| requests | {report.Requests} |");
        md.AppendLine($"| generated tokens | {report.GeneratedTokens} |");
        md.AppendLine($"| wall time | {report.Seconds:F2} s |");
        md.AppendLine($"| throughput | {report.TokensPerSecond:F0} tokens/s |");
        md.AppendLine($"| accuracy (boxed answer correct) | {report.Accuracy:P1} |");
        md.AppendLine($"| finish reasons | {string.Join(", ", report.FinishReasons.Select(kv => $"{kv.Key} {kv.Value}"))} |");
        md.AppendLine($"| max abs(scorer - sampler log-prob) | {report.MaxScorerDifference:E2} |");
        md.AppendLine($"| save + reload gives identical logits | {report.ReloadIdentical} |");
        md.AppendLine();
        md.AppendLine("## Samples");
        md.AppendLine();
        foreach (DemoEpisode e in report.Samples)
        {
            md.AppendLine($"- `{e.Question}` (answer {e.Answer}) -> {e.Tokens} tokens, {e.FinishReason}, reward {e.Reward}: `{e.Completion.Replace("`", "'", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}`");
        }
        File.WriteAllText(Path.Combine(directory, "report.md"), md.ToString());
    }
}
