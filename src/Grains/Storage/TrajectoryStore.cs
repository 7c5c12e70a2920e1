using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReMA.Abstractions.Episodes;

namespace ReMA.Grains.Storage;

/// <summary>
/// One episode as stored for analysis and replay (format 1, documented in docs/trajectories.md): what was asked, what
/// each role said (transcript), the training rows exactly as sampled (token ids, loss mask, turn index, old log-probs,
/// per-turn rewards, policy version) and the outcome.
/// </summary>
public sealed record TrajectoryDocument(
    int Format,
    string Campaign,
    long Step,
    bool Evaluation,
    string EpisodeId,
    string GroupId,
    string ProblemId,
    string Question,
    string GoldAnswer,
    string? Extracted,
    bool Correct,
    double Reward,
    Dictionary<string, double> Rewards,
    string FinishReason,
    TranscriptRecord[] Turns,
    TrajectoryRecord[] Rows,
    double Seconds)
{
    public const int CurrentFormat = 1;

    public static TrajectoryDocument Of(string campaign, long step, bool evaluation, ProblemRecord problem, EpisodeOutcome o, double reward) => new(
        CurrentFormat, campaign, step, evaluation, o.EpisodeId, o.GroupId, o.ProblemId, problem.Question, problem.Answer, o.Extracted, o.Correct,
        reward, o.Rewards, o.FinishReason, o.Transcript, o.Rows, o.Seconds);

    /// <summary>The episode as its campaign produced it (what the step trained on).</summary>
    public EpisodeOutcome Outcome() => new(EpisodeId, GroupId, ProblemId, FinishReason, Correct, Extracted, Rewards, Turns, Rows, Seconds);

    /// <summary>The episode as <c>rema episodes</c> lists it.</summary>
    public ReMA.Abstractions.Campaigns.EpisodeSummary Summary() => new(EpisodeId, Step, ProblemId, Question, Correct, FinishReason, Reward, Turns);
}

/// <summary>Where episodes are kept: a local folder (embedded) or Azure Blob storage (cluster).</summary>
public interface ITrajectoryStore
{
    /// <summary>Stores one episode; writing the same episode again replaces it (a repeated step). Atomic per episode.</summary>
    Task WriteAsync(TrajectoryDocument episode, CancellationToken cancellation = default);

    /// <summary>The campaign's episodes ordered by step, then episode id; <paramref name="step"/> limits them to one step.</summary>
    IAsyncEnumerable<TrajectoryDocument> ReadAsync(string campaign, long? step = null, CancellationToken cancellation = default);

    /// <summary>The RL steps (0-based) that have stored training episodes, ascending; from the names alone, no episode is read.</summary>
    Task<long[]> StepsAsync(string campaign, CancellationToken cancellation = default);

    /// <summary>The names of the campaign's stored episodes (as <see cref="ReadAsync"/> orders them), without reading any.</summary>
    Task<IReadOnlyList<StoredEpisodeName>> NamesAsync(string campaign, long? step = null, CancellationToken cancellation = default);

    /// <summary>One episode by its name from <see cref="NamesAsync"/>.</summary>
    Task<TrajectoryDocument> ReadOneAsync(string campaign, StoredEpisodeName name, CancellationToken cancellation = default);

    string Describe { get; }
}

/// <summary>
/// A stored episode's name under its campaign (step-00000012/&lt;id&gt;.json or eval-...): its step, whether it is an
/// evaluation episode, and its id as the name spells it (ids keep letters, digits, '-', '_' and '.', which ReMA's
/// own ids are made of).
/// </summary>
public sealed record StoredEpisodeName(string Relative)
{
    public bool Evaluation => Relative.StartsWith("eval-", StringComparison.Ordinal);

    public long Step => long.Parse(Relative.AsSpan(5, 8), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);

    public string EpisodeId => Path.GetFileNameWithoutExtension(Relative[(Relative.IndexOf('/') + 1)..]);

