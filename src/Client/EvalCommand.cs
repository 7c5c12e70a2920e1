using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReMA.Abstractions.Policy;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using ReMA.Tasks.Core;

namespace ReMA.Client;

/// <summary>Accuracy of one checkpoint on one split: pass@1 with greedy decoding and pass@k with k samples at temperature 1.</summary>
/// <remarks>SampledPassAt1 is the mean accuracy of the k samples (temperature 1), the policy RL trains.
/// ReasonerStepAccuracy is the share of the reasoner's greedy step turns that the task found right (stateful tasks only);
/// MetaCheckpoint and ReasonerCheckpoint name the folder each role generated with (the same unless swapped);
/// FailureCauses counts the wrong greedy episodes by their first faulty turn, and MetaStepAccuracy is the share of the
/// meta agent's greedy instructions that were right for the state they were given (multi-turn, tasks that can tell).</remarks>
public sealed record EvalResult(string Checkpoint, string Task, string Split, string Protocol, int Problems, double PassAt1, int K, double? PassAtK,
    double? SampledPassAt1, IReadOnlyDictionary<string, int> FinishReasons, double Seconds, double? ReasonerStepAccuracy = null,
    string? MetaCheckpoint = null, string? ReasonerCheckpoint = null, IReadOnlyDictionary<string, int>? FailureCauses = null,
    double? MetaStepAccuracy = null);

