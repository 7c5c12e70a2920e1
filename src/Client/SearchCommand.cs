using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using ReMA.Grains.Storage;

namespace ReMA.Client;

/// <summary>What <c>rema search</c> filters on, how it sorts, and which page it shows.</summary>
public sealed record EpisodeQuery
{
    public long? Step { get; init; }
    public bool? Evaluation { get; init; }
    public bool? Correct { get; init; }
    public double? MinReward { get; init; }
    public double? MaxReward { get; init; }
    public string? FinishReason { get; init; }
    public int? MinTurns { get; init; }
    public int? MaxTurns { get; init; }
    public string? Contains { get; init; }
    public string Sort { get; init; } = "step";
    public bool Descending { get; init; }
    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = 20;

    public static readonly string[] SortKeys = ["step", "reward", "turns", "id"];

    /// <summary>Every bad option at once, each named.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (!SortKeys.Contains(Sort))
        {
            errors.Add($"--sort must be one of {string.Join(", ", SortKeys)} (got '{Sort}')");
        }
        if (Page < 1)
        {
            errors.Add($"--page must be 1 or more (got {Page})");
        }
        if (PageSize is < 1 or > 500)
        {
            errors.Add($"--page-size must be between 1 and 500 (got {PageSize})");
        }
        if (MinReward > MaxReward)
        {
            errors.Add($"--min-reward {MinReward} is above --max-reward {MaxReward}");
        }
        if (MinTurns > MaxTurns)
        {
            errors.Add($"--min-turns {MinTurns} is above --max-turns {MaxTurns}");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors) + ".");
        }
    }

    /// <summary>Rounds of an episode (a round is one meta turn and the reasoner's answer).</summary>
    public static int Turns(TrajectoryDocument e) => e.Turns.Length == 0 ? 0 : e.Turns.Max(t => t.Round) + 1;

    public bool Matches(TrajectoryDocument e) =>
        (Step is null || e.Step == Step)
        && (Evaluation is null || e.Evaluation == Evaluation)
        && (Correct is null || e.Correct == Correct)
        && (MinReward is null || e.Reward >= MinReward)
        && (MaxReward is null || e.Reward <= MaxReward)
        && (FinishReason is null || string.Equals(e.FinishReason, FinishReason, StringComparison.OrdinalIgnoreCase))
        && (MinTurns is null || Turns(e) >= MinTurns)
        && (MaxTurns is null || Turns(e) <= MaxTurns)
        && (Contains is null || e.Question.Contains(Contains, StringComparison.OrdinalIgnoreCase)
            || e.Turns.Any(t => t.Text.Contains(Contains, StringComparison.OrdinalIgnoreCase)));

    public async Task<EpisodePage> RunAsync(IAsyncEnumerable<TrajectoryDocument> episodes, CancellationToken cancel = default)
    {
        Validate();
        var matches = new List<TrajectoryDocument>();
        await foreach (TrajectoryDocument e in episodes.WithCancellation(cancel))
        {
            if (Matches(e))
            {
                matches.Add(e);
            }
        }
        IOrderedEnumerable<TrajectoryDocument> ordered = Sort switch
        {
            "reward" => Descending ? matches.OrderByDescending(e => e.Reward) : matches.OrderBy(e => e.Reward),
            "turns" => Descending ? matches.OrderByDescending(Turns) : matches.OrderBy(Turns),
            "id" => Descending ? matches.OrderByDescending(e => e.EpisodeId, StringComparer.Ordinal) : matches.OrderBy(e => e.EpisodeId, StringComparer.Ordinal),
            _ => Descending ? matches.OrderByDescending(e => e.Step) : matches.OrderBy(e => e.Step),
        };
        // Ties keep a stable, readable order: step, then id.
        var sorted = ordered.ThenBy(e => e.Step).ThenBy(e => e.EpisodeId, StringComparer.Ordinal).ToList();
        int pages = Math.Max(1, (sorted.Count + PageSize - 1) / PageSize);
        var page = sorted.Skip((Page - 1) * PageSize).Take(PageSize)
            .Select(e => new EpisodeHit(e.EpisodeId, e.Step, e.Evaluation, e.Correct, e.Reward, e.FinishReason, Turns(e), e.Question)).ToList();
        return new EpisodePage(sorted.Count, Page, pages, PageSize, page);
    }
}

