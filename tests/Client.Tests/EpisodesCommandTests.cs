using System.Net.Http.Json;
using System.Text.Json;
using Orleans.Core.Internal;
using ReMA.Abstractions.Campaigns;
using ReMA.Grains.Storage;

namespace ReMA.Client.Tests;

/// <summary><c>rema episodes</c> against a cluster and without one, beside <c>rema search</c> and the web API.</summary>
[Collection("console")]
public class EpisodesCommandTests(WebSilo silo) : IClassFixture<WebSilo>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private static async Task<string[]> Listed(params string[] args)
    {
        (int code, string output) = await CliRunner.RunAsync(args);
        Assert.True(code == 0, $"rema {string.Join(' ', args)}: exit {code}: {output}");
        return [.. JsonSerializer.Deserialize<EpisodeSummary[]>(output)!.Select(e => e.EpisodeId).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Episodes_ListsAnyStepFromStorage_AfterTheCampaignLostItsActivation_NumberedAsSearchAndTheApi()
    {
        string name = "eps-" + Guid.NewGuid().ToString("N")[..8];
        string gateway = silo.Gateway.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await silo.StartAsync(WebSilo.Nano(name, steps: 6) with
        {
            Sft = new SftSpec { Enabled = false },
            Eval = new EvalSpec { Sets = ["test"], Interval = 100, MaxProblems = 2 },
            Monitor = new MonitorSpec(),
        });
        await silo.WaitAsync(name, h => h.GetProperty("status").GetString() == "completed", TimeSpan.FromMinutes(3));
        // As after a failover: whatever the campaign's activation held is gone.
        await silo.Grains.GetGrain<ICampaignGrain>(name).AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Task.Delay(300);

        using HttpClient reader = silo.Client(withKey: false);
        foreach (long step in new long[] { 0, 1, 5 })   // steps 0 and 1 are older than the last four
        {
            string n = step.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string[] viaCluster = await Listed("episodes", name, "--step", n, "--gateway", gateway, "--json");
            Assert.Equal(4, viaCluster.Length);
            Assert.All(viaCluster, id => Assert.StartsWith($"{name}-s{step}-p", id));
            Assert.Equal(viaCluster, await Listed("episodes", name, "--step", n, "--json"));   // the store under runs/, no cluster

            (int searchCode, string searched) = await CliRunner.RunAsync("search", name, "--step", n, "--eval", "false", "--json");
            Assert.True(searchCode == 0, searched);
            EpisodePage search = JsonSerializer.Deserialize<EpisodePage>(searched)!;
            Assert.Equal(viaCluster, search.Episodes.Select(e => e.EpisodeId).Order(StringComparer.Ordinal));
            EpisodePage api = (await reader.GetFromJsonAsync<EpisodePage>($"api/campaigns/{name}/episodes?step={n}&eval=false", Web))!;
            Assert.Equal(viaCluster, api.Episodes.Select(e => e.EpisodeId).Order(StringComparer.Ordinal));
        }

        // Without --step: the latest step; with --show alone: the episode's own step.
        Assert.All(await Listed("episodes", name, "--gateway", gateway, "--json"), id => Assert.StartsWith($"{name}-s5-p", id));
        Assert.All(await Listed("episodes", name, "--json"), id => Assert.StartsWith($"{name}-s5-p", id));
        (int showCode, string shown) = await CliRunner.RunAsync("episodes", name, "--show", $"{name}-s0-p1-e0", "--gateway", gateway);
        Assert.True(showCode == 0, shown);
        Assert.Contains("[round 0] meta (v0", shown);

        // A step without episodes is an error that names the valid steps.
        (int outside, string outsideText) = await CliRunner.RunAsync("episodes", name, "--step", "6", "--gateway", gateway);
        Assert.Equal(1, outside);
        Assert.Contains($"campaign '{name}' has no stored episodes at step 6 (steps are 0-based; its completed steps are 0-5)", outsideText);
        (int outsideLocal, string outsideLocalText) = await CliRunner.RunAsync("episodes", name, "--step", "6");
        Assert.Equal(1, outsideLocal);
        Assert.Contains("its stored steps are 0-5", outsideLocalText);
        (int negative, string negativeText) = await CliRunner.RunAsync("episodes", name, "--step", "-1", "--gateway", gateway);
        Assert.Equal(2, negative);
        Assert.Contains("--step counts from 0 (got -1)", negativeText);
        (int unknown, string unknownText) = await CliRunner.RunAsync("episodes", "no-such-campaign");
        Assert.Equal(1, unknown);
        Assert.Contains("no stored episodes of campaign 'no-such-campaign'", unknownText);
    }

    [Fact]
    public void Ranges_JoinConsecutiveSteps() =>
        Assert.Equal("0-3, 5, 7-8", CampaignCommands.Ranges([0, 1, 2, 3, 5, 7, 8]));
}
