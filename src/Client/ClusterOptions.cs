using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ReMA.Silo;

namespace ReMA.Client;

/// <summary>
/// A running cluster the CLI talks to: a silo gateway on this machine, or the silos listed in an Azure membership table.
/// </summary>
internal sealed record ClusterTarget(int? Gateway, AzureStorageSettings? Azure, string ClusterId, string ServiceId, TlsSettings? Tls = null)
{
    public override string ToString() => Gateway is int port ? $"gateway port {port}" : $"cluster {ClusterId} through {Azure}";
}

/// <summary>
/// How the CLI reaches a running cluster: <c>--gateway PORT</c> or the REMA_GATEWAY environment variable (a silo
/// gateway on this machine, e.g. the standalone silo's 30000); otherwise the Azure membership table named by the
/// silo's own settings in the environment (REMA__Azure__ConnectionString, REMA__Cluster__ClusterId/ServiceId). Without
/// any of these, commands work on the local runs/ folder.
/// </summary>
internal static class ClusterOptions
{
    public const string GatewayVariable = "REMA_GATEWAY";

    public static Option<int?> Gateway() => new("--gateway")
    {
        Description = $"Gateway port of a running cluster on this machine (default: ${GatewayVariable}; none: the local runs/ folder)",
    };

    public static Option<bool> Json() => new("--json") { Description = "Machine-readable JSON output" };

    /// <param name="environment">Settings to read instead of the process environment (tests).</param>
    public static ClusterTarget? Resolve(ParseResult parse, Option<int?> option, IConfiguration? environment = null)
    {
        environment ??= new ConfigurationBuilder().AddEnvironmentVariables().Build();
        ClusterSettings ids = ClusterSettings.From(environment, 11111, 30000);
        TlsSettings? tls = TlsSettings.From(environment);
        if (parse.GetValue(option) is int port)
        {
            return new ClusterTarget(port, null, ids.ClusterId, ids.ServiceId, tls);
        }
        string? variable = environment[GatewayVariable];
        if (!string.IsNullOrWhiteSpace(variable))
        {
            return int.TryParse(variable, out int fromEnvironment) && fromEnvironment is > 0 and < 65536
                ? new ClusterTarget(fromEnvironment, null, ids.ClusterId, ids.ServiceId, tls)
                : throw new ArgumentException($"{GatewayVariable}='{variable}' is not a port number (1-65535).");
        }
        return AzureStorageSettings.From(environment) is AzureStorageSettings azure
            ? new ClusterTarget(null, azure, ids.ClusterId, ids.ServiceId, tls)
            : null;
    }

    /// <summary>Connects an Orleans client to the gateway, runs <paramref name="action"/>, disconnects.</summary>
    /// <param name="json">Errors as a JSON object on standard output (<c>--json</c>) instead of a line on standard error.</param>
    public static async Task<int> WithClientAsync(ClusterTarget target, Func<IGrainFactory, Task<int>> action, bool json = false)
    {
        var builder = Host.CreateApplicationBuilder();
        // The Orleans client's own warnings (connection attempts, a gateway gone during a failover) go to the log file only.
        builder.AddReMALogging(LogConsole.ErrorsOnly, "client");
        int attempts = 0;
        builder.UseOrleansClient(client => (target.Tls is TlsSettings tls ? client.UseReMATls(tls) : client)
            .UseReMAClustering(target).UseConnectionRetryFilter(async (_, cancel) =>
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
            CliError.Write(json, $"no cluster answers at {target} ({e.Message.Split('\n')[0].Trim()}; details in {SiloHosting.LogFolder(builder.Configuration)}/)");
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

    private static IClientBuilder UseReMAClustering(this IClientBuilder client, ClusterTarget target) => target.Gateway is int gateway
        ? client.UseLocalhostClustering(gateway, target.ServiceId, target.ClusterId)
        : client.UseReMAAzureClustering(target.Azure!, target.ClusterId, target.ServiceId);

    private static IClientBuilder UseReMATls(this IClientBuilder client, TlsSettings tls)
    {
        var certificate = tls.Load();
        return client.UseTls(certificate, o => TlsSettings.Configure(o, certificate));
    }
}

/// <summary>How a command reports an error: "error: ..." on standard error, or with --json {"error": "..."} on standard output.</summary>
internal static class CliError
{
    public static void Write(bool json, string message)
    {
        if (json)
        {
            Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { error = message }));
        }
        else
        {
            Console.Error.WriteLine($"error: {message}");
        }
    }
}
