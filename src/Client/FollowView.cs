using System.Globalization;
using ReMA.Abstractions.Campaigns;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ReMA.Client;

/// <summary>Where <see cref="TrainCommand.FollowAsync"/> reports a campaign's progress.</summary>
public interface IFollowView
{
    /// <summary>A line worth keeping: the header, SFT result, a step, an evaluation, the end.</summary>
    void Line(string text);

    /// <summary>The latest state (called every poll); <paramref name="eta"/> is null until a step has finished.</summary>
    void Update(CampaignStatus status, TimeSpan? eta);
}

/// <summary>One plain line per event: for pipes, log files, tests and scripts.</summary>
public sealed class PlainFollowView(TextWriter output) : IFollowView
{
    public void Line(string text) => output.WriteLine(text);

    public void Update(CampaignStatus status, TimeSpan? eta)
    {
    }
}

/// <summary>
/// A Spectre.Console live panel for an interactive terminal: a progress bar of RL steps with the ETA, the latest
/// step's reward, accuracy, finish reasons, turns, tokens per turn, tokens/s and update metrics, the latest greedy
/// evaluation per set, and the most recent lines. Every line also goes to <paramref name="log"/> when one is given,
/// so nothing shown only in the live panel is lost when it redraws.
/// </summary>
public sealed class LiveFollowView(string campaign, int keptLines = 8, TextWriter? log = null) : IFollowView
{
    private readonly Queue<string> _lines = new();
    private CampaignStatus? _status;
    private TimeSpan? _eta;
    private readonly object _gate = new();

    /// <summary>Set by <see cref="RunAsync"/> while the live display is running.</summary>
    private LiveDisplayContext? _context;

    public void Line(string text)
    {
        lock (_gate)
        {
            log?.WriteLine(text);
            log?.Flush();
            _lines.Enqueue(text);
            while (_lines.Count > keptLines)
            {
                _lines.Dequeue();
            }
        }
        Refresh();
    }

    public void Update(CampaignStatus status, TimeSpan? eta)
    {
        lock (_gate)
        {
            _status = status;
            _eta = eta;
        }
        Refresh();
    }

    /// <summary>Runs <paramref name="follow"/> inside a live display on <paramref name="console"/>; the last frame stays.</summary>
    public async Task<T> RunAsync<T>(IAnsiConsole console, Func<Task<T>> follow)
    {
        T result = default!;
        await console.Live(Render()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).StartAsync(async ctx =>
        {
            _context = ctx;
            try
            {
                result = await follow();
            }
            finally
            {
                ctx.UpdateTarget(Render());
                ctx.Refresh();
                _context = null;
            }
        });
        return result;
    }

    private void Refresh()
    {
        if (_context is LiveDisplayContext ctx)
        {
            ctx.UpdateTarget(Render());
            ctx.Refresh();
        }
    }

