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
        CampaignConfig config = Deserialize<CampaignConfig>(json, source, Options, "the campaign settings");
        CampaignConfigValidation.ThrowIfInvalid(config, source);
        return config;
    }

    /// <summary>
    /// Reads a settings file's JSON into <typeparamref name="T"/>; a syntax error, an unknown field or a value of the
    /// wrong type becomes an <see cref="ArgumentException"/> naming <paramref name="source"/> and the field's path.
    /// </summary>
    public static T Deserialize<T>(string json, string source, JsonSerializerOptions options, string what) where T : class
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize<T>(json, options);
        }
        catch (JsonException e)
        {
            string field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path.TrimStart('$', '.')}";
            throw new ArgumentException($"{source}{field}: {Describe(e)}", e);
        }
        return value ?? throw new ArgumentException($"{source}: expected a JSON object with {what}.");
    }

    public static CampaignConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: campaign file not found.", path);
        }
        string text = File.ReadAllText(path);
        return path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
            ? ParseYaml(text, path)
            : Parse(text, path);
    }

    /// <summary>
    /// A YAML campaign file: converted to the equivalent JSON (plain scalars that read as numbers, booleans or null
    /// become those; quoted scalars stay strings), then read exactly as a JSON file, with the same field-named errors.
    /// </summary>
    public static CampaignConfig ParseYaml(string yaml, string source) => Parse(YamlToJson(yaml, source), source);

    /// <summary>
    /// One YAML document as JSON text (plain scalars that read as numbers, booleans or null become those; quoted scalars
    /// stay strings), so that YAML files are read exactly as JSON files, with the same field-named errors.
    /// </summary>
    public static string YamlToJson(string yaml, string source)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ArgumentException($"{source}: not valid YAML at line {e.Start.Line}, column {e.Start.Column} ({e.Message}).", e);
        }
        if (stream.Documents.Count != 1)
        {
            throw new ArgumentException($"{source}: expected one YAML document (found {stream.Documents.Count}).");
        }
        System.Text.Json.Nodes.JsonNode? json = ToJson(stream.Documents[0].RootNode, source);
        return json?.ToJsonString() ?? "null";
    }

    /// <summary>
    /// <paramref name="config"/> with <paramref name="changes"/> (a partial campaign file) merged onto it: objects merge
    /// field by field, anything else replaces; the result is read and validated like a file, errors naming <paramref name="source"/>.
    /// </summary>
    public static CampaignConfig Merge(CampaignConfig config, System.Text.Json.Nodes.JsonObject? changes, string source)
    {
        if (changes is null || changes.Count == 0)
        {
            return config;
        }
        var merged = System.Text.Json.Nodes.JsonNode.Parse(Write(config))!.AsObject();
        MergeInto(merged, changes);
        return Parse(merged.ToJsonString(), source);
    }

    private static void MergeInto(System.Text.Json.Nodes.JsonObject target, System.Text.Json.Nodes.JsonObject changes)
    {
        foreach ((string key, System.Text.Json.Nodes.JsonNode? value) in changes)
        {
            if (value is System.Text.Json.Nodes.JsonObject inner && target[key] is System.Text.Json.Nodes.JsonObject existing)
            {
                MergeInto(existing, inner);
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }

    private static System.Text.Json.Nodes.JsonNode? ToJson(YamlDotNet.RepresentationModel.YamlNode node, string source)
    {
        switch (node)
        {
            case YamlDotNet.RepresentationModel.YamlMappingNode map:
                var obj = new System.Text.Json.Nodes.JsonObject();
                foreach (var (key, value) in map.Children)
                {
                    string name = (key as YamlDotNet.RepresentationModel.YamlScalarNode)?.Value
                        ?? throw new ArgumentException($"{source}: line {key.Start.Line}: mapping keys must be plain names.");
                    obj[name] = ToJson(value, source);
                }
                return obj;
            case YamlDotNet.RepresentationModel.YamlSequenceNode list:
                return new System.Text.Json.Nodes.JsonArray([.. list.Children.Select(c => ToJson(c, source))]);
            case YamlDotNet.RepresentationModel.YamlScalarNode scalar:
                string text = scalar.Value ?? "";
                if (scalar.Style != YamlDotNet.Core.ScalarStyle.Plain)
                {
                    return System.Text.Json.Nodes.JsonValue.Create(text);
                }
                if (text is "" or "~" or "null")
                {
                    return null;
                }
                if (text is "true" or "false")
                {
                    return System.Text.Json.Nodes.JsonValue.Create(text == "true");
                }
                if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long integer))
                {
                    return System.Text.Json.Nodes.JsonValue.Create(integer);
                }
                if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double number))
                {
                    return System.Text.Json.Nodes.JsonValue.Create(number);
                }
                return System.Text.Json.Nodes.JsonValue.Create(text);
            default:
                throw new ArgumentException($"{source}: line {node.Start.Line}: unsupported YAML node.");
        }
    }

    public static string Write(CampaignConfig config) => JsonSerializer.Serialize(config, Options);

    private static string Describe(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
