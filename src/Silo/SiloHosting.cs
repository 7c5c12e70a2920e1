using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace ReMA.Silo;

/// <summary>What a process's log writes to its console besides the file.</summary>
public enum LogConsole
{
    /// <summary>Every line (a standalone silo).</summary>
    Full,
    /// <summary>Errors of ReMA's own code, one line each (a CLI command or an embedded silo beside progress output).</summary>
    ErrorsOnly,
    /// <summary>Nothing (a live terminal panel owns the console).</summary>
    None,
}

/// <summary>Writes an error as one line ("error: message (details in FOLDER/NAME-DATE.log)"), its exception left to the file.</summary>
internal sealed class OneLineErrorSink(TextWriter writer, string folder, string fileName) : Serilog.Core.ILogEventSink
{
    public void Emit(LogEvent e)
    {
        string message = e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Split('\n')[0].Trim();
        string file = Path.Combine(folder, $"{fileName}-{DateTime.Now:yyyyMMdd}.log");
        lock (writer)
        {
            writer.WriteLine($"error: {message} (details in {file})");
        }
    }
}

/// <summary>Logging and health for a standalone silo process.</summary>
public static class SiloHosting
{
    /// <summary>
    /// Serilog to a daily rolling file (ReMA:Logging:Folder, default logs/; <paramref name="fileName"/>-DATE.log) and to
    /// the console as <paramref name="console"/> says; Orleans, Microsoft, Polly and Azure held to warnings. A "Serilog"
    /// configuration section, when present, overrides these settings. Orleans 10's watchdog reports a "participant check
    /// thread has not completed" stall at start-up whose duration is the machine's uptime (its timestamp starts at zero):
    /// a stall longer than the process has lived is dropped.
    /// </summary>
    public static IHostApplicationBuilder AddReMALogging(this IHostApplicationBuilder builder, LogConsole console = LogConsole.Full, string fileName = "silo")
    {
        string folder = LogFolder(builder.Configuration);
        var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Orleans", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .MinimumLevel.Override("Azure", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Filter.ByExcluding(ImpossibleStall)
            .WriteTo.File(Path.Combine(folder, fileName + "-.log"), rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14,
                outputTemplate: "{Timestamp:O} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        switch (console)
        {
            case LogConsole.Full:
                logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
                break;
            case LogConsole.ErrorsOnly:
                // One line per error of ReMA's own code on standard error; the framework's details stay in the file.
                logger.WriteTo.Logger(l => l
                    .Filter.ByExcluding(e => e.Properties.TryGetValue("SourceContext", out var source) && source.ToString().Trim('"') is string c
                        && !c.StartsWith("ReMA.", StringComparison.Ordinal))
                    .WriteTo.Sink(new OneLineErrorSink(Console.Error, folder, fileName), LogEventLevel.Error));
                break;
        }
        if (builder.Configuration.GetSection("Serilog").Exists())
        {
            logger.ReadFrom.Configuration(builder.Configuration);
        }
        // This host's own logger (another host in the same process, say a CLI client beside an embedded silo, keeps its own).
        Serilog.Core.Logger created = logger.CreateLogger();
        Log.Logger = created;
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(created, dispose: true);
        return builder;
    }

    /// <summary>
    /// Bounds how long a standalone silo takes to stop (SIGTERM, Ctrl+C): the host's graceful stop gets
    /// ReMA:Shutdown:TimeoutSeconds (default 20); if it has not finished 10 s after that (Azure Storage calls that do not
    /// observe cancellation when storage is gone took ~2 minutes), the process exits with what it has. The cluster treats
    /// it as a dead silo, which every campaign survives. Not for hosts inside another program (the CLI, tests).
    /// </summary>
    public static IHostApplicationBuilder AddReMAShutdownBound(this IHostApplicationBuilder builder)
    {
        int seconds = builder.Configuration.GetValue("ReMA:Shutdown:TimeoutSeconds", 20);
        if (seconds is < 1 or > 3600)
        {
            throw new ArgumentException($"ReMA:Shutdown:TimeoutSeconds must be between 1 and 3600 (got {seconds}).");
        }
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(seconds));
        builder.Services.AddHostedService(sp => new ShutdownBound(sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetRequiredService<ILogger<ShutdownBound>>(), TimeSpan.FromSeconds(seconds + 10)));
        return builder;
    }