    /// <summary>Whether a relative name is an episode's (a step or eval folder, a .json file) and belongs to <paramref name="step"/> when given.</summary>
    public static bool Accepts(string relative, long? step) =>
        relative.EndsWith(".json", StringComparison.Ordinal) && relative.Length > 14 && relative[13] == '/'
        && (relative.StartsWith("step-", StringComparison.Ordinal) || relative.StartsWith("eval-", StringComparison.Ordinal))
        && (step is null || relative.AsSpan(5, 8).SequenceEqual($"{step:D8}"));
}

public static class TrajectoryJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        // Old log-probs are NaN where the learner computes them (a turn-end token appended after a stop string).
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static byte[] Serialize(TrajectoryDocument episode) => JsonSerializer.SerializeToUtf8Bytes(episode, Options);

    public static TrajectoryDocument Deserialize(ReadOnlySpan<byte> json, string where)
    {
        try
        {
            TrajectoryDocument document = JsonSerializer.Deserialize<TrajectoryDocument>(json, Options) ?? throw new JsonException("empty document");
            return document.Format == TrajectoryDocument.CurrentFormat ? document
                : throw new InvalidDataException($"{where}: trajectory format {document.Format} is not known (expected {TrajectoryDocument.CurrentFormat}).");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not a trajectory document ({e.Message}).", e);
        }
    }

    /// <summary>The step of a training step's folder name (step-00000012), or null for any other name.</summary>
    public static long? StepOfFolder(string name) =>
        name.StartsWith("step-", StringComparison.Ordinal) && long.TryParse(name.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long step)
            ? step : null;

    /// <summary>The name of an episode under its campaign: step-00000012/&lt;episode id&gt;.json (eval-... for evaluations).</summary>
    public static string RelativeName(TrajectoryDocument e) =>
        $"{(e.Evaluation ? "eval" : "step")}-{e.Step:D8}/{Sanitize(e.EpisodeId)}.json";

    private static string Sanitize(string id) => string.Concat(id.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}

/// <summary>Episodes as files under &lt;root&gt;/&lt;campaign&gt;/trajectories/ (temporary file renamed into place).</summary>
public sealed class LocalTrajectoryStore(string root) : ITrajectoryStore
{
    public string Describe => $"folder {Path.GetFullPath(root)}";

    private string Folder(string campaign) => Path.Combine(root, campaign, "trajectories");

    public async Task WriteAsync(TrajectoryDocument episode, CancellationToken cancellation = default)
    {
        string path = Path.Combine(Folder(episode.Campaign), TrajectoryJson.RelativeName(episode));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string partial = path + ".partial-" + Guid.NewGuid().ToString("N");
        await File.WriteAllBytesAsync(partial, TrajectoryJson.Serialize(episode), cancellation);
        File.Move(partial, path, overwrite: true);
    }

    public async IAsyncEnumerable<TrajectoryDocument> ReadAsync(string campaign, long? step = null, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        foreach (StoredEpisodeName name in await NamesAsync(campaign, step, cancellation))
        {
            yield return await ReadOneAsync(campaign, name, cancellation);
        }
    }

    public Task<IReadOnlyList<StoredEpisodeName>> NamesAsync(string campaign, long? step = null, CancellationToken cancellation = default)
    {
        string folder = Folder(campaign);
        IReadOnlyList<StoredEpisodeName> names = !Directory.Exists(folder) ? [] : [.. Directory.GetFiles(folder, "*.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .Where(r => StoredEpisodeName.Accepts(r, step))
            .Order(StringComparer.Ordinal)
            .Select(r => new StoredEpisodeName(r))];
        return Task.FromResult(names);
    }

    public async Task<TrajectoryDocument> ReadOneAsync(string campaign, StoredEpisodeName name, CancellationToken cancellation = default)
    {
        string file = Path.Combine(Folder(campaign), name.Relative);
        return TrajectoryJson.Deserialize(await File.ReadAllBytesAsync(file, cancellation), file);
    }

    public Task<long[]> StepsAsync(string campaign, CancellationToken cancellation = default)
    {
        string folder = Folder(campaign);
        long[] steps = !Directory.Exists(folder) ? [] : [.. Directory.GetDirectories(folder, "step-*")
            .Where(d => Directory.EnumerateFiles(d, "*.json").Any())
            .Select(d => TrajectoryJson.StepOfFolder(Path.GetFileName(d))).OfType<long>().Order()];
        return Task.FromResult(steps);
    }
}
