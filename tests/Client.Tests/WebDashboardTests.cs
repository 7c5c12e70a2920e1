using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using ReMA.Abstractions.Campaigns;
using ReMA.Grains.Storage;
using ReMA.Silo;
using ReMA.Silo.Web;
using Spectre.Console;

namespace ReMA.Client.Tests;

/// <summary>A silo with the web server on free loopback ports and an API key (so mutating calls need it, reads do not).</summary>
public sealed class WebSilo : IAsyncLifetime
{
    public const string Key = "test-key-0123456789";
    private WebApplication? _app;

    public string Url { get; private set; } = "";

    /// <summary>The silo's gateway port, for CLI commands run with --gateway.</summary>
    public int Gateway { get; private set; }

    public IGrainFactory Grains => _app!.Services.GetRequiredService<IGrainFactory>();

    /// <summary>A free loopback port below the ephemeral range (<see cref="ReMA.Tests.Shared.FreePorts.Next"/>).</summary>
    public static int FreePort() => ReMA.Tests.Shared.FreePorts.Next();

    public async Task InitializeAsync()
    {
        int web = FreePort();
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["ReMA:Web:Port"] = web.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Configuration["ReMA:Web:ApiKey"] = Key;
        Gateway = FreePort();
        builder.AddReMAEmbeddedSilo(FreePort(), Gateway);
        builder.AddReMAWeb();
        _app = builder.Build();
        _app.MapReMAWeb();
        await _app.StartAsync();
        Url = $"http://127.0.0.1:{web}/";
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    public HttpClient Client(bool withKey)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(2) };
        if (withKey)
        {
            client.DefaultRequestHeaders.Add(WebSettings.HeaderName, Key);
        }
        return client;
    }

    public static CampaignConfig Nano(string name, int steps) => new()
    {
        Name = name,
        Task = new TaskSpec { Options = new() { ["train_size"] = "20", ["eval_size"] = "4", ["prompts"] = "none" } },
        GroupSize = 2,
        PromptsPerStep = 2,
        Steps = steps,
        Limits = new LimitsSpec { MaxTurns = 2, MaxTokensPerTurn = 8, MaxContextTokens = 1000, StopWhenTruncated = false },
        Sft = new SftSpec { Demonstrations = 4, Epochs = 1, BatchRows = 16 },
        Eval = new EvalSpec { Sets = ["test"], Interval = 5, MaxProblems = 2 },
        Monitor = new MonitorSpec { TurnsFraction = 0.01 },   // every step warns: the page must show it
    };

    public async Task StartAsync(CampaignConfig config)
    {
        using HttpClient client = Client(withKey: true);
        using var response = await client.PostAsync("api/campaigns", new StringContent(CampaignFile.Write(config)));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public async Task<JsonElement> WaitAsync(string name, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        using HttpClient client = Client(withKey: false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            JsonElement history = await client.GetFromJsonAsync<JsonElement>($"api/campaigns/{name}/history");
            if (done(history))
            {
                return history;
            }
            Assert.True(clock.Elapsed < timeout, $"campaign {name} did not get there in {timeout}: {history}");
            await Task.Delay(200);
        }
    }

    private Task<string>? _finished;

    /// <summary>
    /// Campaigns the page's tests look at, started once: '&lt;prefix&gt;-10', completed, 3 steps of 11 prompts x 2 samples
    /// (22 episodes a step, ids up to p10), and '&lt;prefix&gt;-2', cancelled as it started. Returns the prefix.
    /// </summary>
    public Task<string> FinishedAsync() => _finished ??= StartFinishedAsync();

    private async Task<string> StartFinishedAsync()
    {
        string prefix = "web-end-" + Guid.NewGuid().ToString("N")[..6];
        await StartAsync(Nano(prefix + "-10", 3) with { PromptsPerStep = 11 });
        await StartAsync(Nano(prefix + "-2", 3));
        using (HttpClient writer = Client(withKey: true))
        {
            using var cancel = await writer.PostAsync($"api/campaigns/{prefix}-2/cancel", null);
            Assert.Equal("cancelled", (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }
        await WaitAsync(prefix + "-10", h => h.GetProperty("status").GetString() == "completed", TimeSpan.FromMinutes(4));
        return prefix;
    }
}

public class WebDashboardTests(WebSilo silo) : IClassFixture<WebSilo>
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    [Fact]
    public void Settings_RequireAKeyBeyondLoopback_AndCheckIt()
    {
        IConfiguration Config(params (string, string)[] pairs) => new ConfigurationBuilder().AddInMemoryCollection(pairs.ToDictionary(p => p.Item1, p => (string?)p.Item2)).Build();
        var missing = Assert.Throws<ArgumentException>(() => WebSettings.From(Config(("ReMA:Web:Host", "0.0.0.0")), 8080));
        Assert.Contains("ReMA:Web:ApiKey is required when ReMA:Web:Host is '0.0.0.0'", missing.Message);
        var bad = Assert.Throws<ArgumentException>(() => WebSettings.From(Config(("ReMA:Web:Port", "http"), ("ReMA:Web:Host", "example.org"), ("ReMA:Web:ApiKey", "short")), 8080));
        Assert.Contains("ReMA:Web:Port must be a port number", bad.Message);
        Assert.Contains("ReMA:Web:Host must be an IP address", bad.Message);
        Assert.Contains("ReMA:Web:ApiKey must be at least 16 characters (got 5)", bad.Message);
        Assert.DoesNotContain("short", bad.Message.Replace("(got 5)", ""), StringComparison.Ordinal);

        var open = WebSettings.From(Config(), 8080);
        Assert.True(open.Loopback && open.Allows(mutating: true, null) && open.Allows(mutating: false, null));
        var wide = WebSettings.From(Config(("ReMA:Web:Host", "*"), ("ReMA:Web:ApiKey", WebSilo.Key)), 8080);
        Assert.False(wide.Allows(mutating: false, null));
        Assert.False(wide.Allows(mutating: false, "wrong-key-0123456789"));
        Assert.True(wide.Allows(mutating: false, WebSilo.Key) && wide.Allows(mutating: true, WebSilo.Key));
        Assert.False(WebSettings.From(Config(("ReMA:Web:Port", "0")), 8080).Enabled);
    }

    [Fact]
    public async Task Api_ServesEveryEndpoint_AndRejectsBadInput()
    {
        string name = "web-api-" + Guid.NewGuid().ToString("N")[..6];
        using HttpClient reader = silo.Client(withKey: false), writer = silo.Client(withKey: true);

        // Mutating calls without the key are refused before anything runs.
        using (var refused = await reader.PostAsync("api/campaigns", new StringContent(CampaignFile.Write(WebSilo.Nano(name, 3)))))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("needs the API key", await refused.Content.ReadAsStringAsync());
        }
        using (var wrong = new HttpRequestMessage(HttpMethod.Post, $"api/campaigns/{name}/pause"))
        {
            wrong.Headers.Add(WebSettings.HeaderName, "wrong-key-0123456789");
            using var response = await reader.SendAsync(wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"api/campaigns/{name}")).StatusCode);

        await silo.StartAsync(WebSilo.Nano(name, 3));
        JsonElement history = await silo.WaitAsync(name, h => h.GetProperty("status").GetString() == "completed", TimeSpan.FromMinutes(3));
        Assert.Equal(3, history.GetProperty("steps").GetArrayLength());
        Assert.True(history.GetProperty("evaluations").GetArrayLength() >= 1);
        JsonElement step = history.GetProperty("steps")[0];
        Assert.Contains(step.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("near max_turns", StringComparison.Ordinal));
        foreach (string field in new[] { "rewardMean", "accuracy", "finishReasons", "turnsPerEpisode", "tokensPerTurn", "repetitionRate", "emptyTurnRate",
            "withinTurnRepetitionRate", "noGuidanceRate", "learners", "rolloutTokensPerSecond" })
        {
            Assert.True(step.TryGetProperty(field, out _), $"history step lacks {field}");
        }

        JsonElement list = await reader.GetFromJsonAsync<JsonElement>("api/campaigns");
        Assert.Contains(list.EnumerateArray(), c => c.GetProperty("name").GetString() == name && c.GetProperty("status").GetString() == "completed");
        JsonElement one = await reader.GetFromJsonAsync<JsonElement>($"api/campaigns/{name}");
        Assert.Equal(name, one.GetProperty("config").GetProperty("name").GetString());

        EpisodePage page = (await reader.GetFromJsonAsync<EpisodePage>($"api/campaigns/{name}/episodes?eval=false&sort=reward&desc=true&pageSize=5&page=2", Web))!;
        Assert.Equal(12, page.Total);                 // 3 steps x 2 prompts x 2 episodes
        Assert.Equal(3, page.Pages);
        Assert.Equal(5, page.Episodes.Count);
        Assert.All(page.Episodes, e => Assert.False(e.Evaluation));

        string id = page.Episodes[0].EpisodeId;
        ReplayEpisode episode = (await reader.GetFromJsonAsync<ReplayEpisode>($"api/episodes/{id}", Web))!;
        Assert.Equal(id, episode.EpisodeId);
        Assert.True(episode.Turns.Count >= 2);
        Assert.All(episode.Turns, t => Assert.NotEmpty(t.Tokens));

        using (var fork = await writer.PostAsJsonAsync($"api/episodes/{id}/fork", new { turn = 1, seed = 5, temperature = 0.7 }))
        {
            string text = await fork.Content.ReadAsStringAsync();
            Assert.True(fork.IsSuccessStatusCode, text);
            JsonElement result = JsonDocument.Parse(text).RootElement;
            Assert.Equal(0.7, result.GetProperty("temperature").GetDouble(), 3);
            JsonElement transcript = result.GetProperty("outcome").GetProperty("transcript");
            Assert.Equal(episode.Turns[0].Text, transcript[0].GetProperty("text").GetString());
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await reader.PostAsJsonAsync($"api/episodes/{id}/fork", new { turn = 1 })).StatusCode);

        // Control on a completed campaign changes nothing and says so.
        using (var pause = await writer.PostAsync($"api/campaigns/{name}/pause", null))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            Assert.Equal("completed", (await pause.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }
        using (var resume = await writer.PostAsync($"api/campaigns/{name}/resume", null))
        {
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
            Assert.Equal("completed", (await resume.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }

        // Rejected input, each named.
        async Task Rejected(HttpResponseMessage response, HttpStatusCode code, string message)
        {
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == code, $"{response.RequestMessage!.RequestUri}: {(int)response.StatusCode} {body}");
            Assert.Contains(message, body);
        }
        await Rejected(await reader.GetAsync($"api/campaigns/{name}/episodes?pageSize=1000"), HttpStatusCode.BadRequest, "--page-size must be between 1 and 500 (got 1000)");
        await Rejected(await reader.GetAsync($"api/campaigns/{name}/episodes?step=abc&minReward=x"), HttpStatusCode.BadRequest, "step 'abc' is not a valid int64; minReward 'x' is not a valid double");
        await Rejected(await reader.GetAsync("api/campaigns/.hidden/episodes"), HttpStatusCode.BadRequest, "campaign name '.hidden' must be");
        await Rejected(await reader.GetAsync("api/campaigns/a%2F..%2F..%2Fetc/history"), HttpStatusCode.BadRequest, "must be 1-100 letters");
        await Rejected(await reader.GetAsync("api/episodes/..%2F..%2Fetc%2Fpasswd"), HttpStatusCode.BadRequest, "is not one a campaign stores");
        await Rejected(await reader.GetAsync($"api/episodes/{name}-s99-p0-e0"), HttpStatusCode.NotFound, "is not stored");
        await Rejected(await reader.GetAsync("api/episodes/nobody-s1-p0-e0"), HttpStatusCode.NotFound, "no campaign 'nobody'");
        await Rejected(await writer.PostAsJsonAsync($"api/episodes/{id}/fork", new { turn = 99 }), HttpStatusCode.BadRequest, "fork: turn 99 is outside episode");
        await Rejected(await writer.PostAsJsonAsync($"api/episodes/{id}/fork", new { turn = 1, temperature = -1 }), HttpStatusCode.BadRequest, "temperature must be between 0 and 10");
        await Rejected(await writer.PostAsync("api/campaigns", new StringContent("{\"name\": \"bad name!\", \"group_size\": 0}")), HttpStatusCode.BadRequest, "name: 'bad name!'");
        await Rejected(await writer.PostAsync("api/campaigns", new StringContent("not json")), HttpStatusCode.BadRequest, "request body");
        await Rejected(await writer.PostAsync("api/campaigns/nobody/cancel", null), HttpStatusCode.NotFound, "no campaign 'nobody'");

        // The page and the Orleans dashboard; nothing else of the file system is served.
        Assert.Contains("<title>ReMA dashboard</title>", await reader.GetStringAsync(""));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("dashboard/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("appsettings.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync("../../etc/passwd")).StatusCode);
    }

    /// <summary>Headless Chromium on the dashboard (opened with the API key), collecting the page's console errors.</summary>
    private sealed class Dashboard : IAsyncDisposable
    {
        public static readonly string Artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName;
        private readonly IPlaywright _playwright;
        private readonly IBrowser _browser;

        private Dashboard(IPlaywright playwright, IBrowser browser, IPage page)
        {
            (_playwright, _browser, Page) = (playwright, browser, page);
            page.Console += (_, message) =>
            {
                if (message.Type == "error")
                {
                    ConsoleErrors.Add(message.Text);
                }
            };
        }

        public IPage Page { get; }

        public List<string> ConsoleErrors { get; } = [];

        public static async Task<Dashboard> OpenAsync(WebSilo silo)
        {
            IPlaywright playwright = await Playwright.CreateAsync();
            IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            var dashboard = new Dashboard(playwright, browser, await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1100 } }));
            await dashboard.Page.GotoAsync(silo.Url + "?key=" + WebSilo.Key);
            return dashboard;
        }

        public async ValueTask DisposeAsync()
        {
            await _browser.DisposeAsync();
            _playwright.Dispose();
        }

        /// <summary>Picks a campaign and waits until the page shows it with this status.</summary>
        public async Task SelectAsync(string campaign, string status)
        {
            await Page.ClickAsync($"#campaigns tr[data-name='{campaign}']");
            await Page.WaitForFunctionAsync($"() => document.getElementById('campaign-name').textContent === '{campaign}' && document.getElementById('campaign-status').textContent === '{status}'");
        }

        /// <summary>The campaign controls the page shows, in page order.</summary>
        public async Task<string[]> VisibleControls() =>
            [.. await Page.Locator("#pause, #resume, #cancel").EvaluateAllAsync<string[]>("bs => bs.filter(b => b.checkVisibility()).map(b => b.id)")];

        /// <summary>The ids of the episode table's rows, in order.</summary>
        public async Task<string[]> EpisodeRows() =>
            [.. await Page.Locator("#episodes tbody tr.pick").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.id)")];

        /// <summary>Searches the episodes of one step (the filters otherwise as they are).</summary>
        public async Task SearchStepAsync(long step)
        {
            await Page.FillAsync("#filters input[name='step']", step.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Page.ClickAsync("#filters button[type='submit']");
        }

        /// <summary>The progress text, the x axes' labels of the reward and evaluation charts ("first..last") and the warning line, read at one moment.</summary>
        public Task<JsonElement> ShownSteps() => Page.EvaluateAsync<JsonElement>("""
            () => {
              const axis = title => {
                const labels = [...document.querySelectorAll(`#charts .chart[data-title='${title}'] svg text`)].map(t => t.textContent);
                return labels.length === 4 ? labels[2] + '..' + labels[3] : null;   // y top, y bottom, x first, x last
              };
              return { progress: document.getElementById('campaign-progress').textContent, reward: axis('reward'),
                evaluation: axis('greedy accuracy per evaluation set'), warning: document.getElementById('warning').textContent };
            }
            """);
    }

    [Fact]
    public async Task Browser_WatchesACampaignLive_OpensAnEpisode_StepsThroughTurns_AndForks()
    {
        string name = "web-ui-" + Guid.NewGuid().ToString("N")[..6];
        await silo.StartAsync(WebSilo.Nano(name, 400));
        await silo.WaitAsync(name, h => h.GetProperty("steps").GetArrayLength() >= 2, TimeSpan.FromMinutes(3));
        string artifacts = Dashboard.Artifacts;

        await using Dashboard dashboard = await Dashboard.OpenAsync(silo);
        IPage page = dashboard.Page;
        await page.ClickAsync($"#campaigns tr[data-name='{name}']");
        ILocator reward = page.Locator("#charts polyline[data-series='mean reward']");
        // Attached, not visible: a flat series (reward 0 throughout) is a line of zero height.
        await reward.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached, Timeout = 60_000 });
        int first = int.Parse((await reward.GetAttributeAsync("data-count"))!, System.Globalization.CultureInfo.InvariantCulture);
        // The charts follow the running campaign (the page polls every 2 s).
        await page.WaitForFunctionAsync($"() => Number(document.querySelector(\"#charts polyline[data-series='mean reward']\").getAttribute('data-count')) > {first}",
            null, new PageWaitForFunctionOptions { Timeout = 60_000 });
        Assert.Equal(11, await page.Locator("#charts .chart").CountAsync());
        Assert.True(await page.Locator("#charts .chart[data-title='policy loss'] polyline").CountAsync() >= 1);

        // The charts put each step at the number of steps done after it, the count the progress text shows, from one refresh.
        JsonElement shown = await dashboard.ShownSteps();
        string done = System.Text.RegularExpressions.Regex.Match(shown.GetProperty("progress").GetString()!, @"^(\d+) of 400 steps done,").Groups[1].Value;
        Assert.Equal("1.." + done, shown.GetProperty("reward").GetString());
        // The warning names the step by its id (from 0, as the CLI, history and episode ids do): the last one done.
        Assert.Contains($"possible collapse at step {int.Parse(done, System.Globalization.CultureInfo.InvariantCulture) - 1}:", shown.GetProperty("warning").GetString());

        // A running campaign can be paused or cancelled, not resumed.
        Assert.Equal(["pause", "cancel"], await dashboard.VisibleControls());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "dashboard.png"), FullPage = true });

        // The episode table shows the latest step's episodes without a search: the step filter is set to it.
        await page.Locator("#episodes tbody tr.pick").First.WaitForAsync();
        string latest = await page.InputValueAsync("#filters input[name='step']");
        Assert.True(long.Parse(latest, System.Globalization.CultureInfo.InvariantCulture) >= 1, $"step filter '{latest}'");
        Assert.All(await page.Locator("#episodes tbody tr.pick td:nth-child(2)").AllTextContentsAsync(), step => Assert.EndsWith(" " + latest, " " + step));

        // Episode browser -> replay viewer.
        await page.SelectOptionAsync("#filters select[name='eval']", "false");
        await page.ClickAsync("#filters button[type='submit']");
        await page.WaitForFunctionAsync("() => { const steps = [...document.querySelectorAll('#episodes tbody tr.pick td:nth-child(2)')]; return steps.length > 0 && steps.every(s => !s.textContent.startsWith('eval')); }");
        await page.Locator("#episodes tbody tr.pick").First.ClickAsync();
        await page.Locator("#replay").WaitForAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('turn-label').textContent.startsWith('turn 1/')");
        Assert.True(await page.Locator("#dialogue .current .tok span").CountAsync() > 0);
        await page.ClickAsync("#turn-next");
        Assert.StartsWith("turn 2/", await page.Locator("#turn-label").TextContentAsync());
        Assert.Equal(2, await page.Locator("#dialogue .turn").CountAsync());
        await page.CheckAsync("#show-view");
        Assert.Contains("<|im_start|>", await page.Locator("#dialogue .current").TextContentAsync());
        await page.UncheckAsync("#show-view");
        await page.FillAsync("#fork-seed", "11");
        await page.ClickAsync("#fork");
        await page.Locator("#fork-result .chart").Nth(1).WaitForAsync(new LocatorWaitForOptions { Timeout = 120_000 });
        Assert.Contains("fork T=", await page.Locator("#fork-result").TextContentAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "dashboard-replay.png"), FullPage = true });
        Assert.Equal("", (await page.Locator("#error").TextContentAsync())?.Trim());

        // Pause and cancel from the page; each status shows only the controls it allows.
        await page.ClickAsync("#pause");
        await page.WaitForFunctionAsync("() => document.getElementById('campaign-status').textContent === 'paused'", null,
            new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Equal(["resume", "cancel"], await dashboard.VisibleControls());
        await page.ClickAsync("#cancel");
        await page.WaitForFunctionAsync("() => document.getElementById('campaign-status').textContent === 'cancelled'", null,
            new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Empty(await dashboard.VisibleControls());
        await silo.WaitAsync(name, h => h.GetProperty("status").GetString() == "cancelled", TimeSpan.FromMinutes(1));
        Assert.Empty(dashboard.ConsoleErrors);

        // The terminal replay of the same episode, recorded and rendered for the README.
        string id = (await page.Locator("#replay-id").TextContentAsync())!;
        using HttpClient client = silo.Client(withKey: true);
        ReplayEpisode episode = (await client.GetFromJsonAsync<ReplayEpisode>($"api/episodes/{id}", Web))!;
        var recorder = new Recorder(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(new StringWriter()), ColorSystem = ColorSystemSupport.TrueColor }));
        var session = new ReplaySession(episode, async turn =>
        {
            using var response = await client.PostAsJsonAsync($"api/episodes/{id}/fork", new { turn, seed = 11 });
            return (await response.Content.ReadFromJsonAsync<Abstractions.Episodes.ForkResult>(Web))!;
        }, recorder);
        await session.HandleAsync("n");
        await session.HandleAsync("f");
        session.Render();
        string html = recorder.ExportHtml();
        Assert.Contains("original", html);
        Assert.Contains("fork", html);
        await page.SetContentAsync($"<html><body style='background:#0c0c0c;color:#ccc;margin:12px'>{html}</body></html>");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts, "replay-terminal.png"), FullPage = true });
        if (Environment.GetEnvironmentVariable("REMA_SCREENSHOTS") is string folder)
        {
            Directory.CreateDirectory(folder);
            foreach (string file in new[] { "dashboard.png", "dashboard-replay.png", "replay-terminal.png" })
            {
                File.Copy(Path.Combine(artifacts, file), Path.Combine(folder, file), overwrite: true);
            }
        }
    }

    [Fact]
    public async Task Browser_ShowsOnlyTheControlsACampaignsStatusAllows()
    {
        string prefix = await silo.FinishedAsync();
        await using Dashboard dashboard = await Dashboard.OpenAsync(silo);
        // A running campaign's (pause, cancel) and a paused one's (resume, cancel) are checked live in the test above.
        await dashboard.SelectAsync(prefix + "-2", "cancelled");
        Assert.Empty(await dashboard.VisibleControls());
        await dashboard.SelectAsync(prefix + "-10", "completed");
        Assert.Empty(await dashboard.VisibleControls());
        Assert.Empty(dashboard.ConsoleErrors);
    }

    [Fact]
    public async Task Browser_PickingACampaign_ShowsItsLatestStepsEpisodes()
    {
        string name = await silo.FinishedAsync() + "-10";
        await using Dashboard dashboard = await Dashboard.OpenAsync(silo);
        await dashboard.SelectAsync(name, "completed");
        await dashboard.Page.Locator("#episodes tbody tr.pick").First.WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });
        Assert.Equal("2", await dashboard.Page.InputValueAsync("#filters input[name='step']"));   // steps 0, 1, 2 as stored
        Assert.Equal("22 episodes, page 1 of 2", await dashboard.Page.Locator("#episode-count").TextContentAsync());
        Assert.All(await dashboard.EpisodeRows(), id => Assert.StartsWith(name + "-s2-", id));
        Assert.Empty(dashboard.ConsoleErrors);
    }

    [Fact]
    public async Task Browser_SortsCampaignNamesAndEpisodeIdsNaturally_AcrossTheTablesPages()
    {
        string prefix = await silo.FinishedAsync(), name = prefix + "-10";
        await using Dashboard dashboard = await Dashboard.OpenAsync(silo);
        IPage page = dashboard.Page;
        await page.Locator($"#campaigns tr[data-name='{name}']").WaitForAsync();
        List<string> names = [.. await page.Locator("#campaigns tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.name)")];
        Assert.True(names.IndexOf(prefix + "-2") < names.IndexOf(name), string.Join(", ", names));

        // 22 episodes a step: the first page holds p0..p9, the second p10 (as text, p10 sorts before p2).
        string[] Ids(params int[] prompts) => [.. prompts.SelectMany(p => new[] { $"{name}-s2-p{p}-e0", $"{name}-s2-p{p}-e1" })];
        await dashboard.SelectAsync(name, "completed");
        await dashboard.SearchStepAsync(2);
        await page.WaitForFunctionAsync("() => document.getElementById('episode-count').textContent === '22 episodes, page 1 of 2'");
        Assert.Equal(Ids([.. Enumerable.Range(0, 10)]), await dashboard.EpisodeRows());
        await page.ClickAsync("#next-page");
        await page.WaitForFunctionAsync("() => document.getElementById('episode-count').textContent.endsWith('page 2 of 2')");
        Assert.Equal(Ids(10), await dashboard.EpisodeRows());

        await page.SelectOptionAsync("#filters select[name='sort']", "id");
        await page.CheckAsync("#filters input[name='desc']");
        await page.ClickAsync("#filters button[type='submit']");
        await page.WaitForFunctionAsync("() => document.getElementById('episode-count').textContent.endsWith('page 1 of 2')");
        string[] descending = await dashboard.EpisodeRows();
        Assert.Equal(Ids(9, 10).Reverse(), descending.Take(4));
        Assert.Empty(dashboard.ConsoleErrors);
    }

    [Fact]
    public async Task Browser_ChartsCountStepsFromOne_AsTheProgressText()
    {
        string name = await silo.FinishedAsync() + "-10";
        await using Dashboard dashboard = await Dashboard.OpenAsync(silo);
        await dashboard.SelectAsync(name, "completed");
        JsonElement shown = await dashboard.ShownSteps();
        Assert.StartsWith("3 of 3 steps done,", shown.GetProperty("progress").GetString());
        Assert.Equal("1..3", shown.GetProperty("reward").GetString());
        Assert.Equal("0..3", shown.GetProperty("evaluation").GetString());   // before training and after the 3rd step
        Assert.Contains("possible collapse at step 2:", shown.GetProperty("warning").GetString());   // step ids from 0, as everywhere
        Assert.Equal("3/3", await dashboard.Page.Locator($"#campaigns tr[data-name='{name}'] td:nth-child(3)").TextContentAsync());
        Assert.Empty(dashboard.ConsoleErrors);
    }

    [Fact]
    public async Task Browser_Replay_KeepsControlTokensOutOfTurnText_AndDimsThemInTheTokenAndRoleViews()
    {
        string name = await silo.FinishedAsync() + "-10", id = name + "-s2-p0-e1";
        await using Dashboard dashboard = await Dashboard.OpenAsync(silo);
        IPage page = dashboard.Page;
        // Served with the turn-end token at the end of every turn's text and tokens, as a model's turn that stopped has it.
        await page.RouteAsync($"**/api/episodes/{id}", async route =>
        {
            IAPIResponse response = await route.FetchAsync();
            var replay = System.Text.Json.Nodes.JsonNode.Parse(await response.TextAsync())!;
            foreach (var t in replay["turns"]!.AsArray())
            {
                t!["text"] = t["text"]!.GetValue<string>() + "<|im_end|>";
                t["tokens"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject { ["id"] = 2, ["text"] = "<|im_end|>", ["logProb"] = -0.05 });
            }
            await route.FulfillAsync(new RouteFulfillOptions { Response = response, Body = replay.ToJsonString() });
        });
        await dashboard.SelectAsync(name, "completed");
        await dashboard.SearchStepAsync(2);
        await page.ClickAsync($"#episodes tr[data-id='{id}']");
        await page.WaitForFunctionAsync("() => document.getElementById('turn-label').textContent.startsWith('turn 1/')");
        await page.ClickAsync("#turn-next");
        Assert.StartsWith("turn 2/", await page.Locator("#turn-label").TextContentAsync());
        Assert.DoesNotContain("<|", await page.Locator("#dialogue .turn[data-turn='0']").TextContentAsync());
        IReadOnlyList<string> special = await page.Locator("#dialogue .current .tok span.special").AllTextContentsAsync();
        Assert.Equal("<|im_end|>", special[^1]);
        Assert.All(special, token => Assert.Matches(@"^<\|\w+\|>$", token));
        Assert.Equal(0, await page.Locator("#dialogue .current .tok span:not(.special)").Filter(new LocatorFilterOptions { HasText = "<|" }).CountAsync());
        await page.CheckAsync("#show-view");
        Assert.Contains("<|im_start|>", await page.Locator("#dialogue .current .special").AllTextContentsAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Dashboard.Artifacts, "dashboard-finished.png"), FullPage = true });
        Assert.Equal("", (await page.Locator("#error").TextContentAsync())?.Trim());
        Assert.Empty(dashboard.ConsoleErrors);
    }
}
