using ReMA.Grains.Storage;
using ReMA.Learner.Model;
using ReMA.Learner.Training;
using ReMA.Silo.Storage;

namespace ReMA.Grains.Tests.Azure;

public class CheckpointStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task BlobCheckpoints_ArriveWholeOnAnotherSilo_AndHalfUploadsAreRefused()
    {
        string campaign = "ckpt-" + Guid.NewGuid().ToString("N")[..8];
        using CausalLM model = TestModelsForCheckpoints.Tiny();
        using var updater = new PolicyUpdater(model);
        string saved = TrainingCheckpoint.Save(Directory.CreateTempSubdirectory("rema-learner").FullName, 3, updater);

        var learnerSide = new BlobCheckpointStore(azurite.Emulator.Settings.Blobs(), Directory.CreateTempSubdirectory("cache-a").FullName);
        string location = await learnerSide.PublishAsync(saved, campaign, campaign + ".shared", 3);
        Assert.Equal($"blob:{campaign}/{campaign}.shared/step-00000003", location);

        // Another silo with its own cache gets the same files.
        var replicaSide = new BlobCheckpointStore(azurite.Emulator.Settings.Blobs(), Directory.CreateTempSubdirectory("cache-b").FullName);
        string fetched = await replicaSide.FetchAsync(location);
        foreach (string file in Directory.GetFiles(saved))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(fetched, Path.GetFileName(file))));
        }
        using CausalLM other = TestModelsForCheckpoints.Tiny(seed: 99);
        using var otherUpdater = new PolicyUpdater(other);
        Assert.Equal(3, TrainingCheckpoint.Load(fetched, otherUpdater).Step);
        Assert.Equal(fetched, await replicaSide.FetchAsync(location));           // cached

        // A checkpoint whose upload never finished (no marker) is refused, naming it.
        var container = azurite.Emulator.Settings.Blobs().GetBlobContainerClient(BlobCheckpointStore.Container);
        await container.GetBlobClient($"{campaign}/{campaign}.shared/step-00000004/config.json").UploadAsync(BinaryData.FromString("{}"));
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => replicaSide.FetchAsync($"blob:{campaign}/{campaign}.shared/step-00000004"));
        Assert.Contains("incomplete or missing", e.Message);

        // Local locations pass through; a missing folder is named.
        Assert.Equal(saved, await replicaSide.FetchAsync(saved));
        var missing = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => new LocalCheckpointStore().FetchAsync("/no/such/checkpoint"));
        Assert.Contains("'/no/such/checkpoint' does not exist", missing.Message);
    }
}

public class CheckpointCachePruningTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task TheCache_KeepsTheLatestTwoVersionsOfAPolicy_AndDropsUnusedCampaigns()
    {
        string campaign = "prune-" + Guid.NewGuid().ToString("N")[..8], policy = campaign + ".shared";
        using CausalLM model = TestModelsForCheckpoints.Tiny();
        using var updater = new PolicyUpdater(model);
        string root = Directory.CreateTempSubdirectory("rema-learner").FullName;
        var learner = new BlobCheckpointStore(azurite.Emulator.Settings.Blobs(), Directory.CreateTempSubdirectory("cache-l").FullName);
        var locations = new List<string>();
        for (int version = 1; version <= 4; version++)
        {
            locations.Add(await learner.PublishAsync(TrainingCheckpoint.Save(root, version, updater), campaign, policy, version));
        }
        string cache = Directory.CreateTempSubdirectory("cache-r").FullName;
        // A finished campaign left in the cache long ago, and another one still in use.
        string stale = Path.Combine(cache, "finished", "finished.shared", "step-00000009");
        string live = Path.Combine(cache, "live", "live.shared", "step-00000002");
        foreach (string folder in new[] { stale, live })
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, BlobCheckpointStore.Marker), "1");
        }
        foreach (string path in Directory.EnumerateFileSystemEntries(Path.Combine(cache, "finished"), "*", SearchOption.AllDirectories).Append(Path.Combine(cache, "finished")))
        {
            Directory.SetLastWriteTimeUtc(Path.GetDirectoryName(path)!, DateTime.UtcNow.AddDays(-2));
            if (File.Exists(path)) { File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-2)); } else { Directory.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-2)); }
        }
        var replica = new BlobCheckpointStore(azurite.Emulator.Settings.Blobs(), cache, new CheckpointCachePolicy { MinimumAge = TimeSpan.Zero, DropUnusedAfter = TimeSpan.FromHours(1) });
        foreach (string location in locations)
        {
            await replica.FetchAsync(location);
        }
        string[] kept = Directory.GetDirectories(Path.Combine(cache, campaign, policy)).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(["step-00000003", "step-00000004"], kept);
        Assert.False(Directory.Exists(Path.Combine(cache, "finished")));
        Assert.True(Directory.Exists(live));
        // A pruned version asked for again (a fork pinned to it) is downloaded again.
        string again = await replica.FetchAsync(locations[0]);
        Assert.True(File.Exists(Path.Combine(again, BlobCheckpointStore.Marker)));
    }
}

internal static class TestModelsForCheckpoints
{
    public static CausalLM Tiny(int seed = 1) =>
        new(ModelPresets.Get("nano", 40) with { HiddenSize = 16, IntermediateSize = 24, HeadDim = 4, NumLayers = 1 }, TorchSharp.torch.CPU, TorchSharp.torch.ScalarType.Float32, seed);
}
