using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Grains.Tests.Azure;
using ReMA.Silo;

namespace ReMA.Grains.Tests.Processes;

/// <summary>
/// Real silo and client processes on loopback against Azurite: the built src/Silo (rema-silo.dll) and src/Client
/// (rema.dll), configured only through environment variables, all started in one working folder (checkpoints are
/// written and read under runs/ there, as on a shared volume).
/// </summary>
public sealed class ClusterProcesses : IAsyncDisposable
{
    private readonly List<SiloProcess> _silos = [];
    private readonly List<SiloProcess> _replaced = [];
    private readonly int _torchThreads;
    private IHost? _client;

    private ClusterProcesses(Azurite storage, string folder, string serviceId, int torchThreads)
    {
        Storage = storage;
        Folder = folder;
        ServiceId = serviceId;
        _torchThreads = torchThreads;
    }

    public Azurite Storage { get; }
    public string Folder { get; }
    public string ServiceId { get; }
    public IReadOnlyList<SiloProcess> Silos => _silos;

    /// <summary>The processes that <see cref="RestartAsync"/> replaced (their output stays readable), oldest first.</summary>
    public IReadOnlyList<SiloProcess> Replaced => _replaced;

    public static Task<ClusterProcesses> StartAsync(Azurite storage, params string[] roles) => StartAsync(storage, torchThreads: 1, roles);

    /// <summary>Silos with the given roles, each with <paramref name="torchThreads"/> torch threads.</summary>
    public static async Task<ClusterProcesses> StartAsync(Azurite storage, int torchThreads, params string[] roles)
    {
        var cluster = new ClusterProcesses(storage, Directory.CreateTempSubdirectory("rema-cluster").FullName, "svc" + Guid.NewGuid().ToString("N")[..8], torchThreads);
        foreach (string role in roles)
        {
            cluster._silos.Add(SiloProcess.Start(cluster, role, cluster._silos.Count, torchThreads));
        }
        await Task.WhenAll(cluster._silos.Select(s => s.WaitUntilHealthyAsync(TimeSpan.FromSeconds(90))));
        return cluster;
    }

    /// <summary>
    /// Starts a new process in place of <paramref name="silo"/> (killed first if it still runs), as a machine that comes
    /// back: the same role and index, so the same log folder and checkpoint cache (whatever the dead process left there),
    /// but fresh ports, since the dead process's address stays in the membership table as dead. Returns the new process
    /// once it is healthy; it takes the old one's place in <see cref="Silos"/>.
    /// </summary>
    public async Task<SiloProcess> RestartAsync(SiloProcess silo, TimeSpan timeout)
    {
        int at = _silos.IndexOf(silo);
        if (at < 0)
        {
            throw new ArgumentException($"silo {silo.Index} (port {silo.SiloPort}) is not one of this cluster's current processes.", nameof(silo));
        }
        silo.Kill();
        SiloProcess fresh = SiloProcess.Start(this, silo.Role, silo.Index, _torchThreads);
        _silos[at] = fresh;
        _replaced.Add(silo);
        await fresh.WaitUntilHealthyAsync(timeout);
        return fresh;
    }

    public Dictionary<string, string> Environment() => new()
    {
        ["ReMA__Azure__ConnectionString"] = Storage.ConnectionString,
        ["ReMA__Cluster__ClusterId"] = ServiceId,
        ["ReMA__Cluster__ServiceId"] = ServiceId,
    };

