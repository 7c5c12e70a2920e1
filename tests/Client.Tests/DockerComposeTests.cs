using Microsoft.Extensions.Configuration;
using ReMA.Grains.Placement;
using ReMA.Silo;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace ReMA.Client.Tests;

/// <summary>docker-compose.yml sets only settings the application reads, with valid values, and runs commands that exist.</summary>
public class DockerComposeTests
{
    private static string RepositoryFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, name);
            if (File.Exists(path) && File.Exists(Path.Combine(dir.FullName, "ReMA.sln")))
            {
                return path;
            }
        }
        throw new FileNotFoundException($"{name} not found above {AppContext.BaseDirectory}");
    }

    private static Dictionary<string, Dictionary<object, object>> Services()
    {
        using var reader = new StreamReader(RepositoryFile("docker-compose.yml"));
        // Merge keys (<<: *storage) are resolved as docker compose resolves them.
        var document = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return ((Dictionary<object, object>)document["services"]).ToDictionary(kv => (string)kv.Key, kv => (Dictionary<object, object>)kv.Value);
    }

    private static Dictionary<string, string> Environment(Dictionary<object, object> service) =>
        service.TryGetValue("environment", out object? env)
            ? ((Dictionary<object, object>)env).ToDictionary(kv => (string)kv.Key, kv => (string)kv.Value)
            : [];

    [Fact]
    public void EveryVariable_IsASettingTheApplicationReads_AndTheReadmeDocuments()
    {
        string readme = File.ReadAllText(RepositoryFile("README.md"));
        var services = Services();
        Assert.Equal(["azurite", "client", "silo1", "silo2", "silo3"], services.Keys.OrderBy(k => k));
        foreach ((string name, var service) in services.Where(s => s.Key != "azurite"))
        {
            foreach (string variable in Environment(service).Keys)
            {
                Assert.True(SettingsCatalog.IsKnown(variable), $"{name}: {variable} is not a setting the silo or client reads");
                string last = variable.Split("__")[^1];
                Assert.True(readme.Contains($"`{last}`", StringComparison.Ordinal) || readme.Contains($":{last}`", StringComparison.Ordinal),
                    $"{name}: {variable} is not in the README's settings table");
            }
        }
        foreach (string key in SettingsCatalog.Keys)
        {
            string last = key.Split(':')[^1];
            Assert.True(readme.Contains($"`{last}`", StringComparison.Ordinal) || readme.Contains($":{last}`", StringComparison.Ordinal) || readme.Contains($"`{key}`", StringComparison.Ordinal),
                $"README does not document {key}");
        }
        Assert.False(SettingsCatalog.IsKnown("ReMA__Cluster__SiloPrt"));
    }

    [Fact]
    public void SiloSettings_ParseIntoAnAzureClusterWithRoles_AndTheClientFindsIt()
    {
        var services = Services();
        var roles = new List<string>();
        foreach (string name in new[] { "silo1", "silo2", "silo3" })
        {
            IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(
                Environment(services[name]).Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value))).Build();
            AzureStorageSettings? azure = AzureStorageSettings.From(configuration);
            Assert.NotNull(azure);
            Assert.Contains("TableEndpoint=http://azurite:10002/", azure.ConnectionString, StringComparison.Ordinal);
            Assert.Equal(name, configuration["ReMA:Cluster:AdvertisedHost"]);
            Assert.Equal("true", configuration["ReMA:Cluster:ListenOnAnyAddress"]);
            roles.Add(SiloRoles.Parse(configuration["ReMA:Silo:Roles"]));
        }
        Assert.Contains(roles, r => SiloRoles.Takes(r, SiloRoles.Learner));
        Assert.All(roles, r => Assert.True(SiloRoles.Takes(r, SiloRoles.Rollout)));
        // The client sees the same storage and cluster id, so it finds the silos through the membership table.
        Assert.Equal(Environment(services["silo1"])["ReMA__Azure__ConnectionString"], Environment(services["client"])["ReMA__Azure__ConnectionString"]);
        Assert.Equal(Environment(services["silo1"])["ReMA__Cluster__ClusterId"], Environment(services["client"])["ReMA__Cluster__ClusterId"]);
    }

    [Fact]
    public void EveryServiceCommand_Exists()
    {
        var services = Services();
        string dockerfile = File.ReadAllText(RepositoryFile(Path.Combine("docker", "Dockerfile")));
        foreach (string name in new[] { "silo1", "silo2", "silo3", "client" })
        {
            var build = (Dictionary<object, object>)services[name]["build"];
            Assert.Equal("docker/Dockerfile", build["dockerfile"]);
            Assert.Contains($" AS {build["target"]}", dockerfile, StringComparison.Ordinal);
        }
        // The images run the published silo and client: their assembly names are rema-silo and rema.
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/rema-silo.dll\"]", dockerfile, StringComparison.Ordinal);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/rema.dll\"]", dockerfile, StringComparison.Ordinal);
        Assert.Equal("rema-silo", typeof(SettingsCatalog).Assembly.GetName().Name);
        Assert.Equal("rema", typeof(Cli).Assembly.GetName().Name);
        // The client's command is a rema command with options it accepts.
        var command = ((List<object>)services["client"]["command"]).Cast<string>().ToArray();
        var parse = Cli.Root().Parse(command);
        Assert.Empty(parse.Errors);
        Assert.Equal("train", parse.CommandResult.Command.Name);
        // Azurite's command starts its services on all interfaces of its container.
        var azurite = ((List<object>)services["azurite"]["command"]).Cast<string>().ToArray();
        Assert.Equal("azurite", azurite[0]);
        Assert.Contains("--tableHost", azurite);
    }
}
