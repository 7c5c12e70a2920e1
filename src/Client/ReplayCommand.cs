using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Grains.Campaigns;
using ReMA.Grains.Episodes;
using ReMA.Grains.Policy;
using ReMA.Grains.Storage;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;
using ReMA.Tasks.Core;
using Spectre.Console;

namespace ReMA.Client;

/// <summary>What a scripted or interactive replay session shows and does.</summary>
public sealed class ReplaySession(ReplayEpisode episode, Func<int, Task<ForkResult>> fork, IAnsiConsole console)
{
    public int Current { get; private set; }
    public bool ShowView { get; private set; }
    public ForkResult? LastFork { get; private set; }

    /// <summary>Keys: n or right arrow (next turn), p or left arrow (previous), v (role view / dialogue), f (fork here), q (quit).</summary>
    public async Task<bool> HandleAsync(string key)
    {
        switch (key)
        {
            case "n" or "right":
                Current = Math.Min(episode.Turns.Count - 1, Current + 1);
                break;
            case "p" or "left":
                Current = Math.Max(0, Current - 1);
                break;
            case "v":
                ShowView = !ShowView;
                break;
            case "f":
                LastFork = await fork(Current);
                break;
            case "q":
                return false;
            default:
                throw new ArgumentException($"key '{key}' is not a replay key (n, p, v, f, q, left, right).");
        }
        return true;
    }

    public void Render()
    {
        console.Write(new Rule($"[bold]{Markup.Escape(episode.EpisodeId)}[/]").LeftJustified());
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"{Markup.Escape(episode.Question)}  gold [bold]{Markup.Escape(episode.GoldAnswer)}[/]  answer {Markup.Escape(episode.Extracted ?? "-")}  {(episode.Correct ? "[green]correct[/]" : "[red]wrong[/]")}  reward {episode.Reward:F2}  {Markup.Escape(episode.FinishReason)}  {episode.Seconds:F2} s"));
        if (episode.Turns.Count == 0)
        {
            console.MarkupLine("[grey](no turns)[/]");
            return;
        }
        ReplayTurn turn = episode.Turns[Current];
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"turn {Current + 1}/{episode.Turns.Count}  round {turn.Round}  [bold]{turn.Role}[/]  policy v{turn.PolicyVersion}  finish {Markup.Escape(turn.FinishReason)}  mean log-prob {turn.MeanLogProb:F3}  {(ShowView ? "[grey](role view)[/]" : "[grey](dialogue)[/]")}"));
        if (ShowView)
        {
            console.Write(new Panel(new Text(turn.View)) { Header = new PanelHeader($"{turn.Role} view") });
        }
        else
        {
            var dialogue = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            for (int i = 0; i <= Current; i++)
            {
                ReplayTurn t = episode.Turns[i];
                dialogue.AddRow(new Markup(t.Role == Roles.Meta ? "[blue]meta[/]" : "[yellow]reasoner[/]"), i == Current ? Coloured(t) : new Text(t.Text));
            }
            console.Write(dialogue);
        }
        console.MarkupLine("[grey]tokens: [green]p >= 0.9[/] [yellow]>= 0.5[/] [darkorange]>= 0.1[/] [white on red]< 0.1[/]   keys: n next, p previous, v view, f fork here, q quit[/]");
        if (LastFork is ForkResult f)
        {
            console.Write(SideBySide(f));
        }
    }

    /// <summary>The turn's tokens coloured by the probability they were sampled with; unlikely ones highlighted.</summary>
    public static Markup Coloured(ReplayTurn turn)
    {
        if (turn.Tokens.Count == 0)
        {
            return new Markup(Markup.Escape(turn.Text));
        }
        var text = new System.Text.StringBuilder();
        foreach (ReplayToken token in turn.Tokens)
        {
            double p = Math.Exp(token.LogProb);
            string style = p >= 0.9 ? "green" : p >= 0.5 ? "yellow" : p >= 0.1 ? "darkorange" : "white on red";
            text.Append('[').Append(style).Append(']').Append(Markup.Escape(token.Text)).Append("[/]");
        }
        return new Markup(text.ToString());
    }

    private Table SideBySide(ForkResult f)
    {
        var table = new Table().AddColumn(string.Create(CultureInfo.InvariantCulture, $"original (reward {episode.Reward:F2})")).AddColumn(
            string.Create(CultureInfo.InvariantCulture, $"fork T={f.Temperature:0.##}{(f.Version is long v ? $" v{v}" : "")} (reward {f.Reward:F2}, {f.Outcome.FinishReason})"));
        table.Caption = new TableTitle($"from turn {f.Turn + 1}");
        var original = episode.Turns.Skip(f.Turn).Select(t => $"{t.Role}: {t.Text}").ToList();
        var forked = f.Outcome.Transcript.Skip(f.Turn).Select(t => $"{t.Role}: {t.Text}").ToList();
        for (int i = 0; i < Math.Max(original.Count, forked.Count); i++)
        {
            table.AddRow(Markup.Escape(i < original.Count ? original[i] : ""), Markup.Escape(i < forked.Count ? forked[i] : ""));
        }
        return table;
    }
}

