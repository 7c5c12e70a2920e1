using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Learning;
using ReMA.Silo;

namespace ReMA.Client;

/// <summary>
/// <c>rema train [--file campaign.json] [--name N] [--steps N]</c>: runs a campaign on an embedded silo and follows it,
/// printing a line per RL step and per evaluation; writes runs/&lt;name&gt;/campaign.json and history.json.
/// Exit code 0 when the campaign completes, 1 when it fails or is cancelled, 2 on bad input.
/// </summary>
internal static class TrainCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var file = new Option<string?>("--file") { Description = "Campaign file (JSON); default: the arithmetic demo settings" };
        var name = new Option<string?>("--name") { Description = "Campaign name (overrides the file's)" };
        var steps = new Option<int?>("--steps") { Description = "RL steps (overrides the file's)" };
        var port = new Option<int>("--silo-port") { DefaultValueFactory = _ => 11111, Description = "Embedded silo port (gateway = port + 18889)" };
        var command = new Command("train", "Run a training campaign on an embedded silo and follow it") { file, name, steps, port };
        command.SetAction(async (parse, cancel) =>
        {
            CampaignConfig config;
            try
            {
                config = parse.GetValue(file) is string path ? CampaignFile.Load(path) : new CampaignConfig();
                config = config with
                {
                    Name = parse.GetValue(name) ?? config.Name,
                    Steps = parse.GetValue(steps) ?? config.Steps,
                };
                CampaignConfigValidation.ThrowIfInvalid(config);
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            int silo = parse.GetValue(port);
            return await RunAsync(config, silo, silo + 18889, Console.Out, cancel);
        });
        return command;
    }

    public static async Task<int> RunAsync(CampaignConfig config, int siloPort, int gatewayPort, TextWriter output, CancellationToken cancel)
    {
        string folder = Path.Combine("runs", config.Name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "campaign.json"), CampaignFile.Write(config));
        var builder = Host.CreateApplicationBuilder();
        builder.AddReMAEmbeddedSilo(siloPort, gatewayPort);
        using IHost host = builder.Build();
        await host.StartAsync(cancel);
        try
        {
            ICampaignGrain campaign = host.Services.GetRequiredService<IGrainFactory>().GetGrain<ICampaignGrain>(config.Name);
            await campaign.Start(config);
            output.WriteLine($"campaign {config.Name}: {config.Protocol}, {config.Roles.Parameters} parameters, {config.Steps} steps of {config.PromptsPerStep} x {config.GroupSize} episodes");
            long printedSteps = 0;
            int printedEvals = 0;
            bool printedSft = false;
            CampaignStatus status;
            while (true)
            {
                status = await campaign.Status();
                if (!printedSft && status.Sft is SftResult sft)
                {
                    output.WriteLine($"sft: {sft.Rows} rows, {sft.OptimizerSteps} steps, loss {sft.LossBefore:F3} -> {sft.LossAfter:F3} ({sft.Seconds:F1} s)");
                    printedSft = true;
                }
                foreach (EvalRecord e in status.Evaluations.Skip(printedEvals))
                {
                    output.WriteLine($"eval after step {e.AfterStep}: {e.Set} pass@1 {e.Accuracy:P1} on {e.Problems} problems");
                }
                printedEvals = status.Evaluations.Length;
                if (status.NextStep > printedSteps)
                {
                    foreach (StepRecord s in (await campaign.History()).Where(h => h.Step >= printedSteps))
                    {
                        string finishes = string.Join(" ", s.FinishReasons.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));
                        double loss = s.Learners.Values.Average(l => l.Loss);
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"step {s.Step + 1}/{config.Steps}: reward {s.RewardMean:F3} accuracy {s.Accuracy:P0} turns {s.TurnsPerEpisode:F1} [{finishes}] loss {loss:F4} {s.RolloutTokensPerSecond:F0} tok/s rollout {s.RolloutSeconds:F1}s update {s.UpdateSeconds:F1}s"));
                    }
                    printedSteps = status.NextStep;
                }
                if (status.Status is "completed" or "failed" or "cancelled")
                {
                    break;
                }
                await Task.Delay(500, cancel);
            }
            File.WriteAllText(Path.Combine(folder, "history.json"), JsonSerializer.Serialize(new { status, history = await campaign.History() }, Indented));
            output.WriteLine($"campaign {config.Name} {status.Status}{(status.Error is null ? "" : ": " + status.Error)}; history in {Path.Combine(folder, "history.json")}");
            return status.Status == "completed" ? 0 : 1;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
