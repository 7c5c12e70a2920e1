using System.Text.Json;
using System.Text.Json.Serialization;

namespace ReMA.Abstractions.Campaigns;

/// <summary>
/// Reads and writes campaign files (JSON, snake_case names). Unknown fields and values of the wrong type are errors
/// that name the file and the field; the configuration is then validated as a whole.
/// </summary>
public static class CampaignFile
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    public static CampaignConfig Parse(string json, string source)
    {
        CampaignConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<CampaignConfig>(json, Options);
        }
        catch (JsonException e)
        {
            string field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path.TrimStart('$', '.')}";
            throw new ArgumentException($"{source}{field}: {Describe(e)}", e);
        }
        if (config is null)
        {
            throw new ArgumentException($"{source}: expected a JSON object with the campaign settings.");
        }
        CampaignConfigValidation.ThrowIfInvalid(config, source);
        return config;
    }

    public static CampaignConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: campaign file not found.", path);
        }
        return Parse(File.ReadAllText(path), path);
    }

    public static string Write(CampaignConfig config) => JsonSerializer.Serialize(config, Options);

    private static string Describe(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