/// <summary>
/// <c>rema replay EPISODE-ID [--keys SEQ] [--fork K] [--temperature T] [--version V] [--seed S] [--json] [--gateway PORT]</c>:
/// steps through a stored episode turn by turn and forks it. Against a cluster (--gateway, REMA_GATEWAY or Azure settings)
/// the campaign grain forks with the policy replicas (a chosen version on a pinned replica); without one, the fork runs in
/// this process from the campaign's files under runs/ (campaign.json and its checkpoints).
/// </summary>
internal static class ReplayCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static Command Create()
    {
        var id = new Argument<string>("episode-id") { Description = "An episode id as `rema search` lists it" };
        var keys = new Option<string?>("--keys") { Description = "Scripted keys instead of the keyboard, comma-separated: n, p, v, f, q, left, right" };
        var forkAt = new Option<int?>("--fork") { Description = "Fork from this turn (1-based, as the replay numbers them) and print both continuations" };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature of the fork (default: the campaign's)" };
        var version = new Option<long?>("--version") { Description = "Fork with this checkpoint version (default: the policy's current one)" };
        var seed = new Option<ulong?>("--seed") { Description = "Sampling seed of the fork (the same seed gives the same fork)" };
        var gateway = ClusterOptions.Gateway();
        var json = ClusterOptions.Json();
        var command = new Command("replay", "Step through a stored episode turn by turn, and fork it from any turn")
        {
            id, keys, forkAt, temperature, version, seed, gateway, json,
        };
        command.SetAction(async (parse, cancel) =>
        {
            string episodeId = parse.GetValue(id)!;
            try
            {
                string campaign = EpisodeIds.Parse(episodeId).Campaign;
                ITrajectoryStore store = ExportCommand.Store(new ConfigurationBuilder().AddEnvironmentVariables().Build());
                TrajectoryDocument? document = await store.FindAsync(episodeId, cancel);
                if (document is null)
                {
                    Console.Error.WriteLine($"error: episode '{episodeId}' is not stored ({store.Describe}); `rema search {campaign}` lists the stored ones.");
                    return 1;
                }
                ForkRequest Request(int turn) => new(episodeId, turn, parse.GetValue(temperature), parse.GetValue(version), parse.GetValue(seed));
                async Task<int> Run(Func<string, int[], Task<string[]>> decode, Func<ForkRequest, Task<ForkResult>> fork)
                {
                    ReplayEpisode episode = await ReplayEpisode.FromAsync(document, decode);
                    return await ShowAsync(episode, parse.GetValue(keys), parse.GetValue(forkAt), parse.GetValue(json), turn => fork(Request(turn)));
                }
                if (ClusterOptions.Resolve(parse, gateway) is ClusterTarget target)
                {
                    return await ClusterOptions.WithClientAsync(target, async grains =>
                    {
                        ICampaignGrain grain = grains.GetGrain<ICampaignGrain>(campaign);
                        if (await grain.Config() is null)
                        {
                            Console.Error.WriteLine($"error: {TrainCommand.NoCampaign(campaign)}");
                            return 1;
                        }
                        return await Run(grain.DecodeTokens, grain.Fork);
                    });
                }
                var local = new LocalForker(campaign);
                using (local)
                {
                    return await Run(local.DecodeAsync, r => local.ForkAsync(document, r));
                }
            }
            catch (Exception e) when (e is ArgumentException or KeyNotFoundException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    public static async Task<int> ShowAsync(ReplayEpisode episode, string? keys, int? forkAt, bool json, Func<int, Task<ForkResult>> fork)
    {
        if (forkAt is int k && (k < 1 || k > episode.Turns.Count))
        {
            throw new ArgumentException($"--fork {k} is outside the episode (turns 1..{episode.Turns.Count}).");
        }
        if (json)
        {
            ForkResult? forked = forkAt is int at ? await fork(at - 1) : null;
            Console.WriteLine(JsonSerializer.Serialize(new { episode, fork = forked }, Indented));
            return 0;
        }
        // A console over the current output (not the process-wide default, which keeps the writer it first saw).
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var session = new ReplaySession(episode, fork, console);
        if (forkAt is int turn)
        {
            while (session.Current < turn - 1)
            {
                await session.HandleAsync("n");
            }
            await session.HandleAsync("f");
            session.Render();
            return 0;
        }
        if (keys is not null)
        {
            var script = keys.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            session.Render();
            foreach (string key in script)
            {
                if (!await session.HandleAsync(key.ToLowerInvariant()))
                {
                    break;
                }
                session.Render();
            }
            return 0;
        }
        if (Console.IsInputRedirected)
        {
            session.Render();   // nothing to read keys from: show the first turn
            return 0;
        }
        session.Render();
        while (true)
        {
            ConsoleKeyInfo info = Console.ReadKey(intercept: true);
            string key = info.Key switch
            {
                ConsoleKey.RightArrow => "right",
                ConsoleKey.LeftArrow => "left",
                _ => char.ToLowerInvariant(info.KeyChar).ToString(),
            };
            if (key is not ("n" or "p" or "v" or "f" or "q" or "left" or "right"))
            {
                continue;
            }
            if (!await session.HandleAsync(key))
            {
                return 0;
            }
            console.Clear();
            session.Render();
        }
    }

    /// <summary>Forks in this process from a campaign's files under runs/: its configuration and its checkpoints (latest or a chosen version).</summary>
    private sealed class LocalForker(string campaign) : IDisposable
    {
        private readonly CampaignPlan _plan = new(CampaignFile.Load(Path.Combine("runs", campaign, "campaign.json")));
        private readonly Dictionary<string, (CausalLM Model, ITokenizer Tokenizer, GenerationEngine Engine)> _loaded = [];
        private readonly Dictionary<string, ITokenizer> _tokenizers = [];

        private string Folder(string policy, long? version)
        {
            string root = _plan.CheckpointRoot(policy);
            string? folder = version is long v ? Path.Combine(root, TrainingCheckpoint.FolderName(v)) : TrainingCheckpoint.Latest(root);
            if (folder is null || !Directory.Exists(folder))
            {
                string kept = Directory.Exists(root) ? string.Join(", ", Directory.GetDirectories(root).Select(Path.GetFileName).Order()) : "none";
                throw new DirectoryNotFoundException($"campaign {campaign}: no checkpoint {(version is long x ? $"of version {x} " : "")}for policy {policy} under {root} (kept: {kept}).");
            }
            return folder;
        }

        private (CausalLM Model, ITokenizer Tokenizer, GenerationEngine Engine) Load(string policy, long? version)
        {
            string folder = Folder(policy, version);
            if (!_loaded.TryGetValue(folder, out var entry))
            {
                (CausalLM model, ITokenizer tokenizer) = PolicyModelLoader.Load(new PolicySource { ModelPath = folder, Device = "cpu" });
                entry = (model, tokenizer, new GenerationEngine(model, tokenizer, new EngineOptions { MaxBatch = 8 }));
                _loaded[folder] = entry;
            }
            return entry;
        }

        public Task<string[]> DecodeAsync(string role, int[] ids)
        {
            string policy = _plan.PolicyOfRole.TryGetValue(role, out string? p) ? p : throw new ArgumentException($"campaign {campaign} has no role '{role}'.");
            if (!_tokenizers.TryGetValue(policy, out ITokenizer? tokenizer))
            {
                _tokenizers[policy] = tokenizer = TokenizerLoader.Load(Folder(policy, null));
            }
            return Task.FromResult(ids.Select(id => tokenizer.Decode([id])).ToArray());
        }

        public async Task<ForkResult> ForkAsync(TrajectoryDocument original, ForkRequest request)
        {
            (EpisodeRequest episode, RecordedTurn[] prefix) = _plan.Fork(original, request);
            var byRole = _plan.PolicyOfRole.ToDictionary(kv => kv.Key, kv =>
            {
                var (_, tokenizer, engine) = Load(kv.Value, request.Version);
                return (engine, new ChatTemplate(tokenizer));
            });
            ITask task = TaskCatalog.Default().Create(episode.TaskName, episode.TaskOptions);
            var agents = new ForkingAgentFactory(new LocalRoleAgentFactory(new EngineRoleGenerator(byRole)), prefix);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            ProblemRecord p = episode.Problem;
            EpisodeResult result = await new EpisodeRunner(task, EpisodeGrain.Settings(episode.Settings), agents)
                .RunAsync(new Problem(p.Id, p.Question, p.Answer, p.Split) { Metadata = p.Metadata }, episode.EpisodeId, episode.GroupId);
            return CampaignPlan.ForkResult(request, episode, EpisodeGrain.Outcome(result, clock.Elapsed.TotalSeconds));
        }

        public void Dispose()
        {
            foreach (var (model, _, engine) in _loaded.Values)
            {
                engine.Dispose();
                model.Dispose();
            }
        }
    }
}
