using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Parquet.Serialization;
using ReMA.Grains.Storage;
using ReMA.Silo;
using ReMA.Silo.Storage;

namespace ReMA.Client;

/// <summary>One training row per Parquet row (token-level arrays as lists), with its episode's outcome.</summary>
public sealed class TrajectoryRowRecord
{
    public string Campaign { get; set; } = "";
    public long Step { get; set; }
    public bool Evaluation { get; set; }
    public string EpisodeId { get; set; } = "";
    public string GroupId { get; set; } = "";
    public string ProblemId { get; set; } = "";
    public string Question { get; set; } = "";
    public string GoldAnswer { get; set; } = "";
    public bool Correct { get; set; }
    public double Reward { get; set; }
    public string FinishReason { get; set; } = "";
    public string Role { get; set; } = "";
    public long PolicyVersion { get; set; }
    public List<int> TokenIds { get; set; } = [];
    public List<bool> LossMask { get; set; } = [];
    public List<int> TurnIndex { get; set; } = [];
    public List<float> OldLogProbs { get; set; } = [];
    public List<double> TurnRewards { get; set; } = [];
    /// <summary>Step score per turn (NaN where a turn was not a step); empty when no turn of the role was checked in the episode.</summary>
    public List<double> StepScores { get; set; } = [];
}

/// <summary>
/// <c>rema export NAME [--format jsonl|parquet] [--out FILE] [--step N]</c>: the campaign's stored episodes (local
/// runs/NAME/trajectories, or Azure Blob storage when REMA__Azure__ConnectionString is set) as JSONL (one trajectory
/// document per line) or Parquet (one training row per row).
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "Campaign name" };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "jsonl", Description = "jsonl (one episode per line) or parquet (one training row per row)" };
        var output = new Option<string?>("--out") { Description = "Output file (default runs/NAME/trajectories.jsonl or .parquet)" };
        var step = new Option<long?>("--step") { Description = "Only this step, 0-based as in episode ids and `rema episodes --step` (and the evaluation run before it, after that many steps)" };
        var command = new Command("export", "Export a campaign's stored episodes to JSONL or Parquet") { name, format, output, step };
        command.SetAction(async (parse, cancel) =>
        {
            string campaign = parse.GetValue(name)!;
            string kind = parse.GetValue(format)!.ToLowerInvariant();
            if (kind is not ("jsonl" or "parquet"))
            {
                Console.Error.WriteLine($"error: --format must be jsonl or parquet (got '{kind}').");
                return 2;
            }
            ITrajectoryStore store;
            try
            {
                store = Store(new ConfigurationBuilder().AddEnvironmentVariables().Build());
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            string path = parse.GetValue(output) ?? Path.Combine("runs", campaign, $"trajectories.{kind}");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            int episodes;
            try
            {
                episodes = kind == "jsonl"
                    ? await WriteJsonlAsync(store.ReadAsync(campaign, parse.GetValue(step), cancel), path, cancel)
                    : await WriteParquetAsync(store.ReadAsync(campaign, parse.GetValue(step), cancel), path, cancel);
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
            if (episodes == 0)
            {
                Console.Error.WriteLine($"error: no stored episodes of campaign '{campaign}' in {store.Describe}.");
                File.Delete(path);
                return 1;
            }
            Console.WriteLine($"{episodes} episodes of {campaign} from {store.Describe} -> {path}");
            return 0;
        });
        return command;
    }

    /// <summary>The store the silos write to under the same settings (Azure when configured, else runs/).</summary>
    public static ITrajectoryStore Store(IConfiguration settings) => AzureStorageSettings.From(settings) is AzureStorageSettings azure
        ? new BlobTrajectoryStore(azure.Blobs())
        : new LocalTrajectoryStore(ReMASiloExtensions.RunsFolder(settings));

    public static async Task<int> WriteJsonlAsync(IAsyncEnumerable<TrajectoryDocument> episodes, string path, CancellationToken cancel)
    {
        int count = 0;
        await using var writer = new StreamWriter(path);
        await foreach (TrajectoryDocument e in episodes.WithCancellation(cancel))
        {
            await writer.WriteLineAsync(JsonSerializer.Serialize(e, TrajectoryJson.Options));
            count++;
        }
        return count;
    }

    public static async Task<int> WriteParquetAsync(IAsyncEnumerable<TrajectoryDocument> episodes, string path, CancellationToken cancel)
    {
        var rows = new List<TrajectoryRowRecord>();
        int count = 0;
        await foreach (TrajectoryDocument e in episodes.WithCancellation(cancel))
        {
            count++;
            rows.AddRange(e.Rows.Select(r => new TrajectoryRowRecord
            {
                Campaign = e.Campaign, Step = e.Step, Evaluation = e.Evaluation, EpisodeId = e.EpisodeId, GroupId = e.GroupId, ProblemId = e.ProblemId,
                Question = e.Question, GoldAnswer = e.GoldAnswer, Correct = e.Correct, Reward = e.Reward, FinishReason = e.FinishReason,
                Role = r.Role, PolicyVersion = r.PolicyVersion, TokenIds = [.. r.TokenIds], LossMask = [.. r.LossMask], TurnIndex = [.. r.TurnIndex],
                OldLogProbs = [.. r.OldLogProbs], TurnRewards = [.. r.TurnRewards], StepScores = [.. r.StepScores ?? []],
            }));
        }
        await using var stream = File.Create(path);
        await ParquetSerializer.SerializeAsync(rows, stream, cancellationToken: cancel);
        return count;
    }
}
