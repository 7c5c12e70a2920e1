using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using ReMA.Silo;

namespace ReMA.Grains.Tests;

public class SiloHostingTests
{
    [Fact]
    public async Task StandaloneSiloHost_ServesHealthOnLoopback_AndLogsToARollingFile()
    {
        string logs = Directory.CreateTempSubdirectory("rema-logs").FullName;
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReMA:Logging:Folder"] = logs,
            ["ReMA:Health:Port"] = "28081",
        });
        builder.AddReMALogging();
        builder.AddReMAEmbeddedSilo(24111, 34111);
        builder.AddReMAHealthEndpoint();
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            using var http = new HttpClient();
            HttpResponseMessage response = await http.GetAsync("http://127.0.0.1:28081/health");
            string body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using JsonDocument json = JsonDocument.Parse(body);
            Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
            Assert.Equal(1, json.RootElement.GetProperty("active_silos").GetArrayLength());
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("http://127.0.0.1:28081/other")).StatusCode);
            // Both loopback names answer (curl localhost:8081/health used to get 404: the Host header did not match).
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("http://localhost:28081/health")).StatusCode);

            host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ReMA.Test").LogInformation("hello from the test");
        }
        finally
        {
            await host.StopAsync();
        }
        Serilog.Log.CloseAndFlush();
        string file = Assert.Single(Directory.GetFiles(logs, "silo-*.log"));
        Assert.Contains("hello from the test", File.ReadAllText(file));
    }

    [Fact]
    public void TheWatchdogsStartUpStall_LongerThanTheProcessHasLived_IsDropped_ARealOneIsKept()
    {
        static Serilog.Events.LogEvent Stall(TimeSpan since) => new(DateTimeOffset.Now, Serilog.Events.LogEventLevel.Warning, null,
            new Serilog.Parsing.MessageTemplateParser().Parse("Participant check thread has not completed for {TimeSinceLastTick}, potentially indicating lock contention or deadlock, CPU starvation, or another execution anomaly."),
            [new Serilog.Events.LogEventProperty("TimeSinceLastTick", new Serilog.Events.ScalarValue(since))]);
        TimeSpan lived = DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
        Assert.True(SiloHosting.ImpossibleStall(Stall(lived + TimeSpan.FromHours(1))));   // the machine's uptime
        Assert.False(SiloHosting.ImpossibleStall(Stall(TimeSpan.FromSeconds(Math.Min(2, lived.TotalSeconds / 2)))));
        var other = new Serilog.Events.LogEvent(DateTimeOffset.Now, Serilog.Events.LogEventLevel.Warning, null,
            new Serilog.Parsing.MessageTemplateParser().Parse("Something else for {TimeSinceLastTick}"),
            [new Serilog.Events.LogEventProperty("TimeSinceLastTick", new Serilog.Events.ScalarValue(TimeSpan.FromDays(3)))]);
        Assert.False(SiloHosting.ImpossibleStall(other));
    }

    [Fact]
    public void TorchThreads_AreSetFromConfiguration_AndBadValuesAreNamed()
    {
        static IHost Build(string threads)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ReMA:Torch:Threads"] = threads });
            builder.AddReMAEmbeddedSilo(25111, 35111);
            return builder.Build();
        }
        // The setting is process-wide: use the value every test here runs with anyway (one thread per core).
        using (Build(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            Assert.Equal(Environment.ProcessorCount, TorchSharp.torch.get_num_threads());
        }
        var e = Assert.Throws<ArgumentException>(() => Build("-1"));
        Assert.Contains("ReMA:Torch:Threads must be between 0", e.Message);
    }
}
