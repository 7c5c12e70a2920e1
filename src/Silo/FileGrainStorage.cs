using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;

namespace ReMA.Silo;

/// <summary>
/// Grain state in a local folder shared by the silos of one machine: one file per grain and state name under
/// &lt;root&gt;/&lt;service id&gt;/, in Orleans' binary serialization. Writes are atomic (a temporary file renamed over the
/// old one), so a crash mid-write leaves the previous state; the ETag is a write counter kept in the file, so a stale
/// activation's write fails with <see cref="InconsistentStateException"/> instead of overwriting newer state.
/// State outlives any one silo process (unlike in-memory storage), which is what lets a campaign continue on another
/// silo of the same machine. For clusters spanning machines, use Azure storage.
/// </summary>
public sealed class FileGrainStorage(string name, string root, string serviceId, Serializer serializer) : IGrainStorage
{
    private static readonly SemaphoreSlim WriteGate = new(1, 1);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        (long version, byte[] payload) = await ReadAsync(path);
        try
        {
            grainState.State = serializer.Deserialize<T>(payload);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"grain storage '{name}': {path} does not hold a readable {typeof(T).Name} ({e.Message}).", e);
        }
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        await WriteGate.WaitAsync();
        try
        {
            long current = File.Exists(path) ? await ReadVersionAsync(path) : 0;
            Check(current, grainState.ETag, "write", stateName, grainId);
            long next = current + 1;
            byte[] payload = serializer.SerializeToArray(grainState.State);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
            await using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.WriteThrough))
            {
                await stream.WriteAsync(BitConverter.GetBytes(next));
                await stream.WriteAsync(payload);
            }
            File.Move(temporary, path, overwrite: true);
            grainState.ETag = next.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        finally
        {
            WriteGate.Release();
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        await WriteGate.WaitAsync();
        try
        {
            if (File.Exists(path))
            {
                Check(await ReadVersionAsync(path), grainState.ETag, "clear", stateName, grainId);
                File.Delete(path);
            }
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
        finally
        {
            WriteGate.Release();
        }
    }

    private void Check(long stored, string? etag, string action, string stateName, GrainId grainId)
    {
        string expected = stored == 0 ? "" : stored.ToString(CultureInfo.InvariantCulture);
        if ((etag ?? "") != expected)
        {
            throw new InconsistentStateException(
                $"grain storage '{name}': cannot {action} state '{stateName}' of {grainId}: stored version {expected}, this activation has '{etag}'.", expected, etag ?? "");
        }
    }

    private string PathOf(string stateName, GrainId grainId) =>
        Path.Combine(root, Uri.EscapeDataString(serviceId), Uri.EscapeDataString(grainId.Type.ToString()!),
            $"{Uri.EscapeDataString(grainId.Key.ToString()!)}.{Uri.EscapeDataString(stateName)}.bin");

    /// <summary>The write counter alone (the file's first 8 bytes): writes and clears check it without reading the state.</summary>
    private async Task<long> ReadVersionAsync(string path)
    {
        byte[] header = new byte[sizeof(long)];
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        int read = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false);
        return read < header.Length
            ? throw new InvalidDataException($"grain storage '{name}': {path} is truncated ({read} bytes).")
            : BitConverter.ToInt64(header, 0);
    }

    private async Task<(long Version, byte[] Payload)> ReadAsync(string path)
    {
        byte[] bytes = await File.ReadAllBytesAsync(path);
        if (bytes.Length < sizeof(long))
        {
            throw new InvalidDataException($"grain storage '{name}': {path} is truncated ({bytes.Length} bytes).");
        }
        return (BitConverter.ToInt64(bytes, 0), bytes[sizeof(long)..]);
    }
}

public static class FileGrainStorageExtensions
{
    /// <summary>Default grain storage in <paramref name="root"/> (shared by every silo on this machine that names it).</summary>
    public static ISiloBuilder AddFileGrainStorageAsDefault(this ISiloBuilder silo, string root) =>
        silo.AddFileGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, root);

    /// <summary>Grain storage named <paramref name="providerName"/> in <paramref name="root"/>.</summary>
    public static ISiloBuilder AddFileGrainStorage(this ISiloBuilder silo, string providerName, string root)
    {
        silo.Services.AddGrainStorage(providerName, (sp, name) => new FileGrainStorage(
            name, Path.GetFullPath(root), sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId, sp.GetRequiredService<Serializer>()));
        return silo;
    }
}