    /// <summary>Where the log files go: ReMA:Logging:Folder, default logs/.</summary>
    public static string LogFolder(IConfiguration configuration) => configuration["ReMA:Logging:Folder"] ?? "logs";

    private static readonly DateTime ProcessStart = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>The watchdog's start-up false positive: a stall longer than this process has existed.</summary>
    public static bool ImpossibleStall(LogEvent e) =>
        e.MessageTemplate.Text.StartsWith("Participant check thread has not completed", StringComparison.Ordinal)
        && e.Properties.TryGetValue("TimeSinceLastTick", out LogEventPropertyValue? value)
        && value is ScalarValue { Value: var raw }
        && (raw is TimeSpan t ? t : TimeSpan.TryParse(raw?.ToString(), System.Globalization.CultureInfo.InvariantCulture, out TimeSpan parsed) ? parsed : TimeSpan.Zero)
            > DateTime.UtcNow - ProcessStart;

    /// <summary>
    /// GET http://127.0.0.1:&lt;ReMA:Health:Port&gt;/health (loopback unless ReMA:Health:Host says otherwise; port 0 turns
    /// it off): 200 with the silo's address and the active silos of the cluster once the silo has started, 503 before.
    /// </summary>
    public static IHostApplicationBuilder AddReMAHealthEndpoint(this IHostApplicationBuilder builder, int defaultPort = 8081)
    {
        int port = builder.Configuration.GetValue("ReMA:Health:Port", defaultPort);
        string host = builder.Configuration["ReMA:Health:Host"] ?? "127.0.0.1";
        if (port > 0)
        {
            HealthAddress(host);   // a bad ReMA:Health:Host is named now, not when the host starts
            builder.Services.AddHostedService(sp => new HealthEndpoint(host, port, sp));
        }
        return builder;
    }

    /// <summary>
    /// The address ReMA:Health:Host names: an IP address, <c>localhost</c> (loopback), or <c>*</c>, <c>+</c> or
    /// <c>0.0.0.0</c> (every IPv4 interface). Any request reaching the socket is answered, whatever its Host header says.
    /// </summary>
    public static IPAddress HealthAddress(string host) => host.Trim() switch
    {
        "localhost" => IPAddress.Loopback,
        "*" or "+" => IPAddress.Any,
        var text when IPAddress.TryParse(text, out IPAddress? address) => address,
        _ => throw new InvalidOperationException(
            $"ReMA:Health:Host is '{host}'; expected an IP address (127.0.0.1, 0.0.0.0, ::), localhost, * or +."),
    };
}

/// <summary>
/// The health endpoint: a minimal HTTP/1.1 responder on a plain socket. It does not use HttpListener, whose managed
/// implementation (Linux) crashes the process when a client connects while Start() is binding the port (its accept
/// loop starts before the constructor has created the lock it takes; dotnet/corefx#35191), which is exactly what a
/// probe polling a starting silo does. One request per connection; the answer closes it.
/// </summary>
internal sealed class HealthEndpoint(string host, int port, IServiceProvider services) : BackgroundService
{
    private const int MaxRequestBytes = 8192;

    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(5);

    private readonly DateTime _started = DateTime.UtcNow;

    private TcpListener? _listener;

