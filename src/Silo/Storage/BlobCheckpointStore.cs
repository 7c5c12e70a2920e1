using Azure.Storage.Blobs;
using ReMA.Grains.Storage;

namespace ReMA.Silo.Storage;

/// <summary>
/// Checkpoints as blobs in the container <c>rema-checkpoints</c>: every file of the folder under
/// &lt;campaign&gt;/&lt;policy&gt;/step-00000012/, then a <c>_COMPLETE</c> marker written last. A location
/// ("blob:&lt;prefix&gt;") is fetched only when its marker exists, so a learner that died mid-upload never hands out
/// half a checkpoint; fetched folders are cached (downloaded under a temporary name, then renamed).
/// </summary>
public sealed class BlobCheckpointStore(BlobServiceClient blobs, string cacheFolder) : ICheckpointStore
{
    public const string Container = "rema-checkpoints";
    public const string Scheme = "blob:";
    public const string Marker = "_COMPLETE";
    private readonly BlobContainerClient _container = blobs.GetBlobContainerClient(Container);
    private static readonly SemaphoreSlim FetchGate = new(1, 1);

    public async Task<string> PublishAsync(string localFolder, string campaign, string policy, long version, CancellationToken cancellation = default)
    {
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellation);
        string prefix = $"{campaign}/{policy}/{Path.GetFileName(Path.TrimEndingDirectorySeparator(localFolder))}";
        foreach (string file in Directory.GetFiles(localFolder, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(localFolder, file).Replace('\\', '/');
            await using var stream = File.OpenRead(file);
            await _container.GetBlobClient($"{prefix}/{relative}").UploadAsync(stream, overwrite: true, cancellation);
        }
        await _container.GetBlobClient($"{prefix}/{Marker}").UploadAsync(BinaryData.FromString(version.ToString(System.Globalization.CultureInfo.InvariantCulture)), overwrite: true, cancellation);
        return Scheme + prefix;
    }

    public async Task<string> FetchAsync(string location, CancellationToken cancellation = default)
    {
        if (!location.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return await new LocalCheckpointStore().FetchAsync(location, cancellation);
        }
        string prefix = location[Scheme.Length..];
        string target = Path.Combine(cacheFolder, prefix.Replace('/', Path.DirectorySeparatorChar));
        await FetchGate.WaitAsync(cancellation);
        try
        {
            if (File.Exists(Path.Combine(target, Marker)))
            {
                return target;
            }
            if (!await _container.GetBlobClient($"{prefix}/{Marker}").ExistsAsync(cancellation))
            {
                throw new FileNotFoundException($"checkpoint {location} is incomplete or missing in container {Container} (no {Marker} marker).");
            }
            string partial = target + ".partial-" + Guid.NewGuid().ToString("N");
            await foreach (var item in _container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix + "/", cancellation))
            {
                string file = Path.Combine(partial, item.Name[(prefix.Length + 1)..].Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                await _container.GetBlobClient(item.Name).DownloadToAsync(file, cancellation);
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                if (Directory.Exists(target) && !File.Exists(Path.Combine(target, Marker)))
                {
                    Directory.Delete(target, recursive: true);   // an earlier download interrupted before its marker
                }
                Directory.Move(partial, target);
            }
            catch (IOException) when (File.Exists(Path.Combine(target, Marker)))
            {
                // Another process sharing this cache finished the same download first: use its copy.
                Directory.Delete(partial, recursive: true);
            }
            return target;
        }
        finally
        {
            FetchGate.Release();
        }
    }
}