    /// <summary>An Orleans client of the test itself, finding the silos through the membership table.</summary>
    public async Task<IClusterClient> ClientAsync()
    {
        if (_client is null)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.UseOrleansClient(c => c.UseReMAAzureClustering(Storage.Settings, ServiceId, ServiceId));
            _client = builder.Build();
            await _client.StartAsync();
        }
        return _client.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>Runs the rema CLI as a process with the cluster's environment; returns its exit code and output.</summary>
    public async Task<(int Code, string Output)> RunClientAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Build("Client", "rema.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach ((string k, string v) in Environment())
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"rema {string.Join(' ', args)} did not finish within {timeout}:\n{output}");
        }
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    /// <summary>The built output of a src project (the test run builds the whole solution first).</summary>
    public static string Build(string project, string file)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ReMA.sln")))
        {
            dir = dir.Parent;
        }
        string root = dir?.FullName ?? throw new FileNotFoundException($"ReMA.sln not found above {AppContext.BaseDirectory}");
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string path = Path.Combine(root, "src", project, "bin", configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: build the solution ({configuration}) first.");
    }

    /// <summary>A free loopback port below the ephemeral range (<see cref="ReMA.Tests.Shared.FreePorts.Next"/>).</summary>
    public static int FreePort() => ReMA.Tests.Shared.FreePorts.Next();

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
            }
            catch (Exception e) when (e is OperationCanceledException or OrleansException)
            {
            }
            _client.Dispose();
        }
        foreach (SiloProcess silo in _silos)
        {
            silo.Kill();
        }
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One rema-silo process.</summary>
public sealed class SiloProcess
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SiloProcess(Process process, string role, int index, int siloPort, int gatewayPort, int healthPort)
    {
        _process = process;
        Role = role;
        Index = index;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HealthPort = healthPort;
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Role { get; }
    public int Index { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    public int HealthPort { get; }
    public bool Exited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    internal static SiloProcess Start(ClusterProcesses cluster, string role, int index, int torchThreads)
    {
        int silo = ClusterProcesses.FreePort(), gateway = ClusterProcesses.FreePort(), health = ClusterProcesses.FreePort();
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = cluster.Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ClusterProcesses.Build("Silo", "rema-silo.dll"));
        foreach ((string k, string v) in cluster.Environment())
        {
            start.Environment[k] = v;
        }
        start.Environment["ReMA__Cluster__SiloPort"] = silo.ToString(CultureInfo.InvariantCulture);
        start.Environment["ReMA__Cluster__GatewayPort"] = gateway.ToString(CultureInfo.InvariantCulture);
        // Each silo's web dashboard on its own free port (the default 8080 would clash between silos of one machine).
        start.Environment["ReMA__Web__Port"] = ClusterProcesses.FreePort().ToString(CultureInfo.InvariantCulture);
        start.Environment["ReMA__Cluster__ProbeTimeoutSeconds"] = "1";
        start.Environment["ReMA__Cluster__MissedProbes"] = "2";
        start.Environment["ReMA__Silo__Roles"] = role;
        start.Environment["ReMA__Health__Port"] = health.ToString(CultureInfo.InvariantCulture);
        start.Environment["ReMA__Logging__Folder"] = Path.Combine("logs", $"silo{index}");
        start.Environment["ReMA__Torch__Threads"] = torchThreads.ToString(CultureInfo.InvariantCulture);
        // Each silo its own checkpoint cache, as on separate machines: checkpoints reach it only through Blob storage.
        start.Environment["ReMA__Checkpoints__Cache"] = Path.Combine(cluster.Folder, "cache", $"silo{index}");
        return new SiloProcess(Process.Start(start)!, role, index, silo, gateway, health);
    }

    /// <summary>Waits until GET /health answers 200 (the silo has joined its cluster).</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"silo {Index} exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{HealthPort}/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"silo {Index} was not healthy within {timeout}:\n{Output}");
    }

    /// <summary>The silo address string (as CampaignStatus.Silo shows it) belongs to this process.</summary>
    public bool Hosts(string siloAddress) => siloAddress.Contains($":{SiloPort}:", StringComparison.Ordinal);

    /// <summary>SIGTERM (what docker stop and systemd send): a graceful stop. Returns how long the process took to exit (null: still running after <paramref name="patience"/>).</summary>
    public async Task<TimeSpan?> TerminateAsync(TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var wait = new CancellationTokenSource(patience);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return clock.Elapsed;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>kill -9: no shutdown, no goodbye to the cluster.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }
}
