namespace ReMA.Grains.Storage;

/// <summary>
/// Where learners put checkpoints for replicas and for their own resumption. A learner saves a checkpoint folder
/// locally (TrainingCheckpoint.Save writes it under a temporary name and renames it when complete), then publishes it;
/// the location it gets back travels in messages and state, and any silo turns a location into a local folder with
/// <see cref="FetchAsync"/>.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Makes a complete local checkpoint folder available to every silo; returns its location.</summary>
    Task<string> PublishAsync(string localFolder, string campaign, string policy, long version, CancellationToken cancellation = default);

    /// <summary>A local folder with the checkpoint at <paramref name="location"/>, downloaded first when it is remote.</summary>
    Task<string> FetchAsync(string location, CancellationToken cancellation = default);
}

/// <summary>Checkpoints stay where the learner saved them: a folder every silo can read (one machine, or a shared volume).</summary>
public sealed class LocalCheckpointStore : ICheckpointStore
{
    public Task<string> PublishAsync(string localFolder, string campaign, string policy, long version, CancellationToken cancellation = default) =>
        Task.FromResult(localFolder);

    public Task<string> FetchAsync(string location, CancellationToken cancellation = default) =>
        Directory.Exists(location) ? Task.FromResult(location)
            : throw new DirectoryNotFoundException($"checkpoint folder '{location}' does not exist on this silo (without Azure settings every silo must see the learner's runs/ folder: one machine or a shared volume).");
}
