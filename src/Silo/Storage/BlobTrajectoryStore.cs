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
        if (!await _container.ExistsAsync(cancellation))
        {
            yield break;
        }
        var names = new List<string>();
        await foreach (var item in _container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, campaign + "/", cancellation))
        {
            string relative = item.Name[(campaign.Length + 1)..];
            if (step is null || relative.StartsWith($"step-{step:D8}/", StringComparison.Ordinal) || relative.StartsWith($"eval-{step:D8}/", StringComparison.Ordinal))
            {
                names.Add(item.Name);
            }
        }
        foreach (string name in names.Order(StringComparer.Ordinal))
        {
            var content = await _container.GetBlobClient(name).DownloadContentAsync(cancellation);
            yield return TrajectoryJson.Deserialize(content.Value.Content.ToArray(), $"blob {Container}/{name}");
        }
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
