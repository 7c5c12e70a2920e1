using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ReMA.Abstractions.Campaigns;

/// <summary>
/// Checks a settings document against the type it is read into before System.Text.Json reads it (which stops at the
/// first error): every unknown field and every value of the wrong type, each by its path (<c>eval.sets[1]</c>). What
/// it keeps is the document without those fields, so the rest can still be read (the bad fields keep their defaults)
/// and checked for meaning in the same report.
/// </summary>
internal sealed class SettingsShape(JsonSerializerOptions options)
{
    private readonly NullabilityInfoContext _nullability = new();
    private readonly bool _strict = options.UnmappedMemberHandling == JsonUnmappedMemberHandling.Disallow;

    /// <summary>One line per bad field: its path, then what is wrong.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>The paths of <see cref="Errors"/>, in order.</summary>
    public List<string> Paths { get; } = [];

    /// <summary>The document's object with the bad fields left out (<paramref name="root"/> must be an object).</summary>
    public JsonObject Check(JsonElement root, Type type)
    {
        Visit(root, type, nullable: false, null, "", out JsonNode? kept);
        return kept as JsonObject ?? [];
    }

    /// <summary>Whether <paramref name="e"/> fits <paramref name="type"/>; <paramref name="kept"/> is the part of it to read.</summary>
    private bool Visit(JsonElement e, Type type, bool nullable, NullabilityInfo? info, string path, out JsonNode? kept)
    {
        kept = null;
        if (Nullable.GetUnderlyingType(type) is Type inner)
        {
            type = inner;
            nullable = true;
        }
        Shape shape = ShapeOf(type, out Type? element);
        if (e.ValueKind == JsonValueKind.Null)
        {
            return nullable || shape == Shape.Any || Fail(path, $"expected {Expected(type, shape)}, got null");
        }
        switch (shape)
        {
            case Shape.Any:
                kept = Copy(e);
                return type == typeof(JsonObject) ? e.ValueKind == JsonValueKind.Object || Fail(path, $"expected an object, got {Got(e)}")
                    : type == typeof(JsonArray) ? e.ValueKind == JsonValueKind.Array || Fail(path, $"expected a list, got {Got(e)}")
                    : true;
            case Shape.List:
                if (e.ValueKind != JsonValueKind.Array)
                {
                    return Fail(path, $"expected {Expected(type, shape)}, got {Got(e)}");
                }
                var list = new JsonArray();
                NullabilityInfo? elementInfo = info?.ElementType ?? (info?.GenericTypeArguments is [NullabilityInfo one] ? one : null);
                bool ok = true;
                int i = 0;
                foreach (JsonElement item in e.EnumerateArray())
                {
                    ok &= Visit(item, element!, IsNullable(element!, elementInfo), elementInfo, $"{path}[{i++}]", out JsonNode? node);
                    list.Add(node);
                }
                kept = list;
                return ok;   // a list with a bad item is left out whole: the field keeps its default
            case Shape.Dictionary:
                if (e.ValueKind != JsonValueKind.Object)
                {
                    return Fail(path, $"expected {Expected(type, shape)}, got {Got(e)}");
                }
                var map = new JsonObject();
                NullabilityInfo? valueInfo = info?.GenericTypeArguments is [_, NullabilityInfo second] ? second : null;
                bool good = true;
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    good &= Visit(p.Value, element!, IsNullable(element!, valueInfo), valueInfo, Join(path, p.Name), out JsonNode? node);
                    map[p.Name] = node;
                }
                kept = map;
                return good;
            case Shape.Object:
                if (e.ValueKind != JsonValueKind.Object)
                {
                    return Fail(path, $"expected an object, got {Got(e)}");
                }
                Dictionary<string, PropertyInfo> fields = Fields(type);
                var obj = new JsonObject();
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    string field = Join(path, p.Name);
                    if (!fields.TryGetValue(p.Name, out PropertyInfo? property))
                    {
                        if (_strict)
                        {
                            Fail(field, Unknown(p.Name, fields.Keys));
                        }
                        continue;
                    }
                    NullabilityInfo propertyInfo = _nullability.Create(property);
                    bool canBeNull = Nullable.GetUnderlyingType(property.PropertyType) is not null
                        || (!property.PropertyType.IsValueType && propertyInfo.WriteState != NullabilityState.NotNull);
                    if (Visit(p.Value, property.PropertyType, canBeNull, propertyInfo, field, out JsonNode? node))
                    {
                        obj[p.Name] = node;   // a repeated name: the last one counts, as when the serializer reads it
                    }
                    else
                    {
                        obj.Remove(p.Name);
                    }
                }
                kept = obj;
                return true;   // its bad fields are left out; the object itself is read
            default:
                try
                {
                    e.Deserialize(type, options);
                }
                catch (Exception x) when (x is JsonException or InvalidOperationException or NotSupportedException or FormatException)
                {
                    return Fail(path, $"expected {Expected(type, shape)}, got {Got(e)}");
                }
                kept = Copy(e);
                return true;
        }
    }

    private bool Fail(string path, string message)
    {
        Paths.Add(path);
        Errors.Add($"{path}: {message}");
        return false;
    }

    private enum Shape
    {
        Value,
        Any,
        List,
        Dictionary,
        Object,
    }

    private static Shape ShapeOf(Type type, out Type? element)
    {
        element = null;
        if (type == typeof(object) || typeof(JsonNode).IsAssignableFrom(type) || type == typeof(JsonElement))
        {
            return Shape.Any;
        }
        if (type == typeof(string) || type.IsPrimitive || type.IsEnum || type == typeof(decimal))
        {
            return Shape.Value;
        }
        if (type.IsArray)
        {
            element = type.GetElementType();
            return Shape.List;
        }
        if (type.IsGenericType)
        {
            Type definition = type.GetGenericTypeDefinition();
            Type[] arguments = type.GetGenericArguments();
            if (arguments.Length == 2 && arguments[0] == typeof(string)
                && (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>)))
            {
                element = arguments[1];
                return Shape.Dictionary;
            }
            if (arguments.Length == 1 && typeof(IEnumerable).IsAssignableFrom(type))
            {
                element = arguments[0];
                return Shape.List;
            }
        }
        return type.IsClass && type.GetConstructor(Type.EmptyTypes) is not null ? Shape.Object : Shape.Value;
    }

    private static bool IsNullable(Type type, NullabilityInfo? info) =>
        Nullable.GetUnderlyingType(type) is not null || (!type.IsValueType && info?.ReadState == NullabilityState.Nullable);

    /// <summary>The fields a type reads, by their names in the file.</summary>
    private Dictionary<string, PropertyInfo> Fields(Type type)
    {
        var fields = new Dictionary<string, PropertyInfo>(StringComparer.Ordinal);
        foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod?.IsPublic != true || p.GetIndexParameters().Length > 0 || p.GetCustomAttribute<JsonIgnoreAttribute>() is not null)
            {
                continue;
            }
            string name = p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? options.PropertyNamingPolicy?.ConvertName(p.Name) ?? p.Name;
            fields[name] = p;
        }
        return fields;
    }

    private static string Join(string path, string name)
    {
        bool plain = name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
        return plain ? (path.Length == 0 ? name : $"{path}.{name}") : $"{path}[{JsonSerializer.Serialize(name)}]";
    }

    private static string Unknown(string name, IEnumerable<string> known)
    {
        var ordered = known.Order(StringComparer.Ordinal).ToList();
        string? close = ordered.Select(k => (Name: k, Distance: Distance(name, k)))
            .Where(k => k.Distance <= Math.Max(2, name.Length / 3)).OrderBy(k => k.Distance).Select(k => k.Name).FirstOrDefault();
        return close is not null ? $"unknown field (did you mean '{close}'?)" : $"unknown field (fields here: {string.Join(", ", ordered)})";
    }

    /// <summary>Edits (insert, delete, replace, swap of neighbours) between two names.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }

    private static string Expected(Type type, Shape shape) => shape switch
    {
        Shape.List => "a list",
        Shape.Dictionary => "an object of names to values",
        Shape.Object => "an object",
        _ when type == typeof(string) => "a string",
        _ when type == typeof(bool) => "true or false",
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) || type == typeof(ulong) => "an integer",
        _ when type == typeof(float) || type == typeof(double) || type == typeof(decimal) => "a number",
        _ => $"a {type.Name}",
    };

    /// <summary>What the file gave, briefly: <c>string "eight"</c>, <c>number 1.5</c>, <c>a list</c>.</summary>
    public static string Got(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"string {JsonSerializer.Serialize(Shorten(e.GetString() ?? ""))}",
        JsonValueKind.Number => $"number {e.GetRawText()}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : $"{s[..37]}...";

    /// <summary>A JSON element as a node (a repeated name in an object: the last one counts).</summary>
    private static JsonNode? Copy(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    obj[p.Name] = Copy(p.Value);
                }
                return obj;
            case JsonValueKind.Array:
                return new JsonArray([.. e.EnumerateArray().Select(Copy)]);
            case JsonValueKind.Null:
                return null;
            default:
                return JsonNode.Parse(e.GetRawText());
        }
    }
}
