using System.Collections;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using ReMA.Grains.Campaigns;
using ReMA.Grains.Learning;
using ReMA.Grains.Policy;
using ReMA.Grains.Services;
using ReMA.Silo;

namespace ReMA.Grains.Tests.Azure;

/// <summary>
/// Every persisted state type survives the cluster storage's serialiser exactly: built with values that differ from
/// the initialisers (zeros, false, nulls and empty collections where an initialiser is not; distinct non-default values
/// elsewhere), written and read back through the serialiser the Azure providers are configured with, and compared
/// member by member. A serialiser that drops default values or appends to initialised collections fails here.
/// </summary>
public class StateSerializerTests
{
    /// <summary>The grain state types written to storage (one per <c>[PersistentState]</c> in src/Grains).</summary>
    public static readonly Type[] PersistedStates =
    [
        typeof(CampaignState), typeof(LearnerState), typeof(PolicyRegistryState), typeof(CampaignIndexState),
    ];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (Type type in PersistedStates)
        {
            for (int variant = 0; variant < 3; variant++)
            {
                data.Add(type.Name, variant);
            }
        }
        return data;
    }

    [Fact]
    public void EveryPersistentStateTypeIsListed()
    {
        // A new [PersistentState] parameter in the grains must add its type above.
        var found = typeof(CampaignGrain).Assembly.GetTypes()
            .SelectMany(t => t.GetConstructors())
            .SelectMany(c => c.GetParameters())
            .Where(p => p.ParameterType.IsGenericType && p.ParameterType.GetGenericTypeDefinition() == typeof(IPersistentState<>))
            .Select(p => p.ParameterType.GetGenericArguments()[0])
            .Distinct()
            .OrderBy(t => t.Name)
            .ToArray();
        Assert.Equal(PersistedStates.OrderBy(t => t.Name).Select(t => t.Name), found.Select(t => t.Name));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AzureTableAndBlobSerialisers_RoundTripEveryState(string typeName, int variant)
    {
        Type type = PersistedStates.Single(t => t.Name == typeName);
        using IHost host = BuildSiloHost();
        IGrainStorageSerializer table = host.Services.GetRequiredService<IOptionsMonitor<AzureTableStorageOptions>>()
            .Get("Default").GrainStorageSerializer;
        IGrainStorageSerializer blob = host.Services.GetRequiredService<IOptionsMonitor<AzureBlobStorageOptions>>()
            .Get(ReMAStorage.Campaigns).GrainStorageSerializer;
        Assert.NotNull(table);
        Assert.NotNull(blob);
        object original = new StateFiller(variant).Make(type);
        foreach (IGrainStorageSerializer serializer in new[] { table, blob })
        {
            object copy = RoundTrip(serializer, type, original);
            AssertDeepEqual(original, copy, type.Name);
        }
    }

    [Fact]
    public void StateWrittenByTheEarlierJsonSerialiser_IsStillRead_AndRewrittenInTheNewFormat()
    {
        using IHost host = BuildSiloHost();
        IGrainStorageSerializer legacy = host.Services.GetRequiredService<IGrainStorageSerializer>();   // Orleans' default
        IGrainStorageSerializer current = host.Services.GetRequiredService<IOptionsMonitor<AzureBlobStorageOptions>>().Get(ReMAStorage.Campaigns).GrainStorageSerializer;
        Assert.IsType<ReMA.Silo.Storage.StateSerializer>(current);
        var before = new CampaignIndexState { Names = ["first", "second"] };
        BinaryData old = legacy.Serialize(before);
        Assert.False(ReMA.Silo.Storage.StateSerializer.IsBinary(old.ToMemory().Span));
        CampaignIndexState read = current.Deserialize<CampaignIndexState>(old)!;
        Assert.Equal(["first", "second"], read.Names);
        BinaryData rewritten = current.Serialize(read);
        Assert.True(ReMA.Silo.Storage.StateSerializer.IsBinary(rewritten.ToMemory().Span));
        Assert.Equal(["first", "second"], current.Deserialize<CampaignIndexState>(rewritten)!.Names);
    }

    [Fact]
    public void TheFillerMakesValuesThatDifferFromTheInitialisers()
    {
        // The test above only proves something if variant 0 puts defaults where the initialisers are not default.
        var state = (CampaignState)new StateFiller(0).Make(typeof(CampaignState));
        Assert.Empty(state.Config!.Eval.Sets);                 // initialiser: ["test", "ood-operands"]
        Assert.False(state.Config.Sft.Enabled);                // initialiser: true
        Assert.Null(state.Config.Model.Preset);                // initialiser: "nano"
        Assert.Equal(0, state.Config.GroupSize);               // initialiser: 8
        var learner = (LearnerState)new StateFiller(0).Make(typeof(LearnerState));
        Assert.Equal(0, learner.LastStep);                     // initialiser: -1
        var rich = (CampaignState)new StateFiller(1).Make(typeof(CampaignState));
        Assert.NotEmpty(rich.History);
        Assert.NotEmpty(rich.Config!.Task.Options);
    }

    private static object RoundTrip(IGrainStorageSerializer serializer, Type type, object value)
    {
        MethodInfo serialize = typeof(IGrainStorageSerializer).GetMethod(nameof(IGrainStorageSerializer.Serialize))!.MakeGenericMethod(type);
        MethodInfo deserialize = typeof(IGrainStorageSerializer).GetMethod(nameof(IGrainStorageSerializer.Deserialize))!.MakeGenericMethod(type);
        var bytes = (BinaryData)serialize.Invoke(serializer, [value])!;
        return deserialize.Invoke(serializer, [bytes])!;
    }

    private static IHost BuildSiloHost()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(PolicyClusterFixture.Settings).Build();
        var azure = new AzureStorageSettings("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + Azurite.AccountKey
            + ";BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;", null, null);
        return Host.CreateDefaultBuilder()
            .UseOrleans(silo => silo.UseLocalhostClustering().AddReMA(configuration).AddReMAAzureStorage(azure))
            .Build();   // never started: only its services are read
    }

    /// <summary>Compares two object graphs member by member (public properties, collections element-wise).</summary>
    internal static void AssertDeepEqual(object? expected, object? actual, string path)
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {Show(expected)}, got {Show(actual)}");
            return;
        }
        Type type = expected.GetType();
        Assert.True(type == actual.GetType(), $"{path}: expected a {type.Name}, got a {actual.GetType().Name}");
        if (type.IsPrimitive || type.IsEnum || expected is string or decimal or DateTime or DateTimeOffset or TimeSpan or Guid)
        {
            Assert.True(Equals(expected, actual), $"{path}: expected {Show(expected)}, got {Show(actual)}");
            return;
        }
        if (expected is IDictionary ed)
        {
            var ad = (IDictionary)actual;
            Assert.True(ed.Count == ad.Count, $"{path}: expected {ed.Count} entries, got {ad.Count}");
            foreach (DictionaryEntry entry in ed)
            {
                Assert.True(ad.Contains(entry.Key), $"{path}: key {entry.Key} is missing");
                AssertDeepEqual(entry.Value, ad[entry.Key], $"{path}[{entry.Key}]");
            }
            return;
        }
        if (expected is IEnumerable ee)
        {
            var el = ee.Cast<object?>().ToList();
            var al = ((IEnumerable)actual).Cast<object?>().ToList();
            Assert.True(el.Count == al.Count, $"{path}: expected {el.Count} items ({string.Join(", ", el.Select(Show))}), got {al.Count} ({string.Join(", ", al.Select(Show))})");
            for (int i = 0; i < el.Count; i++)
            {
                AssertDeepEqual(el[i], al[i], $"{path}[{i}]");
            }
            return;
        }
        foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            {
                AssertDeepEqual(p.GetValue(expected), p.GetValue(actual), path + "." + p.Name);
            }
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        _ => value.ToString() ?? "?",
    };

    /// <summary>
    /// Builds an instance of a state type. Variant 0: every member at its type's default (0, false, null, empty
    /// collections), so every non-default initialiser is overridden. Variant 1: distinct non-default values and two
    /// items in every collection. Variant 2: like 1 with negative numbers, empty strings and one item per collection.
    /// </summary>
    public sealed class StateFiller(int variant)
    {
        private int counter = 1;

        public object Make(Type type) => Value(type, 0)!;

        private object? Value(Type type, int depth)
        {
            Type? nullable = Nullable.GetUnderlyingType(type);
            if (nullable is not null)
            {
                return variant == 0 ? null : Value(nullable, depth);
            }
            int n = counter++;
            if (type == typeof(string))
            {
                return variant switch { 0 => null, 1 => "s" + n, _ => n % 2 == 0 ? "" : "t" + n };
            }
            if (type == typeof(bool))
            {
                return variant != 0 && n % 2 == 1 || variant == 2;
            }
            if (type.IsEnum)
            {
                Array values = Enum.GetValues(type);
                return values.GetValue(variant == 0 ? 0 : n % values.Length);
            }
            if (type.IsPrimitive || type == typeof(decimal))
            {
                double number = variant switch { 0 => 0, 1 => n + 0.5, _ => -n - 0.25 };
                if (type == typeof(float) || type == typeof(double) || type == typeof(decimal))
                {
                    return Convert.ChangeType(number, type, System.Globalization.CultureInfo.InvariantCulture);
                }
                return Convert.ChangeType(Math.Truncate(number), type, System.Globalization.CultureInfo.InvariantCulture);
            }
            if (type == typeof(DateTimeOffset))
            {
                return variant == 0 ? default : new DateTimeOffset(2026, 1, 1 + n % 28, 0, 0, 0, TimeSpan.Zero);
            }
            if (type == typeof(DateTime))
            {
                return variant == 0 ? default : new DateTime(2026, 1, 1 + n % 28, 0, 0, 0, DateTimeKind.Utc);
            }
            if (type == typeof(TimeSpan))
            {
                return variant == 0 ? default : TimeSpan.FromSeconds(n);
            }
            if (type == typeof(Guid))
            {
                return variant == 0 ? Guid.Empty : new Guid(n, 0, 0, new byte[8]);
            }
            if (depth > 8)
            {
                return null;
            }
            int items = variant switch { 0 => 0, 1 => 2, _ => 1 };
            if (type.IsArray)
            {
                Type element = type.GetElementType()!;
                var array = Array.CreateInstance(element, items);
                for (int i = 0; i < items; i++)
                {
                    array.SetValue(Value(element, depth + 1), i);
                }
                return array;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() is Type g && (g == typeof(Dictionary<,>) || g == typeof(IReadOnlyDictionary<,>) || g == typeof(IDictionary<,>)))
            {
                Type[] args = type.GetGenericArguments();
                var dictionary = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args))!;
                for (int i = 0; i < items; i++)
                {
                    object key = Value(args[0], depth + 1) ?? ("k" + counter++);
                    if (!dictionary.Contains(key))
                    {
                        dictionary[key] = Value(args[1], depth + 1);
                    }
                }
                return dictionary;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() is Type l && (l == typeof(List<>) || l == typeof(IReadOnlyList<>) || l == typeof(IList<>) || l == typeof(IEnumerable<>)))
            {
                Type element = type.GetGenericArguments()[0];
                var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
                for (int i = 0; i < items; i++)
                {
                    list.Add(Value(element, depth + 1));
                }
                return list;
            }
            if (variant == 0 && depth > 0 && !type.IsValueType)
            {
                // Nested objects stay present in variant 0 (so their members are tested) except where the member is
                // nullable-annotated and its initialiser is null anyway; a null object is covered by the top levels.
            }
            ConstructorInfo? empty = type.GetConstructor(Type.EmptyTypes);
            object instance;
            if (empty is not null)
            {
                instance = empty.Invoke(null);
            }
            else
            {
                ConstructorInfo ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
                instance = ctor.Invoke(ctor.GetParameters().Select(p => Value(p.ParameterType, depth + 1)).ToArray());
            }
            foreach (PropertyInfo p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (p.CanWrite && p.GetIndexParameters().Length == 0 && p.SetMethod!.IsPublic && empty is not null)
                {
                    p.SetValue(instance, Value(p.PropertyType, depth + 1));
                }
            }
            return instance;
        }
    }
}
