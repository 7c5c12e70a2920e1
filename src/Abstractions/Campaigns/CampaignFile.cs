using System.Text.Json;
using System.Text.Json.Serialization;

namespace ReMA.Abstractions.Campaigns;

/// <summary>
/// Reads and writes campaign files (JSON, snake_case names). Every unknown field, every value of the wrong type and every
/// meaningless setting is reported at once, by its path, in one error that names the file.
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

    /// <summary>
    /// Reads and validates a campaign file's JSON. <paramref name="more"/> adds checks the configuration alone cannot make
    /// (for example that the task has the evaluation sets named), reported in the same error as the file's own.
    /// </summary>
    public static CampaignConfig Parse(string json, string source, Func<CampaignConfig, IEnumerable<string>>? more = null) =>
        Read<CampaignConfig>(json, source, Options, "the campaign settings",
            c => more is null ? CampaignConfigValidation.Errors(c) : [.. CampaignConfigValidation.Errors(c), .. more(c)]);

    /// <summary>
    /// Reads a settings file's JSON into <typeparamref name="T"/>: a syntax error, or every unknown field and value of the
    /// wrong type at once, becomes an <see cref="ArgumentException"/> naming <paramref name="source"/> and each field's path.
    /// </summary>
    public static T Deserialize<T>(string json, string source, JsonSerializerOptions options, string what) where T : class =>
        Read<T>(json, source, options, what, null);

    /// <summary>
    /// The shape of the document is checked first, every bad field by its path; the rest is then read (the bad fields keep
    /// their defaults) and its meaning checked by <paramref name="meaning"/>, so that one error lists them all. A meaning
    /// error about a field that was already reported (or one inside it) is left out: it would be about the default.
    /// </summary>
    private static T Read<T>(string json, string source, JsonSerializerOptions options, string what, Func<T, IEnumerable<string>>? meaning) where T : class
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions
            {
                CommentHandling = options.ReadCommentHandling == JsonCommentHandling.Disallow ? JsonCommentHandling.Disallow : JsonCommentHandling.Skip,
                AllowTrailingCommas = options.AllowTrailingCommas,
                MaxDepth = options.MaxDepth,
            });
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{source}: not valid JSON ({Describe(e)})", e);
        }
        T? value;
        var shape = new SettingsShape(options);
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"{source}: expected a JSON object with {what}" + (root.ValueKind == JsonValueKind.Null ? "." : $" (got {SettingsShape.Got(root)})."));
            }
            System.Text.Json.Nodes.JsonObject kept = shape.Check(root, typeof(T));
            try
            {
                value = kept.Deserialize<T>(options);
            }
            catch (JsonException e)
            {
                // The shape check should have caught it; report it like the others all the same.
                string field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "(document)" : e.Path.TrimStart('$', '.');
                shape.Errors.Add($"{field}: {Describe(e)}");
                value = null;
            }
        }
        List<string> errors = shape.Errors;
        if (value is not null && meaning is not null)
        {
            errors.AddRange(meaning(value).Where(m => !shape.Paths.Any(p => Within(m, p))));
        }
        if (errors.Count > 0)
        {
            throw new ArgumentException(CampaignConfigValidation.Report(source, errors));
        }
        return value ?? throw new ArgumentException($"{source}: expected a JSON object with {what}.");
    }

    /// <summary>Whether the error <paramref name="error"/> ("path: message") is about <paramref name="path"/> or a field inside it.</summary>
    private static bool Within(string error, string path) =>
        error.StartsWith(path, StringComparison.Ordinal) && error.Length > path.Length && error[path.Length] is ':' or '.' or '[';

    public static CampaignConfig Load(string path, Func<CampaignConfig, IEnumerable<string>>? more = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: campaign file not found.", path);
        }
        string text = File.ReadAllText(path);
        return path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)
            ? ParseYaml(text, path, more)
            : Parse(text, path, more);
    }

    /// <summary>
    /// A YAML campaign file: converted to the equivalent JSON (plain scalars that read as numbers, booleans or null
    /// become those; quoted scalars stay strings), then read exactly as a JSON file, with the same field-named errors.
    /// </summary>
    public static CampaignConfig ParseYaml(string yaml, string source, Func<CampaignConfig, IEnumerable<string>>? more = null) =>
        Parse(YamlToJson(yaml, source), source, more);

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
    public static CampaignConfig Merge(CampaignConfig config, System.Text.Json.Nodes.JsonObject? changes, string source, Func<CampaignConfig, IEnumerable<string>>? more = null)
    {
        if (changes is null || changes.Count == 0)
        {
            return config;
        }
        var merged = System.Text.Json.Nodes.JsonNode.Parse(Write(config))!.AsObject();
        MergeInto(merged, changes);
        return Parse(merged.ToJsonString(), source, more);
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
