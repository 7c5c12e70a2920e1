using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ReMA.Client;

/// <summary>
/// How the CLI reaches a running cluster: <c>--gateway PORT</c> or the REMA_GATEWAY environment variable (a silo
/// gateway on this machine, e.g. the standalone silo's 30000). Without either, commands work on the local runs/ folder.
/// </summary>
internal static class ClusterOptions
{
    public const string GatewayVariable = "REMA_GATEWAY";

    public static Option<int?> Gateway() => new("--gateway")
    {
        Description = $"Gateway port of a running cluster on this machine (default: ${GatewayVariable}; none: the local runs/ folder)",
    };

    public static Option<bool> Json() => new("--json") { Description = "Machine-readable JSON output" };

    public static int? Resolve(ParseResult parse, Option<int?> option)
    {
        if (parse.GetValue(option) is int port)
        {
            return port;
        }
        string? variable = Environment.GetEnvironmentVariable(GatewayVariable);
        if (string.IsNullOrWhiteSpace(variable))
        {
            return null;
        }
        return int.TryParse(variable, out int fromEnvironment) && fromEnvironment is > 0 and < 65536
            ? fromEnvironment
            : throw new ArgumentException($"{GatewayVariable}='{variable}' is not a port number (1-65535).");
    }

    /// <summary>Connects an Orleans client to the gateway, runs <paramref name="action"/>, disconnects.</summary>
    public static async Task<int> WithClientAsync(int gateway, Func<IGrainFactory, Task<int>> action)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        int attempts = 0;
        builder.UseOrleansClient(client => client.UseLocalhostClustering(gateway).UseConnectionRetryFilter(async (_, cancel) =>
        {
            // A few quick retries (a cluster may still be starting), then a clear error instead of waiting for ever.
            if (++attempts >= 3)
            {
                return false;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancel);
            return true;
        }));
        using IHost host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"error: no cluster answers at gateway port {gateway} ({e.Message})");
            return 3;
        }
        try
        {
            return await action(host.Services.GetRequiredService<IClusterClient>());
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
