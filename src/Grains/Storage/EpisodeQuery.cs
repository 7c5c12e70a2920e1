namespace ReMA.Grains.Storage;

/// <summary>What <c>rema search</c> and the web API's episode browser filter on, how they sort, and which page they show.</summary>
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

    /// <summary>Whether the query needs each episode's content to filter or sort (otherwise the names suffice).</summary>
    public bool ReadsContent => Correct is not null || MinReward is not null || MaxReward is not null || FinishReason is not null
        || MinTurns is not null || MaxTurns is not null || Contains is not null || Sort is not ("step" or "id");

    /// <summary>
    /// Runs the query on a campaign's stored episodes. Without content filters or sorts it pages in storage: the names
    /// are listed, sorted and paged, and only the page's episodes are read (an unfiltered listing of thousands of
    /// episodes reads twenty). Both ways give the same page.
    /// </summary>
    public async Task<EpisodePage> RunAsync(ITrajectoryStore store, string campaign, CancellationToken cancel = default)
    {
        if (ReadsContent)
        {
            return await RunAsync(store.ReadAsync(campaign, Step, cancel), cancel);
        }
        Validate();
        var names = (await store.NamesAsync(campaign, Step, cancel)).Where(n => Evaluation is null || n.Evaluation == Evaluation).ToList();
        IOrderedEnumerable<StoredEpisodeName> ordered = Sort == "id"
            ? Descending ? names.OrderByDescending(n => n.EpisodeId, NaturalOrder.Instance) : names.OrderBy(n => n.EpisodeId, NaturalOrder.Instance)
            : Descending ? names.OrderByDescending(n => n.Step) : names.OrderBy(n => n.Step);
        var sorted = ordered.ThenBy(n => n.Step).ThenBy(n => n.EpisodeId, NaturalOrder.Instance).ToList();
        int pages = Math.Max(1, (sorted.Count + PageSize - 1) / PageSize);
        var page = new List<EpisodeHit>();
        foreach (StoredEpisodeName name in sorted.Skip((Page - 1) * PageSize).Take(PageSize))
        {
            page.Add(Hit(await store.ReadOneAsync(campaign, name, cancel)));
        }
        return new EpisodePage(sorted.Count, Page, pages, PageSize, page);
    }

    private static EpisodeHit Hit(TrajectoryDocument e) => new(e.EpisodeId, e.Step, e.Evaluation, e.Correct, e.Reward, e.FinishReason, Turns(e), e.Question);

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
            "id" => Descending ? matches.OrderByDescending(e => e.EpisodeId, NaturalOrder.Instance) : matches.OrderBy(e => e.EpisodeId, NaturalOrder.Instance),
            _ => Descending ? matches.OrderByDescending(e => e.Step) : matches.OrderBy(e => e.Step),
        };
        // Ties keep a stable, readable order: step, then id.
        var sorted = ordered.ThenBy(e => e.Step).ThenBy(e => e.EpisodeId, NaturalOrder.Instance).ToList();
        int pages = Math.Max(1, (sorted.Count + PageSize - 1) / PageSize);
        var page = sorted.Skip((Page - 1) * PageSize).Take(PageSize)
            .Select(Hit).ToList();
        return new EpisodePage(sorted.Count, Page, pages, PageSize, page);
    }
}

public sealed record EpisodeHit(string EpisodeId, long Step, bool Evaluation, bool Correct, double Reward, string FinishReason, int Turns, string Question);

public sealed record EpisodePage(int Total, int Page, int Pages, int PageSize, IReadOnlyList<EpisodeHit> Episodes);


/// <summary>Orders strings with their runs of digits compared as numbers: test-2 before test-10, p9 before p10.</summary>
public sealed class NaturalOrder : IComparer<string>
{
    public static readonly NaturalOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? y is null ? 0 : -1 : 1;
        }
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                int si = i, sj = j;
                while (si < x.Length && x[si] == '0') { si++; }
                while (sj < y.Length && y[sj] == '0') { sj++; }
                int ei = si, ej = sj;
                while (ei < x.Length && char.IsAsciiDigit(x[ei])) { ei++; }
                while (ej < y.Length && char.IsAsciiDigit(y[ej])) { ej++; }
                int byLength = (ei - si).CompareTo(ej - sj);
                if (byLength != 0)
                {
                    return byLength;
                }
                int byDigits = string.CompareOrdinal(x, si, y, sj, ei - si);
                if (byDigits != 0)
                {
                    return byDigits;
                }
                int byZeros = (si - i).CompareTo(sj - j);   // "007" after "7": equal values, a stable order
                if (byZeros != 0)
                {
                    return byZeros;
                }
                i = ei;
                j = ej;
                continue;
            }
            if (x[i] != y[j])
            {
                return x[i].CompareTo(y[j]);
            }
            i++;
            j++;
        }
        return (x.Length - i).CompareTo(y.Length - j);
    }
}
