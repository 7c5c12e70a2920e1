using System.Net;
using Microsoft.Extensions.Configuration;

namespace ReMA.Silo.Web;

/// <summary>
/// Where the silo's web dashboard and JSON API listen (ReMA:Web:Host, ReMA:Web:Port; port 0 turns them off) and the
/// API key (ReMA:Web:ApiKey). Loopback by default. Beyond loopback a key is required: every call must carry it
/// (header X-Api-Key, or ?key= for a page opened in a browser, which then keeps it in a cookie); on loopback only mutating calls need it, when one is set.
/// </summary>
public sealed record WebSettings(string Host, int Port, string? ApiKey)
{
    public const string HeaderName = "X-Api-Key";
    public const int MinimumKeyLength = 16;

    public bool Loopback => Host == "localhost" || (IPAddress.TryParse(Host, out IPAddress? address) && IPAddress.IsLoopback(address));

    public bool Enabled => Port > 0;

    /// <summary>The settings, with every problem named at once (the key's value is never echoed).</summary>
    public static WebSettings From(IConfiguration configuration, int defaultPort)
    {
        string host = configuration["ReMA:Web:Host"] ?? "127.0.0.1";
        string? portText = configuration["ReMA:Web:Port"];
        string? key = configuration["ReMA:Web:ApiKey"];
        var errors = new List<string>();
        int port = defaultPort;
        if (portText is not null && (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port > 65535))
        {
            errors.Add($"ReMA:Web:Port must be a port number 0-65535, 0 to turn the web server off (got '{portText}')");
        }
        if (host != "localhost" && host != "*" && !IPAddress.TryParse(host, out _))
        {
            errors.Add($"ReMA:Web:Host must be an IP address, 'localhost' or '*' for every address (got '{host}')");
        }
        var settings = new WebSettings(host, port, string.IsNullOrEmpty(key) ? null : key);
        if (key is not null && key.Length < MinimumKeyLength)
        {
            errors.Add($"ReMA:Web:ApiKey must be at least {MinimumKeyLength} characters (got {key.Length})");
        }
        if (settings.Enabled && !settings.Loopback && settings.ApiKey is null)
        {
            errors.Add($"ReMA:Web:ApiKey is required when ReMA:Web:Host is '{host}' (beyond loopback)");
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException("web: " + string.Join("; ", errors) + ".");
        }
        return settings;
    }

    public IPAddress Address => Host switch
    {
        "*" => IPAddress.Any,
        "localhost" => IPAddress.Loopback,
        _ => IPAddress.Parse(Host),
    };

    /// <summary>Whether a request that does (or does not) change anything may go ahead with the key it presents.</summary>
    public bool Allows(bool mutating, string? presented)
    {
        bool needsKey = !Loopback || (mutating && ApiKey is not null);
        if (!needsKey)
        {
            return true;
        }
        if (ApiKey is null || presented is null)
        {
            return false;
        }
        byte[] a = System.Text.Encoding.UTF8.GetBytes(ApiKey), b = System.Text.Encoding.UTF8.GetBytes(presented);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(a, b);
    }

    public override string ToString() => $"http://{Host}:{Port}/ (api key {(ApiKey is null ? "not set" : "set")})";
}
