using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using ReMA.Grains.Storage;

namespace ReMA.Client;

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
        var step = new Option<long?>("--step") { Description = "Only this stored step, 0-based as in episode ids, `rema episodes --step` and docs/trajectories.md (an evaluation carries the number of steps before it)" };
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
                result = await query.RunAsync(store, campaign, cancel);
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
