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

internal static class TestModelsForCheckpoints
{
    public static CausalLM Tiny(int seed = 1) =>
        new(ModelPresets.Get("nano", 40) with { HiddenSize = 16, IntermediateSize = 24, HeadDim = 4, NumLayers = 1 }, TorchSharp.torch.CPU, TorchSharp.torch.ScalarType.Float32, seed);
}
