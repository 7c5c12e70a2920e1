using System.Text.Json;

namespace ReMA.Client.Tests;

public class GenerationDemoTests
{
    [Fact]
    public async Task Demo_RunsOnAnEmbeddedSiloAndWritesItsReport()
    {
        string output = Path.Combine(Path.GetTempPath(), "rema-tests", Guid.NewGuid().ToString("N"));
        var log = new StringWriter();
        DemoReport report = await GenerationDemo.RunAsync(
            new DemoOptions { OutputDirectory = output, Prompts = 6, MaxNewTokens = 12, SiloPort = 21111, GatewayPort = 31000 }, log);

        Assert.Equal(6, report.Requests);
        Assert.InRange(report.GeneratedTokens, 6, 6 * 12);
        Assert.True(report.ReloadIdentical);
        Assert.InRange(report.MaxScorerDifference, 0, 1e-4);
        Assert.Contains("127.0.0.1:21111", report.Silo);
        Assert.Equal(6, report.FinishReasons.Values.Sum());

        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "report.json")));
        Assert.Equal(6, json.RootElement.GetProperty("Requests").GetInt32());
        string markdown = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("| requests | 6 |", markdown);
        Assert.True(File.Exists(Path.Combine(output, "model", "model.safetensors")));
        Assert.Contains("report:", log.ToString());
    }

    [Fact]
    public async Task Demo_RejectsAnUnavailableDeviceBeforeStartingTheSilo()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => GenerationDemo.RunAsync(
            new DemoOptions { OutputDirectory = Path.GetTempPath(), Device = "tpu" }, TextWriter.Null));
        Assert.Contains("device 'tpu'", error.Message);
    }
}