    /// <summary>The panel as it stands (public for tests, which render it on a test console).</summary>
    public IRenderable Render()
    {
        lock (_gate)
        {
            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            CampaignStatus? s = _status;
            string state = s is null ? "starting" : $"{s.Status} / {s.Stage}";
            grid.AddRow(new Markup("[bold]campaign[/]"), new Text($"{campaign}: {state}" + (s is { Silo.Length: > 0 } ? $" on {s.Silo}" : "")));
            if (s is not null && s.Steps > 0)
            {
                grid.AddRow(new Markup("[bold]steps[/]"), new Text(Bar(s.NextStep, s.Steps) + Invariant($" {s.NextStep}/{s.Steps}")
                    + (_eta is TimeSpan eta ? $"  eta {TimeSpan.FromSeconds(Math.Round(eta.TotalSeconds)):c}" : "")));
            }
            if (s?.Sft is { } sft)
            {
                grid.AddRow(new Markup("[bold]sft[/]"), new Text(Invariant($"{sft.Rows} rows, {sft.OptimizerSteps} steps, loss {sft.LossBefore:F3} -> {sft.LossAfter:F3}")));
            }
            if (s?.LastStep is StepRecord last)
            {
                string finishes = string.Join(" ", last.FinishReasons.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));
                string tokens = string.Join(" ", last.TokensPerTurn.OrderBy(kv => kv.Key).Select(kv => Invariant($"{kv.Key} {kv.Value:F1}")));
                grid.AddRow(new Markup("[bold]reward[/]"), new Text(Invariant($"{last.RewardMean:F3} (std {last.RewardStd:F3}), accuracy {last.Accuracy:P1}{(last.StepAccuracy is double sa ? Invariant($", steps right {sa:P1}") : "")} at step {last.Step}")));
                grid.AddRow(new Markup("[bold]episodes[/]"), new Text(Invariant($"{last.Episodes} ({last.FailedEpisodes} failed), turns {last.TurnsPerEpisode:F1}, finish {finishes}")));
                grid.AddRow(new Markup("[bold]turns[/]"), new Text(Invariant($"tokens per turn {tokens}; empty {last.EmptyTurnRate:P1}, repeated {last.RepetitionRate:P1}")));
                grid.AddRow(new Markup("[bold]speed[/]"), new Text(Invariant($"{last.RolloutTokensPerSecond:F0} tok/s, rollout {last.RolloutSeconds:F1} s, update {last.UpdateSeconds:F1} s")));
                if (last.Warnings is { Length: > 0 } collapse)
                {
                    grid.AddRow(new Markup("[bold yellow]collapse?[/]"), new Text(string.Join("; ", collapse)));
                }
                foreach ((string policy, var m) in last.Learners.OrderBy(kv => kv.Key))
                {
                    grid.AddRow(new Markup("[bold]learner[/]"), new Text(Invariant(
                        $"{policy}: loss {m.Loss:F4}, clip {m.ClipFractionTurns:P1} of turns, kl {m.ApproxKl:E1}, entropy {m.Entropy:F3}, grad {m.GradNorm:F3}, lr {m.LearningRate:E1}")));
                }
            }
            if (s is not null)
            {
                foreach (EvalRecord e in s.Evaluations.GroupBy(e => e.Set).Select(g => g.Last()))
                {
                    EvalRecord first = s.Evaluations.First(f => f.Set == e.Set);
                    grid.AddRow(new Markup("[bold]eval[/]"), new Text(Invariant(
                        $"{e.Set}: greedy pass@1 {e.Accuracy:P1} {TrainCommand.AfterSteps(e.AfterStep)} ({first.Accuracy:P1} {TrainCommand.AfterSteps(first.AfterStep)}; {e.Problems} problems)")));
                }
                if (s.Warning is string warning)
                {
                    grid.AddRow(new Markup("[bold yellow]warning[/]"), new Text(warning));
                }
                if (s.Error is string error)
                {
                    grid.AddRow(new Markup("[bold red]error[/]"), new Text(error));
                }
            }
            var rows = new List<IRenderable> { new Panel(grid).Header($" rema train {campaign} ").Expand() };
            rows.AddRange(_lines.Select(l => (IRenderable)new Text(l)));
            return new Rows(rows);
        }
    }

    private static string Bar(long done, long total, int width = 30)
    {
        int filled = total <= 0 ? 0 : (int)Math.Round(width * Math.Clamp((double)done / total, 0, 1));
        return "[" + new string('#', filled) + new string('.', width - filled) + "]";
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Picks the view for a command that follows a campaign on this process's console.</summary>
internal static class Follow
{
    public static System.CommandLine.Option<bool> PlainOption() =>
        new("--plain") { Description = "Print one line per step instead of the live panel (implied when output is redirected)" };

    /// <summary>
    /// The live panel when the console is an interactive terminal and <paramref name="plain"/> is false (lines kept in
    /// runs/&lt;name&gt;/follow.log), otherwise plain lines on standard output.
    /// </summary>
    public static async Task<int> InTerminal(string campaign, bool plain, Func<IFollowView, Task<int>> follow)
    {
        if (plain || Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return await follow(new PlainFollowView(Console.Out));
        }
        string folder = Path.Combine("runs", campaign);
        Directory.CreateDirectory(folder);
        await using var log = new StreamWriter(Path.Combine(folder, "follow.log"), append: true);
        var view = new LiveFollowView(campaign, log: log);
        return await view.RunAsync(AnsiConsole.Console, () => follow(view));
    }
}
