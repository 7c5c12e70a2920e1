using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Silo;

namespace ReMA.Client.Experiments;

/// <summary>
/// <c>rema experiment FILE | --preset NAME [--quick]</c>: trains every arm of an experiment under every seed on an
/// embedded silo, one campaign at a time, and writes runs/&lt;experiment&gt;/report.md (pass@1 per set as mean and 95%
/// interval over seeds, learning curves, cost per arm, configurations), curves.png, results.json and configs/.
/// Exit code 0 when every campaign completed, 1 when one failed, 2 on bad input.
/// </summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("file") { Arity = ArgumentArity.ZeroOrOne, Description = "Experiment file (JSON, or YAML with .yaml/.yml)" };
        var preset = new Option<string?>("--preset") { Description = $"Named experiment ({string.Join(", ", ExperimentPresets.Names)})" };
        var quick = new Option<bool>("--quick") { Description = "The experiment's quick variant (its quick section: fewer seeds, steps and problems)" };
        var name = new Option<string?>("--name") { Description = "Experiment name (default: the file's; --quick adds -quick)" };
        var print = new Option<bool>("--print") { Description = "Print the experiment as a file (JSON) and exit" };
        var json = new Option<bool>("--json") { Description = "Print results.json at the end (progress goes to standard error)" };
        var port = new Option<int>("--silo-port") { DefaultValueFactory = _ => 11111, Description = "Embedded silo port (gateway = port + 18889)" };
        var command = new Command("experiment", "Train an experiment's arms under several seeds with equal budgets and report pass@1 per set with confidence intervals")
        {
            file, preset, quick, name, print, json, port,
        };
        command.SetAction(async (parse, cancel) =>
        {
            ExperimentPlan plan;
            string source;
            try
            {
                if (parse.GetValue(file) is not null && parse.GetValue(preset) is not null)
                {
                    throw new ArgumentException("give an experiment file or --preset, not both.");
                }
                ExperimentConfig config;
                if (parse.GetValue(file) is string path)
                {
                    config = ExperimentFile.Load(path);
                    source = path;
                }
                else
                {
                    string p = parse.GetValue(preset) ?? throw new ArgumentException($"give an experiment file or --preset ({string.Join(", ", ExperimentPresets.Names)}).");
                    config = ExperimentPresets.Get(p);
                    source = $"preset {p}";
                }
                if (parse.GetValue(print))
                {
                    Console.WriteLine(ExperimentFile.Write(config));
                    return 0;
                }
                bool isQuick = parse.GetValue(quick);
                config = config with { Name = parse.GetValue(name) ?? (isQuick ? config.Name + "-quick" : config.Name) };
                plan = ExperimentPlan.Create(config, source, isQuick);
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            TextWriter progress = parse.GetValue(json) ? Console.Error : Console.Out;
            string commandLine = "rema " + string.Join(' ', parse.Tokens.Select(t => t.Value));
            (int code, string? report) = await RunEmbeddedAsync(plan, parse.GetValue(port), progress, commandLine, cancel);
            if (report is not null && parse.GetValue(json))
            {
                Console.WriteLine(File.ReadAllText(Path.Combine(Path.GetDirectoryName(report)!, "results.json")));
            }
            return code;
        });
        return command;
    }

    /// <summary>Runs the plan on an embedded silo; returns the exit code and the report's path (null when a campaign failed).</summary>
    public static async Task<(int Code, string? Report)> RunEmbeddedAsync(ExperimentPlan plan, int siloPort, TextWriter output, string commandLine, CancellationToken cancel)
    {
        string folder = Path.Combine("runs", plan.Name);
        Directory.CreateDirectory(folder);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Configuration["ReMA:Logging:Folder"] = Path.Combine(folder, "logs");
        builder.AddReMALogging(LogConsole.ErrorsOnly);
        builder.AddReMAEmbeddedSilo(siloPort, siloPort + 18889);
        using IHost host = builder.Build();
        await host.StartAsync(cancel);
        using var log = new StreamWriter(Path.Combine(folder, "follow.log"), append: true) { AutoFlush = true };
        try
        {
            output.WriteLine($"experiment {plan.Name}: {plan.Arms.Count} arms x {plan.Seeds.Count} seeds from {plan.Starts.Count} starting point(s); " +
                $"{plan.EpisodesPerRlArm:N0} episodes per RL arm and seed; evaluation on {string.Join(", ", plan.EvalSets)}");
            var runner = new ExperimentRunner(host.Services.GetRequiredService<IGrainFactory>(), plan, output, log);
            ExperimentResults results = await runner.RunAsync(cancel);
            string report = ExperimentReport.Write(results, folder, commandLine);
            output.WriteLine($"experiment {plan.Name} done in {results.Seconds / 60:F1} minutes; report: {report}");
            return (0, report);
        }
        catch (InvalidOperationException e)
        {
            output.WriteLine($"error: {e.Message}");
            return (1, null);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
