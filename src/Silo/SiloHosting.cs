using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace ReMA.Silo;

/// <summary>Logging and health for a standalone silo process.</summary>
public static class SiloHosting
{
    /// <summary>
    /// Serilog to the console and a daily rolling file (ReMA:Logging:Folder, default logs/), Orleans, Microsoft and
    /// Polly held to warnings; a "Serilog" configuration section, when present, overrides these settings.
    /// With <paramref name="toConsole"/> false (a client showing a live panel) the console is left alone.
    /// </summary>
    public static IHostApplicationBuilder AddReMALogging(this IHostApplicationBuilder builder, bool toConsole = true)
    {
        string folder = builder.Configuration["ReMA:Logging:Folder"] ?? "logs";
        var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Orleans", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .WriteTo.File(Path.Combine(folder, "silo-.log"), rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14,
                outputTemplate: "{Timestamp:O} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        if (toConsole)
        {
            logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        }
        if (builder.Configuration.GetSection("Serilog").Exists())
        {
            logger.ReadFrom.Configuration(builder.Configuration);
        }
        Log.Logger = logger.CreateLogger();
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(dispose: true);
        return builder;
    }

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
        _listener.Prefixes.Add($"http://{host}:{port}/");
        _listener.Start();
        return base.StartAsync(cancellationToken);
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
