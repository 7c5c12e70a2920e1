using System.CommandLine;
using ReMA.Client;

var output = new Option<string>("--out") { Description = "Folder for the report and the saved model", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" };
var preset = new Option<string>("--preset") { Description = "Model preset (nano, nano-qwen2, micro, stories15m)", DefaultValueFactory = _ => "nano" };
var prompts = new Option<int>("--prompts") { Description = "Number of requests", DefaultValueFactory = _ => 32 };
var maxNew = new Option<int>("--max-new-tokens") { Description = "Tokens per request", DefaultValueFactory = _ => 48 };
var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 1 };

var demo = new Command("demo", "Run the embedded demo and write a report") { output, device, preset, prompts, maxNew, seed };
demo.SetAction(async (parse, cancel) =>
{
    var options = new DemoOptions
    {
        OutputDirectory = parse.GetValue(output)!,
        Device = parse.GetValue(device)!,
        Preset = parse.GetValue(preset)!,
        Prompts = parse.GetValue(prompts),
        MaxNewTokens = parse.GetValue(maxNew),
        Seed = parse.GetValue(seed),
    };
    try
    {
        await GenerationDemo.RunAsync(options, Console.Out);
        return 0;
    }
    catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataException or IOException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
});

var generate = GenerateCommand.Create();
var root = new RootCommand("rema: multi-agent meta-thinking RL (ReMA) on Orleans") { demo, generate, GradeCommand.Create(), TrainCommand.Create() };
return await root.Parse(args).InvokeAsync();
