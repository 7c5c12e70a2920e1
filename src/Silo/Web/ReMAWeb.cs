using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Grains.Campaigns;
using ReMA.Grains.Episodes;
using ReMA.Grains.Storage;

namespace ReMA.Silo.Web;

/// <summary>Body of POST /api/episodes/{id}/fork.</summary>
public sealed record ForkBody(int Turn, float? Temperature = null, long? Version = null, ulong? Seed = null);

/// <summary>
/// The silo's web server (ASP.NET Core in the silo's own host): the dashboard page at /, a JSON API under /api that the
/// page and scripts share, and the Orleans dashboard at /dashboard. Only the page is served from the assembly; no path
/// of the file system is reachable. Access rules are in <see cref="WebSettings"/>.
/// </summary>
public static partial class ReMAWeb
{
    /// <summary>Configures Kestrel, the JSON options and the Orleans dashboard; call before Build, after AddReMAEmbeddedSilo.</summary>
    public static WebSettings AddReMAWeb(this WebApplicationBuilder builder, int defaultPort = 8080)
    {
        WebSettings settings = WebSettings.From(builder.Configuration, defaultPort);
        builder.Services.AddSingleton(settings);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (settings.Enabled)
            {
                kestrel.Listen(settings.Address, settings.Port);
            }
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
        });
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // Old log-probs are NaN where the learner computes them; fork results carry training rows.
            o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        });
        builder.UseOrleans(silo => silo.AddDashboard());
        return settings;
    }

    public static WebApplication MapReMAWeb(this WebApplication app)
    {
        WebSettings settings = app.Services.GetRequiredService<WebSettings>();
        app.Use(async (context, next) =>
        {
            bool mutating = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method);
            string? fromQuery = context.Request.Query["key"].FirstOrDefault();
            string? key = context.Request.Headers[WebSettings.HeaderName].FirstOrDefault() ?? fromQuery ?? context.Request.Cookies[CookieName];
            if (!settings.Allows(mutating, key))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await context.Response.WriteAsJsonAsync(new ApiError(key is null
                    ? $"this call needs the API key (header {WebSettings.HeaderName} or ?key=)"
                    : "the API key does not match"));
                return;
            }
            if (fromQuery is not null && settings.ApiKey is not null)
            {
                // A page opened with ?key= keeps it for the calls it makes itself (the Orleans dashboard's included).
                context.Response.Cookies.Append(CookieName, fromQuery, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
            }
            await next(context);
        });
        app.MapGet("/", () => Results.Content(Page.Value, "text/html; charset=utf-8"));
        app.MapOrleansDashboard("/dashboard");

        var api = app.MapGroup("/api");
        api.MapGet("/campaigns", (IGrainFactory grains) => Guard(async () =>
        {
            string[] names = await grains.GetGrain<ICampaignIndexGrain>(0).List();
            var statuses = await Task.WhenAll(names.Order(StringComparer.Ordinal).Select(n => grains.GetGrain<ICampaignGrain>(n).Status()));
            return Results.Ok(statuses.Select(s => new { s.Name, s.Status, s.Stage, s.NextStep, s.Steps, s.Warning, s.Error }));
        }));
        api.MapGet("/campaigns/{name}", (string name, IGrainFactory grains) => Guard(async () =>
        {
            ICampaignGrain campaign = await Existing(grains, name);
            return Results.Ok(new { status = await campaign.Status(), config = await campaign.Config() });
        }));
        api.MapGet("/campaigns/{name}/history", (string name, IGrainFactory grains) => Guard(async () =>
        {
            ICampaignGrain campaign = await Existing(grains, name);
            CampaignStatus status = await campaign.Status();
            return Results.Ok(new { steps = await campaign.History(), evaluations = status.Evaluations, status.Status, status.NextStep, totalSteps = status.Steps });
        }));
        api.MapPost("/campaigns", (HttpRequest request, IGrainFactory grains) => Guard(async () =>
        {
            using var reader = new StreamReader(request.Body);
            string body = await reader.ReadToEndAsync();
            CampaignConfig config = CampaignFile.Parse(body, "request body", CampaignChecks.TaskErrors);
            CampaignStatus status = await grains.GetGrain<ICampaignGrain>(config.Name).Start(config);
            return Results.Created($"/api/campaigns/{config.Name}", status);
        }));
        foreach (string action in new[] { "pause", "resume", "cancel" })
        {
            api.MapPost($"/campaigns/{{name}}/{action}", (string name, IGrainFactory grains) => Guard(async () =>
            {
                ICampaignGrain campaign = await Existing(grains, name);
                return Results.Ok(action switch
                {
                    "pause" => await campaign.Pause(),
                    "resume" => await campaign.Resume(),
                    _ => await campaign.Cancel(),
                });
            }));
        }
        api.MapGet("/campaigns/{name}/episodes", (string name, HttpRequest request, ITrajectoryStore store) => Guard(async () =>
        {
            CheckName(name);
            EpisodeQuery query = Query(request.Query);
            return Results.Ok(await query.RunAsync(store, name, request.HttpContext.RequestAborted));
        }));
        api.MapGet("/episodes/{id}", (string id, IGrainFactory grains, ITrajectoryStore store) => Guard(async () =>
        {
            (TrajectoryDocument document, ICampaignGrain campaign) = await Stored(grains, store, id);
            return Results.Ok(await ReplayEpisode.FromAsync(document, campaign.DecodeTokens));
        }));
        api.MapPost("/episodes/{id}/fork", (string id, ForkBody body, IGrainFactory grains, ITrajectoryStore store) => Guard(async () =>
        {
            (_, ICampaignGrain campaign) = await Stored(grains, store, id);
            return Results.Ok(await campaign.Fork(new ForkRequest(id, body.Turn, body.Temperature, body.Version, body.Seed)));
        }));
        return app;
    }

    private const string CookieName = "rema_key";

    private sealed record ApiError(string Error);

    /// <summary>Failures as JSON: bad input 400, unknown things 404, a state that forbids the call 409.</summary>
    private static async Task<IResult> Guard(Func<Task<IResult>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            return Results.BadRequest(new ApiError(e.Message));
        }
        catch (Exception e) when (e is KeyNotFoundException or DirectoryNotFoundException or FileNotFoundException)
        {
            return Results.NotFound(new ApiError(e.Message));
        }
        catch (InvalidOperationException e)
        {
            return Results.Conflict(new ApiError(e.Message));
        }
    }

    /// <summary>Campaign names as the campaign file allows them; nothing that could name a path outside runs/.</summary>
    private static void CheckName(string name)
    {
        if (!NamePattern().IsMatch(name))
        {
            throw new ArgumentException($"campaign name '{Shorten(name)}' must be 1-100 letters, digits, '-', '_' or '.', not starting with '.'.");
        }
    }

    private static string Shorten(string text) => text.Length <= 100 ? text : text[..100] + "...";

    private static async Task<ICampaignGrain> Existing(IGrainFactory grains, string name)
    {
        CheckName(name);
        ICampaignGrain campaign = grains.GetGrain<ICampaignGrain>(name);
        return await campaign.Config() is null ? throw new KeyNotFoundException($"no campaign '{name}' was started on this cluster.") : campaign;
    }

    private static async Task<(TrajectoryDocument Document, ICampaignGrain Campaign)> Stored(IGrainFactory grains, ITrajectoryStore store, string id)
    {
        if (id.Length > 300)
        {
            throw new ArgumentException($"episode id '{Shorten(id)}' is longer than 300 characters.");
        }
        string name = EpisodeIds.Parse(id).Campaign;
        ICampaignGrain campaign = await Existing(grains, name);
        TrajectoryDocument document = await store.FindAsync(id) ?? throw new KeyNotFoundException($"episode '{id}' is not stored ({store.Describe}).");
        return (document, campaign);
    }

    /// <summary>The episode browser's filters from the query string, each bad value named.</summary>
    public static EpisodeQuery Query(IQueryCollection q)
    {
        var errors = new List<string>();
        T? Parse<T>(string key, Func<string, (bool, T)> parse) where T : struct
        {
            string? text = q[key].FirstOrDefault();
            if (string.IsNullOrEmpty(text))
            {
                return null;
            }
            (bool ok, T value) = parse(text);
            if (!ok)
            {
                errors.Add($"{key} '{Shorten(text)}' is not a valid {typeof(T).Name.ToLowerInvariant()}");
                return null;
            }
            return value;
        }
        (bool, long) Long(string s) => (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v), v);
        (bool, int) Int(string s) => (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v), v);
        (bool, double) Double(string s) => (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v), v);
        (bool, bool) Bool(string s) => (bool.TryParse(s, out bool v), v);
        var query = new EpisodeQuery
        {
            Step = Parse("step", Long),
            Evaluation = Parse("eval", Bool),
            Correct = Parse("correct", Bool),
            MinReward = Parse("minReward", Double),
            MaxReward = Parse("maxReward", Double),
            FinishReason = q["finish"].FirstOrDefault() is { Length: > 0 } f ? f : null,
            MinTurns = Parse("minTurns", Int),
            MaxTurns = Parse("maxTurns", Int),
            Contains = q["contains"].FirstOrDefault() is { Length: > 0 } c ? c : null,
            Sort = q["sort"].FirstOrDefault() is { Length: > 0 } s ? s.ToLowerInvariant() : "step",
            Descending = Parse("desc", Bool) ?? false,
            Page = Parse("page", Int) ?? 1,
            PageSize = Parse("pageSize", Int) ?? 20,
        };
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors) + ".");
        }
        query.Validate();
        return query;
    }

    private static readonly Lazy<string> Page = new(() =>
    {
        using Stream stream = typeof(ReMAWeb).Assembly.GetManifestResourceStream("ReMA.Silo.Web.dashboard.html")
            ?? throw new InvalidOperationException("the dashboard page is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex NamePattern();
}
