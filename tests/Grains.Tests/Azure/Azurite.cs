using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ReMA.Silo;

namespace ReMA.Grains.Tests.Azure;

/// <summary>
/// An Azurite process (Azure Storage emulator) on loopback with fresh data: installed into build/azurite by
/// build/test.sh (npm ci; pinned by build/azurite/package-lock.json). When it is missing or does not start, the tests
/// that use it fail with a message saying so: they are never skipped.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    // The emulator's well-known development account (public, documented by Microsoft; not a secret).
    private const string Account = "devstoreaccount1";
    public const string AccountKey = Key;
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;
    private readonly StringBuilder _output = new();

    private Azurite(int blobPort, int queuePort, int tablePort, string? location)
    {
        BlobPort = blobPort;
        QueuePort = queuePort;
        TablePort = tablePort;
        Location = location;
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }
    /// <summary>Folder of the data on disk (kept across <see cref="RestartAsync"/>), or null for in-memory data.</summary>
    public string? Location { get; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{Account};QueueEndpoint=http://127.0.0.1:{QueuePort}/{Account};TableEndpoint=http://127.0.0.1:{TablePort}/{Account};";

    public AzureStorageSettings Settings => new(ConnectionString, null, null);

    /// <summary>Starts Azurite on free loopback ports, in memory, or on disk in a fresh folder when <paramref name="onDisk"/>.</summary>
    public static async Task<Azurite> StartAsync(bool onDisk = false)
    {
        string? location = onDisk ? Directory.CreateTempSubdirectory("rema-azurite").FullName : null;
        for (int attempt = 1; ; attempt++)
        {
            var azurite = new Azurite(FreePort(), FreePort(), FreePort(), location);
            try
            {
                await azurite.LaunchAsync();
                return azurite;
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("EADDRINUSE", StringComparison.Ordinal))
            {
                // Another process bound one of the ports between the check and Azurite's start: other ports.
                await azurite.StopAsync();
            }
        }
    }

    /// <summary>The Azurite entry point under build/azurite/node_modules, found from the test assembly's folder upwards.</summary>
    public static string EntryPoint()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "build", "azurite", "package.json")))
            {
                string script = Path.Combine(dir.FullName, "build", "azurite", "node_modules", "azurite", "dist", "src", "azurite.js");
                return File.Exists(script) ? script : throw new InvalidOperationException(
                    $"Azurite is not installed ({script} is missing): run `npm ci --prefix build/azurite` (build/test.sh does this before the tests).");
            }
        }
        throw new InvalidOperationException($"build/azurite/package.json not found above {AppContext.BaseDirectory}.");
    }

    private async Task LaunchAsync()
    {
        string script = EntryPoint();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (string arg in (string[])["--skipApiVersionCheck", "--loose", "--disableProductStyleUrl",
            "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(CultureInfo()),
            "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(CultureInfo()),
            "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(CultureInfo())])
        {
            start.ArgumentList.Add(arg);
        }
        if (Location is null)
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        else
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(Location);
        }
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException($"cannot start Azurite with node ({e.Message}); Node.js must be on PATH.", e);
        }
        _process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(Listening(BlobPort) && Listening(TablePort)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (_output)
                {
                    log = _output.ToString();
                }
                throw new InvalidOperationException($"Azurite did not start on 127.0.0.1:{BlobPort}/{TablePort} (exited: {_process.HasExited}). Output:\n{log}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Stops the emulator (its ports refuse connections until <see cref="StartAgainAsync"/>): SIGTERM first, so that
    /// Azurite saves its on-disk database as a stopped service does, then a kill if it has not exited within 10 s.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo())]))
            {
                await term!.WaitForExitAsync();
            }
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts it again on the same ports (and, on disk, with the same data).</summary>
    public Task StartAgainAsync() => LaunchAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Location is not null)
        {
            try
            {
                Directory.Delete(Location, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A free loopback port below the ephemeral range (<see cref="ReMA.Tests.Shared.FreePorts.Next"/>).</summary>
    private static int FreePort() => ReMA.Tests.Shared.FreePorts.Next();

    private static System.Globalization.CultureInfo CultureInfo() => System.Globalization.CultureInfo.InvariantCulture;
}
