using System.CommandLine;
using ReMA.Learner.Checkpoints;
using ReMA.Learner.Generation;
using ReMA.Learner.Model;
using ReMA.Learner.Runtime;
using ReMA.Learner.Tokenization;

namespace ReMA.Client;

/// <summary><c>rema generate</c>: load a model folder and answer one chat message.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (config.json, safetensors, tokenizer)", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "User message", Required = true };
        var system = new Option<string?>("--system") { Description = "System message" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu, cuda or cuda:N" };
        var dtype = new Option<string?>("--dtype") { Description = "float32 or bfloat16 (default: the checkpoint's)" };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 0f, Description = "0 = greedy" };
        var topP = new Option<float>("--top-p") { DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 0 };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 128 };
        var stop = new Option<string[]>("--stop") { Description = "Stop string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var seed = new Option<ulong?>("--seed");
        var command = new Command("generate", "Generate a reply from a model folder") { model, prompt, system, device, dtype, temperature, topP, topK, maxNew, stop, seed };
        command.SetAction(parse =>
        {
            try
            {
                var torchDevice = TorchDevice.Resolve(parse.GetValue(device));
                string? dt = parse.GetValue(dtype);
                using CausalLM lm = ModelFolder.LoadModel(parse.GetValue(model)!, torchDevice, dt is null ? null : TorchDevice.ResolveDType(dt));
                ITokenizer tokenizer = TokenizerLoader.Load(parse.GetValue(model)!);
                var messages = new List<ChatMessage>();
                if (parse.GetValue(system) is string s)
                {
                    messages.Add(ChatMessage.System(s));
                }
                messages.Add(ChatMessage.User(parse.GetValue(prompt)!));
                int[] ids = new ChatTemplate(tokenizer).Render(messages, addGenerationPrompt: true);
                var sampling = new SamplingParams
                {
                    Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), TopK = parse.GetValue(topK),
                    MaxNewTokens = parse.GetValue(maxNew), StopStrings = parse.GetValue(stop) ?? [], Seed = parse.GetValue(seed),
                };
                using var engine = new ContinuousBatcher(lm, tokenizer);
                GenerationResult result = engine.Generate([new GenerationRequest(ids, sampling)])[0];
                Console.WriteLine(result.Text);
                Console.Error.WriteLine($"[{result.GeneratedTokens} tokens, finish: {result.FinishReason.ToString().ToLowerInvariant()}, mean log-prob {(result.LogProbs.Length == 0 ? 0 : result.LogProbs.Average()):F3}]");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
