using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using ReMA.Grains.Placement;
using ReMA.Grains.Policy;
using ReMA.Grains.Storage;
using ReMA.Silo.Storage;
using ReMA.Grains.Services;

namespace ReMA.Silo;

/// <summary>How a ReMA silo is configured; shared by the standalone silo, the embedded silo of the CLI and tests.</summary>
public static class ReMASiloExtensions
{
    /// <summary>Each policy's ReMA:Policies:&lt;id&gt;:TokenizerWords, checked as the character tokenizer checks them; a failure names the policy and the word.</summary>
    private sealed class TokenizerWordsValidation : IValidateOptions<PolicyCatalogOptions>
    {
        public ValidateOptionsResult Validate(string? name, PolicyCatalogOptions options)
        {
            var failures = new List<string>();
            foreach ((string id, PolicySource source) in options.Policies)
            {
                try
                {
                    _ = new ReMA.Learner.Tokenization.CharTokenizer(words: ReMA.Learner.Tokenization.CharTokenizer.ParseWords(source.TokenizerWords));
                }
                catch (ArgumentException e)
                {
                    failures.Add($"ReMA:Policies:{id}:TokenizerWords: {e.Message}");
                }
            }
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }

    /// <summary>Binds the ReMA settings (section "ReMA": policies and their models) for the grains.</summary>
    public static ISiloBuilder AddReMA(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<PolicyCatalogOptions>()
            .Bind(configuration.GetSection(PolicyCatalogOptions.Section))
            .Validate(o => o.Policies.Values.All(p => p.MaxBatch > 0), "ReMA:Policies:<id>:MaxBatch must be positive.")
            .Validate(o => o.Policies.Values.All(p => ReMA.Learner.Tokenization.ChatMarkups.All.Contains(p.ChatMarkup)),
                "ReMA:Policies:<id>:ChatMarkup must be chatml or compact.")
            .Validate(o => o.Policies.Values.All(p => p.ComputeThreads is >= 0 and <= 1024),
                "ReMA:Policies:<id>:ComputeThreads must be 0 (automatic) or a thread count up to 1024.");
        silo.Services.AddSingleton<IValidateOptions<PolicyCatalogOptions>, TokenizerWordsValidation>();
        // Torch's intra-op threads (process-wide). Default: one per core. In a cluster of several silos per machine,
        // or to leave a core to the Orleans scheduler and networking, set ReMA:Torch:Threads (REMA__Torch__Threads).
        int threads = configuration.GetValue("ReMA:Torch:Threads", 0);
        if (threads < 0 || threads > 4 * Environment.ProcessorCount)
        {
            throw new ArgumentException($"ReMA:Torch:Threads must be between 0 (one per core) and {4 * Environment.ProcessorCount} (got {threads}).");
        }
        // Compute threads of small models' engines and learners are set per thread from this default (ComputeThreads).
        ReMA.Learner.Runtime.ComputeThreads.Initialize(threads > 0 ? threads : TorchSharp.torch.get_num_threads());
        // Roles of this silo (rollout, learner, all), advertised as silo metadata for the placement filters.
        string roles = SiloRoles.Parse(configuration["ReMA:Silo:Roles"]);
        silo.UseSiloMetadata(new Dictionary<string, string> { [SiloRoles.MetadataKey] = roles });
        silo.Services.AddPlacementFilter<SiloRoleFilterStrategy, SiloRoleFilterDirector>(ServiceLifetime.Singleton);
        // Episodes under runs/<campaign>/trajectories and checkpoints where the learner saves them; AddReMAAzureStorage
        // replaces both with Blob storage in a cluster.
        silo.Services.AddSingleton<ITrajectoryStore>(_ => new LocalTrajectoryStore(RunsFolder(configuration)));
        silo.Services.AddSingleton<ICheckpointStore>(new LocalCheckpointStore());
        silo.Services.AddOptions<ReMA.Grains.Campaigns.CampaignLoopOptions>()
            .Bind(configuration.GetSection(ReMA.Grains.Campaigns.CampaignLoopOptions.Section))
            .Validate(o => o.StorageLossSeconds > 0, "ReMA:Campaigns:StorageLossSeconds must be a positive number of seconds.");
        silo.Services.AddSingleton<TaskCache>();
        silo.Services.AddSingleton<PolicyTemplates>();
        silo.Services.AddSingleton<PolicySources>();
        return silo;
    }

    /// <summary>Where episodes are stored without Azure settings (ReMA:Runs:Folder).</summary>
    public static string RunsFolder(IConfiguration configuration) => configuration["ReMA:Runs:Folder"] ?? "runs";

    /// <summary>Where a silo keeps checkpoints fetched from Blob storage (ReMA:Checkpoints:Cache).</summary>
    public static string CheckpointCache(IConfiguration configuration) => configuration["ReMA:Checkpoints:Cache"] ?? DefaultCheckpointCache;

    /// <summary>How long a cached campaign may go unused before it is pruned: ReMA:Checkpoints:CacheUnusedHours (default 6).</summary>
    public static CheckpointCachePolicy CachePolicy(IConfiguration configuration)
    {
        double hours = configuration.GetValue("ReMA:Checkpoints:CacheUnusedHours", 6.0);
        return hours > 0 ? new CheckpointCachePolicy { DropUnusedAfter = TimeSpan.FromHours(hours) }
            : throw new ArgumentException($"ReMA:Checkpoints:CacheUnusedHours must be a positive number of hours (got {hours}).");
    }

    public static string DefaultCheckpointCache => Path.Combine(Path.GetTempPath(), "rema-checkpoints");

    /// <summary>
    /// A ReMA silo configured from settings. The embedded default: a single silo with localhost clustering, in-memory
    /// grain state and reminders (or grain state in a local folder when ReMA:Storage:Folder is set, e.g.
    /// REMA__Storage__Folder=state, so a restarted silo continues). With ReMA:Azure:ConnectionString (or the two
    /// service URIs) it joins a cluster through Azure Table membership, keeps grain state in Azure Table and Blob
    /// storage and reminders in Azure Table storage, with identity and endpoints from ReMA:Cluster:* (ClusterId,
    /// ServiceId, SiloPort, GatewayPort, AdvertisedAddress; loopback unless configured).
    /// </summary>
    public static IHostApplicationBuilder AddReMAEmbeddedSilo(this IHostApplicationBuilder builder, int siloPort = 11111, int gatewayPort = 30000)
    {
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Polly", LogLevel.Warning);   // two lines per grain placement at Information
        builder.Logging.AddFilter("Azure", LogLevel.Warning);
        string? folder = builder.Configuration["ReMA:Storage:Folder"];
        AzureStorageSettings? azure = AzureStorageSettings.From(builder.Configuration);
        ClusterSettings cluster = ClusterSettings.From(builder.Configuration, siloPort, gatewayPort);
        TlsSettings? tls = TlsSettings.From(builder.Configuration);
        builder.UseOrleans(silo =>
        {
            silo.AddReMA(builder.Configuration);
            if (tls is not null)
            {
                var certificate = tls.Load();
                silo.UseTls(certificate, o => TlsSettings.Configure(o, certificate));
            }
            if (azure is not null)
            {
                silo.UseReMAAzureClustering(azure, cluster).AddReMAAzureStorage(azure, CheckpointCache(builder.Configuration), CachePolicy(builder.Configuration));
                return;
            }
            silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId)
                .UseInMemoryReminderService();
            if (string.IsNullOrWhiteSpace(folder))
            {
                silo.AddReMAMemoryStorage();
            }
            else
            {
                silo.AddReMAFileStorage(folder);
            }
        });
        return builder;
    }
}