/// <summary>
/// <c>rema eval --checkpoint DIR [--task arithmetic] [--option k=v ...] [--split test] [--protocol rema-multi-turn]
/// [--view compact] [--max-problems N] [--k K] [--swap OTHER] [--json]</c>: runs the protocol's episodes on a checkpoint
/// folder in this process (a generation engine, no cluster needed). With --swap, each role takes its turns from either
/// checkpoint: the four pairings show where a difference between two checkpoints lives (for example RL's gain: the
/// RL meta agent with the SFT reasoner, and the reverse).
/// </summary>
internal static class EvalCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Required = true, Description = "Checkpoint folder (config.json, model.safetensors, tokenizer)" };
        var task = new Option<string>("--task") { DefaultValueFactory = _ => "arithmetic", Description = "Task name" };
        var options = new Option<string[]>("--option") { Description = "Task option key=value (repeatable), as in the campaign's task.options", AllowMultipleArgumentsPerToken = false };
        var split = new Option<string>("--split") { DefaultValueFactory = _ => "test", Description = "Split to evaluate" };
        var protocol = new Option<string>("--protocol") { DefaultValueFactory = _ => "rema-multi-turn", Description = "vrp, mrp, rema-single-turn or rema-multi-turn" };
        var view = new Option<string>("--view") { DefaultValueFactory = _ => "compact", Description = "full or compact" };
        var max = new Option<int>("--max-problems") { DefaultValueFactory = _ => 500, Description = "Problems at most (0 = all)" };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 1, Description = "Samples per problem for pass@k (1 = greedy only)" };
        var maxTurns = new Option<int>("--max-turns") { DefaultValueFactory = _ => 8, Description = "Rounds per episode at most" };
        var maxTokens = new Option<int>("--max-tokens-per-turn") { DefaultValueFactory = _ => 24, Description = "Tokens per turn at most" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu, cuda or cuda:N" };
        var transcripts = new Option<string?>("--transcripts") { Description = "Write every greedy episode (question, answer, outcome, turns) to this JSONL file (with --swap: FILE.AA.jsonl, FILE.BA.jsonl, ... per pairing, meta first)" };
        var swap = new Option<string?>("--swap") { Description = "A second checkpoint folder: evaluate the four pairings of meta agent and reasoner taken from either (multi-agent protocols)" };
        var json = ClusterOptions.Json();
        var command = new Command("eval", "Evaluate a checkpoint on a task split: greedy pass@1 and pass@k")
        {
            checkpoint, task, options, split, protocol, view, max, k, maxTurns, maxTokens, device, transcripts, swap, json,
        };
        command.SetAction(async parse =>
        {
            try
            {
                var taskOptions = new Dictionary<string, string>();
                foreach (string pair in parse.GetValue(options) ?? [])
                {
                    int eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new ArgumentException($"--option '{pair}' must be key=value.");
                    }
                    taskOptions[pair[..eq]] = pair[(eq + 1)..];
                }
                if (parse.GetValue(k) < 1)
                {
                    throw new ArgumentException($"--k must be at least 1 (got {parse.GetValue(k)}).");
                }
                string folder = parse.GetValue(checkpoint)!;
                if (!Directory.Exists(folder))
                {
                    throw new ArgumentException($"--checkpoint: folder '{folder}' does not exist.");
                }
                if (parse.GetValue(swap) is string other)
                {
                    if (!Directory.Exists(other))
                    {
                        throw new ArgumentException($"--swap: folder '{other}' does not exist.");
                    }
                    if (parse.GetValue(k) > 1)
                    {
                        throw new ArgumentException("--swap evaluates four greedy pairings; it does not take --k.");
                    }
                    IReadOnlyList<EvalResult> pairings = await SwapAsync(folder, other, parse.GetValue(task)!, taskOptions, parse.GetValue(split)!, parse.GetValue(protocol)!,
                        parse.GetValue(view)!, parse.GetValue(max), parse.GetValue(maxTurns), parse.GetValue(maxTokens), parse.GetValue(device)!, parse.GetValue(transcripts));
                    Console.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(pairings, Indented) : SwapTable(pairings, folder, other));
                    return 0;
                }
                EvalResult result = await RunAsync(folder, parse.GetValue(task)!, taskOptions, parse.GetValue(split)!, parse.GetValue(protocol)!,
                    parse.GetValue(view)!, parse.GetValue(max), parse.GetValue(k), parse.GetValue(maxTurns), parse.GetValue(maxTokens), parse.GetValue(device)!,
                    parse.GetValue(transcripts));
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(result, Indented));
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{result.Task}/{result.Split} ({result.Problems} problems, {result.Protocol}): pass@1 {result.PassAt1:P1}{(result.PassAtK is double p ? $", pass@{result.K} {p:P1}, sampled pass@1 {result.SampledPassAt1:P1}" : "")} in {result.Seconds:F1} s"));
                    if (result.FailureCauses is { Count: > 0 } causes)
                    {
                        Console.WriteLine("failures by first cause: " + string.Join(", ", causes.Select(kv => $"{kv.Key} {kv.Value}")));
                    }
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    public static async Task<EvalResult> RunAsync(string checkpoint, string taskName, IReadOnlyDictionary<string, string> taskOptions, string split,
        string protocolName, string viewName, int maxProblems, int k, int maxTurns, int maxTokensPerTurn, string device, string? transcriptFile = null)
    {
        using var policies = new LoadedPolicies(device);
        Protocol protocol = Roles.ParseProtocol(protocolName);
        var byRole = Roles.Of(protocol).ToDictionary(r => r, _ => checkpoint);
        return await RunPairingAsync(policies, byRole, taskName, taskOptions, split, protocolName, viewName, maxProblems, k, maxTurns, maxTokensPerTurn, transcriptFile);
    }

    /// <summary>
    /// The four pairings of <paramref name="first"/> and <paramref name="second"/> in a multi-agent protocol: meta agent
    /// from one, reasoner from the other (each checkpoint loaded once); greedy pass@1 and the reasoner's step accuracy.
    /// </summary>
    public static async Task<IReadOnlyList<EvalResult>> SwapAsync(string first, string second, string taskName, IReadOnlyDictionary<string, string> taskOptions,
        string split, string protocolName, string viewName, int maxProblems, int maxTurns, int maxTokensPerTurn, string device, string? transcriptPrefix = null)
    {
        Protocol protocol = Roles.ParseProtocol(protocolName);
        if (!Roles.Of(protocol).Contains(Roles.Meta) || !Roles.Of(protocol).Contains(Roles.Reasoner))
        {
            throw new ArgumentException($"--swap needs a protocol with a meta agent and a reasoner (got {protocolName}).");
        }
        using var policies = new LoadedPolicies(device);
        var results = new List<EvalResult>();
        foreach ((string meta, string reasoner) in new[] { (first, first), (second, first), (first, second), (second, second) })
        {
            var byRole = new Dictionary<string, string> { [Roles.Meta] = meta, [Roles.Reasoner] = reasoner };
            string? transcripts = transcriptPrefix is null ? null : $"{transcriptPrefix}.{(meta == first ? "A" : "B")}{(reasoner == first ? "A" : "B")}.jsonl";
            results.Add(await RunPairingAsync(policies, byRole, taskName, taskOptions, split, protocolName, viewName, maxProblems, 1, maxTurns, maxTokensPerTurn, transcripts));
        }
        return results;
    }

    /// <summary>The pairings as a table, with each one's change against the first checkpoint in both roles.</summary>
    public static string SwapTable(IReadOnlyList<EvalResult> pairings, string first, string second)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        string Name(string folder) => folder == first ? "A" : "B";
        var text = new System.Text.StringBuilder();
        text.AppendLine(string.Create(inv, $"A = {first}"));
        text.AppendLine(string.Create(inv, $"B = {second}"));
        text.AppendLine(string.Create(inv, $"{pairings[0].Task}/{pairings[0].Split}, {pairings[0].Problems} problems, greedy:"));
        text.AppendLine("meta  reasoner  pass@1   change vs A/A  meta step accuracy  reasoner step accuracy");
        double baseline = pairings[0].PassAt1;
        foreach (EvalResult r in pairings)
        {
            string steps = r.ReasonerStepAccuracy is double s ? s.ToString("P1", inv) : "-";
            string metaSteps = r.MetaStepAccuracy is double ms ? ms.ToString("P1", inv) : "-";
            text.AppendLine(string.Create(inv, $"{Name(r.MetaCheckpoint!),-5} {Name(r.ReasonerCheckpoint!),-9} {r.PassAt1,7:P1}  {100 * (r.PassAt1 - baseline),+8:+0.0;-0.0} pts  {metaSteps,18}  {steps}"));
        }
        return text.ToString().TrimEnd();
    }

    private static async Task<EvalResult> RunPairingAsync(LoadedPolicies policies, IReadOnlyDictionary<string, string> checkpointOfRole, string taskName,
        IReadOnlyDictionary<string, string> taskOptions, string split, string protocolName, string viewName, int maxProblems, int k, int maxTurns,
        int maxTokensPerTurn, string? transcriptFile)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ITask task = TaskCatalog.Default().Create(taskName, taskOptions);
        Protocol protocol = Roles.ParseProtocol(protocolName);
        ViewMode view = viewName switch
        {
            "compact" => ViewMode.Compact,
            "full" => ViewMode.Full,
            _ => throw new ArgumentException($"--view '{viewName}' must be full or compact."),
        };
        var problems = task.Load(split);
        if (maxProblems > 0)
        {
            problems = [.. problems.Take(maxProblems)];
        }
        var engines = checkpointOfRole.ToDictionary(kv => kv.Key, kv => policies.Get(kv.Value));
        int maxPositions = engines.Values.Min(e => e.MaxPositions);
        var generator = new EngineRoleGenerator(engines.ToDictionary(kv => kv.Key, kv => (kv.Value.Engine, kv.Value.Template)));
        EpisodeSettings Settings(float temperature) => new()
        {
            Protocol = protocol, View = view, MaxTurns = maxTurns, MaxTokensPerTurn = maxTokensPerTurn, MaxContextTokens = maxPositions - maxTokensPerTurn,
            Sampling = new SamplingSpec(Temperature: temperature, Seed: 1),
        };
        var greedy = new EpisodeRunner(task, Settings(0f), generator);
        var greedyResults = await Task.WhenAll(problems.Select((p, i) => greedy.RunAsync(p, $"eval-{i}", $"eval-{i}")));
        if (transcriptFile is not null)
        {
            File.WriteAllLines(transcriptFile, greedyResults.Select((r, i) => JsonSerializer.Serialize(new
            {
                id = problems[i].Id, question = problems[i].Question, answer = problems[i].Answer, correct = r.Correct,
                extracted = r.Extracted, finish = r.FinishReason, turns = r.Transcript.Select(t => new { round = t.Round, role = t.Role, text = t.Text }),
            })));
        }
        double? passAtK = null, sampledPassAt1 = null;
        if (k > 1)
        {
            var sampler = new EpisodeRunner(task, Settings(1f), generator);
            var samples = await Task.WhenAll(problems.SelectMany((p, i) => Enumerable.Range(0, k).Select(s => sampler.RunAsync(p, $"eval-{i}-s{s}", $"eval-{i}"))));
            passAtK = samples.GroupBy(r => r.GroupId).Count(g => g.Any(r => r.Correct)) / (double)Math.Max(1, problems.Count);
            sampledPassAt1 = samples.Length == 0 ? 0 : samples.Count(r => r.Correct) / (double)samples.Length;
        }
        var steps = greedyResults.SelectMany(r => r.Transcript).Where(t => t.StepCorrect is not null).ToList();
        Dictionary<string, int>? causes = null;
        double? metaSteps = null;
        if (task is IFailureDiagnosis diagnosis && task is IStatefulTask stateful && protocol == Protocol.RemaMultiTurn)
        {
            int right = 0, checkedTurns = 0;
            foreach ((EpisodeResult r, Problem p) in greedyResults.Zip(problems))
            {
                string state = stateful.InitialState(p);
                foreach (TranscriptTurn t in r.Transcript)
                {
                    if (t.Role == Roles.Reasoner)
                    {
                        state = stateful.Advance(state, t.Text);
                    }
                    else if (diagnosis.CheckInstruction(state, t.Text) is bool ok)
                    {
                        checkedTurns++;
                        right += ok ? 1 : 0;
                    }
                }
            }
            metaSteps = checkedTurns == 0 ? null : right / (double)checkedTurns;
            causes = greedyResults.Select((r, i) => diagnosis.FirstFailure(problems[i], [.. r.Transcript.Select(t => (t.Role, t.Text))], r.Correct, r.FinishReason))
                .OfType<string>().GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count());
        }
        string? meta = checkpointOfRole.TryGetValue(Roles.Meta, out string? m) ? m : null;
        string? reasoner = checkpointOfRole.TryGetValue(Roles.Reasoner, out string? y) ? y : null;
        return new EvalResult(reasoner ?? meta ?? checkpointOfRole.Values.First(), taskName, split, protocolName, problems.Count,
            greedyResults.Count(r => r.Correct) / (double)Math.Max(1, problems.Count), k, passAtK, sampledPassAt1,
            greedyResults.GroupBy(r => r.FinishReason).ToDictionary(g => g.Key, g => g.Count()), clock.Elapsed.TotalSeconds,
            steps.Count == 0 ? null : steps.Count(t => t.StepCorrect == true) / (double)steps.Count, meta, reasoner, causes, metaSteps);
    }

    /// <summary>Checkpoint folders loaded once each, with an engine apiece; disposed together.</summary>
    private sealed class LoadedPolicies(string device) : IDisposable
    {
        private readonly Dictionary<string, (CausalLM Model, GenerationEngine Engine, ChatTemplate Template)> _loaded = new(StringComparer.Ordinal);

        public (GenerationEngine Engine, ChatTemplate Template, int MaxPositions) Get(string folder)
        {
            if (!_loaded.TryGetValue(folder, out var entry))
            {
                (CausalLM model, ITokenizer tokenizer) = PolicyModelLoader.Load(new PolicySource { ModelPath = folder, Device = device });
                entry = (model, new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = 256 }), new ChatTemplate(tokenizer));
                _loaded[folder] = entry;
            }
            return (entry.Engine, entry.Template, entry.Model.Config.MaxPositionEmbeddings);
        }

        public void Dispose()
        {
            foreach (var (model, engine, _) in _loaded.Values)
            {
                engine.Dispose();
                model.Dispose();
            }
        }
    }
}
