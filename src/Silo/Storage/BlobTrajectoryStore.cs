using System.Runtime.CompilerServices;
using Azure.Storage.Blobs;
using ReMA.Grains.Storage;

namespace ReMA.Silo.Storage;

/// <summary>
/// Episodes as blobs in the container <c>rema-trajectories</c>, named &lt;campaign&gt;/step-00000012/&lt;episode&gt;.json.
/// A blob becomes visible only when its upload completes, so a reader never sees half an episode.
/// </summary>
public sealed class BlobTrajectoryStore(BlobServiceClient blobs) : ITrajectoryStore
{
    public const string Container = "rema-trajectories";
    private readonly BlobContainerClient _container = blobs.GetBlobContainerClient(Container);
    private bool _created;

    public string Describe => $"Azure Blob container {Container} at {blobs.Uri.GetLeftPart(UriPartial.Path)}";

    public async Task WriteAsync(TrajectoryDocument episode, CancellationToken cancellation = default)
    {
        if (!_created)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellation);
            _created = true;
        }
        string name = $"{episode.Campaign}/{TrajectoryJson.RelativeName(episode)}";
        await _container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(TrajectoryJson.Serialize(episode)), overwrite: true, cancellation);
    }

    public async IAsyncEnumerable<TrajectoryDocument> ReadAsync(string campaign, long? step = null, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        foreach (StoredEpisodeName name in await NamesAsync(campaign, step, cancellation))
        {
            yield return await ReadOneAsync(campaign, name, cancellation);
        }
    }

    public async Task<IReadOnlyList<StoredEpisodeName>> NamesAsync(string campaign, long? step = null, CancellationToken cancellation = default)
    {
        if (!await _container.ExistsAsync(cancellation))
        {
            return [];
        }
        var names = new List<string>();
        // One step: list only its two folders' prefixes; otherwise the campaign's (names only, no content).
        string[] prefixes = step is long s ? [$"{campaign}/step-{s:D8}/", $"{campaign}/eval-{s:D8}/"] : [campaign + "/"];
        foreach (string prefix in prefixes)
        {
            await foreach (var item in _container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, cancellation))
            {
                string relative = item.Name[(campaign.Length + 1)..];
                if (StoredEpisodeName.Accepts(relative, step))
                {
                    names.Add(relative);
                }
            }
        }
        return [.. names.Order(StringComparer.Ordinal).Select(r => new StoredEpisodeName(r))];
    }

    public async Task<TrajectoryDocument> ReadOneAsync(string campaign, StoredEpisodeName name, CancellationToken cancellation = default)
    {
        string blob = $"{campaign}/{name.Relative}";
        var content = await _container.GetBlobClient(blob).DownloadContentAsync(cancellation);
        return TrajectoryJson.Deserialize(content.Value.Content.ToArray(), $"blob {Container}/{blob}");
    }

    public async Task<long[]> StepsAsync(string campaign, CancellationToken cancellation = default)
    {
        if (!await _container.ExistsAsync(cancellation))
        {
            return [];
        }
        // One entry per step folder (virtual directories under the delimiter), not one per episode.
        var steps = new List<long>();
        await foreach (var item in _container.GetBlobsByHierarchyAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "/", campaign + "/step-", cancellation))
        {
            if (item.IsPrefix && TrajectoryJson.StepOfFolder(item.Prefix[(campaign.Length + 1)..].TrimEnd('/')) is long step)
            {
                steps.Add(step);
            }
        }
        return [.. steps.Order()];
    }
}
