using ReMA.Abstractions.Campaigns;
using ReMA.Tasks.Core;

namespace ReMA.Grains.Campaigns;

/// <summary>
/// Checks of a campaign against the task it names, which its fields alone cannot make: the task is known, its
/// evaluation sets are splits of the task, and so is its training split when it trains. Errors name the campaign-file
/// field (<c>eval.sets[1]</c>), like <see cref="CampaignConfigValidation"/>'s. The client runs them before it submits
/// (in the same report as the file's errors) and the campaign grain again at <c>Start</c>, so an API submission is
/// refused too.
/// </summary>
public static class CampaignChecks
{
    /// <summary>The configuration's field errors, then its task errors.</summary>
    public static IReadOnlyList<string> Errors(CampaignConfig c) => [.. CampaignConfigValidation.Errors(c), .. TaskErrors(c)];

    /// <summary>Every field error and task error in one <see cref="ArgumentException"/> naming <paramref name="source"/>.</summary>
    public static void ThrowIfInvalid(CampaignConfig c, string source = "campaign")
    {
        var errors = Errors(c);
        if (errors.Count > 0)
        {
            throw new ArgumentException(CampaignConfigValidation.Report(source, errors));
        }
    }

    /// <summary>
    /// Task errors from the task's name and options alone (<see cref="TaskCatalog.Splits"/>: no dataset is read, so the
    /// check is cheap and holds where the dataset files live on the silos only). Not checked here: that dataset files
    /// exist and hold problems, and the task's options; building the task does that, at <c>Start</c>.
    /// </summary>
    public static IEnumerable<string> TaskErrors(CampaignConfig c)
    {
        if (string.IsNullOrWhiteSpace(c.Task.Name))
        {
            return [];   // "task.name: is required" already
        }
        IReadOnlyList<string>? splits = TaskCatalog.Splits(c.Task.Name, c.Task.Options);
        return splits is null
            ? [$"task.name: '{c.Task.Name}' is not a known task; tasks: {string.Join(", ", TaskCatalog.Default().Names.Order(StringComparer.Ordinal))}"]
            : SplitErrors(c, splits);
    }

    /// <summary>The evaluation sets and (when the campaign trains: SFT or RL steps) the training split that are not among <paramref name="splits"/>.</summary>
    public static IEnumerable<string> SplitErrors(CampaignConfig c, IReadOnlyCollection<string> splits)
    {
        string valid = splits.Count == 0 ? "none" : string.Join(", ", splits);
        for (int i = 0; i < c.Eval.Sets.Count; i++)
        {
            if (!splits.Contains(c.Eval.Sets[i]))
            {
                yield return $"eval.sets[{i}]: '{c.Eval.Sets[i]}' is not a split of task '{c.Task.Name}' (its splits: {valid})";
            }
        }
        if ((c.Sft.Enabled || c.Steps > 0) && !splits.Contains(c.Task.TrainSplit))
        {
            yield return $"task.train_split: '{c.Task.TrainSplit}' is not a split of task '{c.Task.Name}' (its splits: {valid})";
        }
    }
}
