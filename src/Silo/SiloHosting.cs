using System.Net;
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
            builder.Services.AddHostedService(sp => new HealthEndpoint(host, port, sp));
        }
        return builder;
    }
}

internal sealed class HealthEndpoint(string host, int port, IServiceProvider services) : BackgroundService
{
    private readonly DateTime _started = DateTime.UtcNow;

    private HttpListener? _listener;

    /// <summary>Listens before the host reports itself started, so a probe right after start-up is answered.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new HttpListener();
        foreach (string name in HostNames(host))
        {
            _listener.Prefixes.Add($"http://{name}:{port}/");
        }
        _listener.Start();
        return base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// The names the endpoint answers to. HttpListener matches a request's Host header against its prefixes, so the
    /// loopback default also answers <c>localhost</c> (what curl and browsers send for http://localhost:8081/).
    /// </summary>
    internal static IEnumerable<string> HostNames(string host)
    {
        yield return host;
        if (host is "127.0.0.1" or "localhost")
        {
            yield return host == "localhost" ? "127.0.0.1" : "localhost";
        }
    }

    public override void Dispose()
    {
        _listener?.Close();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HttpListener listener = _listener!;
        var logger = services.GetRequiredService<ILogger<HealthEndpoint>>();
        logger.LogInformation("Health endpoint on http://{Host}:{Port}/health", host, port);
        using CancellationTokenRegistration stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await RespondAsync(context);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The caller went away before the answer (a timed-out probe): that request is lost, the endpoint is not.
                logger.LogDebug(e, "Health request not answered");
                try
                {
                    context.Response.Abort();
                }
                catch (Exception abort) when (abort is not OutOfMemoryException)
                {
                    logger.LogDebug(abort, "Health response not aborted cleanly");
                }
            }
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        int status = 404;
        object body = new { error = "not found; try /health" };
        if (context.Request.Url?.AbsolutePath == "/health")
        {
            try
            {
                var silo = services.GetRequiredService<ILocalSiloDetails>();
                var management = services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
                var hosts = await management.GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(5));
                status = 200;
                body = new
                {
                    status = "ok",
                    silo = silo.SiloAddress.ToString(),
                    name = silo.Name,
                    uptime_seconds = (int)(DateTime.UtcNow - _started).TotalSeconds,
                    active_silos = hosts.Keys.Select(k => k.ToString()).ToArray(),
                };
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                status = 503;
                body = new { status = "unavailable", error = e.Message };
            }
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
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
