using Microsoft.Extensions.Hosting;
using ReMA.Silo;

// A standalone silo: `dotnet run -c Release --project src/Silo`. Settings come from appsettings.json, environment
// variables (REMA__... style: ReMA__Policies__demo__Preset=micro) and the command line. Logs go to the console and
// logs/silo-<date>.log; GET http://127.0.0.1:8081/health reports the silo and the cluster's active silos.
var builder = Host.CreateApplicationBuilder(args);
builder.AddReMALogging();
builder.AddReMAEmbeddedSilo();
builder.AddReMAHealthEndpoint();
await builder.Build().RunAsync();
