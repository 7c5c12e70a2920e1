using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using ReMA.Silo;
using ReMA.Silo.Web;

// A standalone silo: `dotnet run -c Release --project src/Silo`. Settings come from appsettings.json, environment
// variables (REMA__... style: ReMA__Policies__demo__Preset=micro) and the command line. Logs go to the console and
// logs/silo-<date>.log; GET http://127.0.0.1:8081/health reports the silo and the cluster's active silos; the web
// dashboard and its JSON API are on http://127.0.0.1:8080/ (ReMA:Web:Port, 0 turns them off).
var plain = Host.CreateApplicationBuilder(args);
if (!WebSettings.From(plain.Configuration, defaultPort: 8080).Enabled)
{
    // No web server at all (a WebApplication without endpoints would still listen on Kestrel's default port).
    plain.AddReMALogging();
    plain.AddReMAEmbeddedSilo();
    plain.AddReMAHealthEndpoint();
    plain.AddReMAShutdownBound();
    await plain.Build().RunAsync();
    return;
}
var builder = WebApplication.CreateBuilder(args);
builder.AddReMALogging();
builder.AddReMAEmbeddedSilo();
builder.AddReMAHealthEndpoint();
builder.AddReMAShutdownBound();
builder.AddReMAWeb();
WebApplication app = builder.Build();
app.MapReMAWeb();
await app.RunAsync();
