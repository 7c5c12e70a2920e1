using Azure.Storage.Blobs;
using ReMA.Grains.Storage;

namespace ReMA.Silo.Storage;

/// <summary>
/// Checkpoints as blobs in the container <c>rema-checkpoints</c>: every file of the folder under
/// &lt;campaign&gt;/&lt;policy&gt;/step-00000012/, then a <c>_COMPLETE</c> marker written last. A location
/// ("blob:&lt;prefix&gt;") is fetched only when its marker exists, so a learner that died mid-upload never hands out
/// half a checkpoint; fetched folders are cached (downloaded under a temporary name, then renamed).
/// </summary>
/// <remarks>
/// The cache (shared by the silos of a machine) is pruned after every download: of a policy, the version just fetched
/// and the one before it stay; older versions, campaigns whose cached files went unused for
/// <see cref="CheckpointCachePolicy.DropUnusedAfter"/> (finished or abandoned ones: a live campaign fetches every new
/// version), and downloads interrupted long ago go. Anything written in the last <see cref="CheckpointCachePolicy.MinimumAge"/>
/// stays, so a folder another silo is still loading is never pulled from under it. A pruned version that is asked for
/// again (a fork pinned to it) is downloaded again.
/// </remarks>
public sealed class BlobCheckpointStore(BlobServiceClient blobs, string cacheFolder, CheckpointCachePolicy? cachePolicy = null) : ICheckpointStore
{
    private readonly CheckpointCachePolicy _policy = cachePolicy ?? new CheckpointCachePolicy();
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
            Prune(target);
            return target;
        }
        finally
        {
            FetchGate.Release();
        }
    }

    /// <summary>Prunes the cache around a version just fetched to <paramref name="fetched"/> (see the remarks).</summary>
    private void Prune(string fetched)
    {
        DateTime now = DateTime.UtcNow;
        bool Old(string folder, TimeSpan age) => now - LastWrite(folder) > age;
        try
        {
            // Older versions of the same policy (step-NNNNNNNN folders sort by version).
            string policyFolder = Path.GetDirectoryName(fetched)!;
            var versions = Directory.GetDirectories(policyFolder, "step-*").Where(d => !d.Contains(".partial-", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList();
            int index = versions.IndexOf(fetched);
            foreach (string older in versions.Take(Math.Max(0, index - 1)).Where(d => Old(d, _policy.MinimumAge)))
            {
                Directory.Delete(older, recursive: true);
            }
            // Interrupted downloads, and campaigns nobody has fetched from lately.
            foreach (string partial in Directory.GetDirectories(cacheFolder, "*.partial-*", SearchOption.AllDirectories).Where(d => Old(d, _policy.DropUnusedAfter)))
            {
                Directory.Delete(partial, recursive: true);
            }
            string campaignFolder = Path.GetDirectoryName(policyFolder)!;
            foreach (string campaign in Directory.GetDirectories(cacheFolder).Where(d => d != campaignFolder && Old(d, _policy.DropUnusedAfter)))
            {
                Directory.Delete(campaign, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another silo pruned or wrote the same folder at the same time: the next fetch tries again.
        }
    }

    /// <summary>The newest write time of a folder or anything in it.</summary>
    private static DateTime LastWrite(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Select(File.GetLastWriteTimeUtc).Append(Directory.GetLastWriteTimeUtc(folder)).Max();
}

/// <summary>How a silo's checkpoint cache is pruned (<c>ReMA:Checkpoints:CacheUnusedHours</c>).</summary>
public sealed record CheckpointCachePolicy
{
    /// <summary>A cached campaign (or an interrupted download) unused for this long is deleted.</summary>
    public TimeSpan DropUnusedAfter { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Nothing written more recently than this is deleted (another silo may be loading it).</summary>
    public TimeSpan MinimumAge { get; init; } = TimeSpan.FromMinutes(2);
}
