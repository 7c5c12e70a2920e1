using Microsoft.Extensions.Hosting;
using ReMA.Silo;

// A standalone silo: `dotnet run -c Release --project src/Silo`. Settings come from appsettings.json, environment
// variables (REMA__... style: ReMA__Policies__demo__Preset=micro) and the command line.
var builder = Host.CreateApplicationBuilder(args);
builder.AddReMAEmbeddedSilo();
await builder.Build().RunAsync();
