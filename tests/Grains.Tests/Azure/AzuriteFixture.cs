namespace ReMA.Grains.Tests.Azure;

/// <summary>One in-memory Azurite per test class that asks for it.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public Azurite Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await Azurite.StartAsync();

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}