    /// <summary>Listens before the host reports itself started, so a probe right after start-up is answered.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new TcpListener(SiloHosting.HealthAddress(host), port);
        _listener.Start();
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _listener?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TcpListener listener = _listener!;
        var logger = services.GetRequiredService<ILogger<HealthEndpoint>>();
        logger.LogInformation("Health endpoint on http://{Host}:{Port}/health", host, port);
        using CancellationTokenRegistration stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException e)
            {
                // A connection reset before it was accepted: that caller is gone, the endpoint is not.
                logger.LogDebug(e, "Health connection not accepted");
                continue;
            }
            // Each connection on its own: a caller that never sends its request holds up no one else.
            _ = Task.Run(() => ServeAsync(client, logger, stoppingToken), CancellationToken.None);
        }
    }

    private async Task ServeAsync(TcpClient client, Microsoft.Extensions.Logging.ILogger logger, CancellationToken stoppingToken)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                (string method, string path)? request;
                using (var reading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    reading.CancelAfter(IoTimeout);
                    request = await ReadRequestLineAsync(stream, reading.Token);
                }
                (int status, object body) = request switch
                {
                    null => (400, (object)new { error = "malformed request; expected GET /health HTTP/1.1" }),
                    { method: not ("GET" or "HEAD") } => (405, new { error = $"method {request.Value.method} not allowed; use GET" }),
                    { path: "/health" } => await HealthAsync(),
                    _ => (404, new { error = "not found; try /health" }),
                };
                byte[] content = JsonSerializer.SerializeToUtf8Bytes(body);
                string head = $"HTTP/1.1 {status} {Reason(status)}\r\nContent-Type: application/json\r\nContent-Length: {content.Length}\r\nConnection: close\r\n\r\n";
                // The answer has its own time (a 503 comes after the cluster query's own 5 s): never cut off by the read's.
                using var writing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                writing.CancelAfter(IoTimeout);
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), writing.Token);
                if (request is not { method: "HEAD" })
                {
                    await stream.WriteAsync(content, writing.Token);
                }
                // Close gracefully: end our side, then drain what the caller still sends (a request body), so the
                // kernel does not answer unread bytes with a reset that could discard the response.
                client.Client.Shutdown(SocketShutdown.Send);
                byte[] sink = new byte[1024];
                while (await stream.ReadAsync(sink, writing.Token) > 0)
                {
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The caller went away or stalled (a timed-out probe): that request is lost, the endpoint is not.
                logger.LogDebug(e, "Health request not answered");
            }
        }
    }

    /// <summary>Reads the request head (up to the blank line) and returns its method and path, or null when malformed.</summary>
    internal static async Task<(string method, string path)?> ReadRequestLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                break;
            }
            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0 || buffer.AsSpan(0, length).IndexOf("\n\n"u8) >= 0)
            {
                break;
            }
        }
        string head = Encoding.ASCII.GetString(buffer, 0, length);
        int end = head.IndexOf('\n');
        string[] parts = (end >= 0 ? head[..end] : head).TrimEnd('\r').Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/", StringComparison.Ordinal))
        {
            return null;
        }
        string target = parts[1];
        // An absolute-form target (GET http://host:port/health) names the same path.
        if (Uri.TryCreate(target, UriKind.Absolute, out Uri? absolute) && absolute.Scheme is "http" or "https")
        {
            target = absolute.AbsolutePath;
        }
        int query = target.IndexOf('?');
        return (parts[0], query >= 0 ? target[..query] : target);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Status",
    };

    private async Task<(int status, object body)> HealthAsync()
    {
        try
        {
            var silo = services.GetRequiredService<ILocalSiloDetails>();
            var management = services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
            var hosts = await management.GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5));
            return (200, new
            {
                status = "ok",
                silo = silo.SiloAddress.ToString(),
                name = silo.Name,
                uptime_seconds = (int)(DateTime.UtcNow - _started).TotalSeconds,
                active_silos = hosts.Keys.Select(k => k.ToString()).ToArray(),
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (503, new { status = "unavailable", error = e.Message });
        }
    }
}

/// <summary>Ends the process when a requested stop outlives its bound (see <see cref="SiloHosting.AddReMAShutdownBound"/>).</summary>
internal sealed class ShutdownBound(IHostApplicationLifetime lifetime, ILogger<ShutdownBound> logger, TimeSpan bound) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(() => _ = Task.Run(async () =>
        {
            await Task.Delay(bound);
            logger.LogWarning("Stopping took longer than {Seconds} s (storage or peers not answering); exiting without a graceful stop", bound.TotalSeconds);
            await Serilog.Log.CloseAndFlushAsync();
            Environment.Exit(0);
        }));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration.Dispose();   // the registration only; a timer already started keeps running until the process ends
        return Task.CompletedTask;
    }
}
