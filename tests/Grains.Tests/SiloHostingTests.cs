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
            Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("http://127.0.0.1:28081/health", new StringContent(""))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("http://127.0.0.1:28081/health?verbose=1")).StatusCode);
            // A caller that sends garbage, or nothing, gets an error or is dropped; the endpoint keeps answering.
            using (var raw = new System.Net.Sockets.TcpClient())
            {
                await raw.ConnectAsync(IPAddress.Loopback, 28081);
                await raw.GetStream().WriteAsync("nonsense\r\n\r\n"u8.ToArray());
                string answer = await new StreamReader(raw.GetStream()).ReadToEndAsync();
                Assert.StartsWith("HTTP/1.1 400 ", answer);
            }
            using (var silent = new System.Net.Sockets.TcpClient())
            {
                await silent.ConnectAsync(IPAddress.Loopback, 28081);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("http://127.0.0.1:28081/health")).StatusCode);
            }

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
    public async Task HealthEndpoint_SurvivesProbesThatArriveWhileItStarts()
    {
        // HttpListener (the endpoint's first implementation) crashed the whole silo when a probe connected while Start()
        // bound the port: the multi-process tests poll /health from the moment a silo process is launched. Probes
        // connect to the port here (and hang up: the race is in accepting) from before the host starts until it answers;
        // the process must survive and answer. (With HttpListener, two such loops crashed a process at once.)
        const int port = 28083;
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ReMA:Health:Port"] = $"{port}" });
        builder.AddReMAEmbeddedSilo(24113, 34113);
        builder.AddReMAHealthEndpoint();
        using IHost host = builder.Build();
        using var done = new CancellationTokenSource();
        int connected = 0;
        Task[] probes = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                using var socket = new System.Net.Sockets.TcpClient();
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, port);
                    Interlocked.Increment(ref connected);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // not listening yet
                }
                await Task.Delay(1);   // leaves the starting host some of the two cores
            }
        })).ToArray();
        await host.StartAsync();
        try
        {
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/health")).StatusCode);
        }
        finally
        {
            done.Cancel();
            await Task.WhenAll(probes);
            await host.StopAsync();
        }
        Assert.True(connected > 0);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("localhost", "127.0.0.1")]
    [InlineData("*", "0.0.0.0")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("::1", "::1")]
    public void HealthHost_NamesAnAddress(string host, string address) =>
        Assert.Equal(IPAddress.Parse(address), SiloHosting.HealthAddress(host));

    [Fact]
    public void HealthHost_ThatIsNotAnAddress_IsNamed()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ReMA:Health:Host"] = "my-silo.example" });
        var e = Assert.Throws<InvalidOperationException>(() => builder.AddReMAHealthEndpoint());
        Assert.Contains("ReMA:Health:Host is 'my-silo.example'", e.Message);
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