public sealed record EpisodeHit(string EpisodeId, long Step, bool Evaluation, bool Correct, double Reward, string FinishReason, int Turns, string Question);

public sealed record EpisodePage(int Total, int Page, int Pages, int PageSize, IReadOnlyList<EpisodeHit> Episodes);

/// <summary>
/// <c>rema search NAME [filters] [--sort step|reward|turns|id] [--desc] [--page K] [--page-size N] [--json]</c>: the
/// campaign's stored episodes (every step, every silo: runs/NAME/trajectories, or Azure Blob storage when
/// REMA__Azure__ConnectionString is set), filtered, sorted and paged.
/// </summary>
internal static class SearchCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Campaign name" };
        var step = new Option<long?>("--step") { Description = "Only this stored step (0-based, as in docs/trajectories.md; evaluations carry the step they followed)" };
        var evaluation = new Option<bool?>("--eval") { Description = "true: evaluation episodes only; false: training episodes only" };
        var correct = new Option<bool?>("--correct") { Description = "true or false" };
        var minReward = new Option<double?>("--min-reward");
        var maxReward = new Option<double?>("--max-reward");
        var finish = new Option<string?>("--finish") { Description = "Finish reason (finished, max_turns, truncated, ...)" };
        var minTurns = new Option<int?>("--min-turns");
        var maxTurns = new Option<int?>("--max-turns");
        var contains = new Option<string?>("--contains") { Description = "Text in the question or in any turn (case-insensitive)" };
        var sort = new Option<string>("--sort") { DefaultValueFactory = _ => "step", Description = "step, reward, turns or id" };
        var desc = new Option<bool>("--desc") { Description = "Descending order" };
        var page = new Option<int>("--page") { DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { DefaultValueFactory = _ => 20, Description = "1-500" };
        var json = ClusterOptions.Json();
        var command = new Command("search", "Search a campaign's stored episodes: filters, sort, pages")
        {
            name, step, evaluation, correct, minReward, maxReward, finish, minTurns, maxTurns, contains, sort, desc, page, pageSize, json,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var query = new EpisodeQuery
            {
                Step = parse.GetValue(step), Evaluation = parse.GetValue(evaluation), Correct = parse.GetValue(correct),
                MinReward = parse.GetValue(minReward), MaxReward = parse.GetValue(maxReward), FinishReason = parse.GetValue(finish),
                MinTurns = parse.GetValue(minTurns), MaxTurns = parse.GetValue(maxTurns), Contains = parse.GetValue(contains),
                Sort = parse.GetValue(sort)!.ToLowerInvariant(), Descending = parse.GetValue(desc), Page = parse.GetValue(page), PageSize = parse.GetValue(pageSize),
            };
            string campaign = parse.GetValue(name)!;
            EpisodePage result;
            try
            {
                ITrajectoryStore store = ExportCommand.Store(new ConfigurationBuilder().AddEnvironmentVariables().Build());
                result = await query.RunAsync(store.ReadAsync(campaign, query.Step, cancel), cancel);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(result, Indented));
                return 0;
            }
            Console.WriteLine($"{result.Total} episodes of {campaign} match; page {result.Page} of {result.Pages}");
            foreach (EpisodeHit e in result.Episodes)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{e.EpisodeId,-40} {(e.Evaluation ? "eval" : "step"),-4} {e.Step,5} {(e.Correct ? "correct" : "wrong"),-8} reward {e.Reward,5:F2} {e.FinishReason,-12} {e.Turns,2} rounds  {e.Question}"));
            }
            return 0;
        });
        return command;
    }
}
