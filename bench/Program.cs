using ReMA.Bench;

// Benchmarks are commands, not tests: `dotnet run -c Release --project bench -- <name> [--json]`.
string command = args.Length > 0 ? args[0] : "help";
switch (command)
{
    case "generate":
        return GenerateBenchmark.Run(args[1..]);
    case "learn":
        return LearnBenchmark.Run(args[1..]);
    case "verify":
        return VerifyBenchmark.Run(args[1..]);
    case "split-probe":
        return SplitProbe.Run(args[1..]);
    case "rl-probe":
        return await RlProbe.RunAsync(args[1..]);
    case "probe":
        return await LearnabilityProbe.RunAsync(args[1..]);
    case "rollout":
        return await RolloutBenchmark.RunAsync(args[1..]);
    case "cluster":
        return await ClusterBenchmark.RunAsync(args[1..]);
    case "learner-scaling":
        return LearnerScaling.Run(args[1..]);
    case "train-loop":
        return await TrainLoopBenchmark.RunAsync(args[1..]);
    case "all":
        return await AllBenchmarks.RunAsync(args[1..]);
    default:
        Console.WriteLine("usage: dotnet run -c Release --project bench -- generate [--json] [--all] [--torch-kernels] [--device cpu|cuda] [--dtype float32|bfloat16] [--new-tokens N] [--out FILE]");
        Console.WriteLine("       dotnet run -c Release --project bench -- generate --profile [--batch N] [--preset stories15m|nano]   (where one decode step spends its time)");
        Console.WriteLine("       dotnet run -c Release --project bench -- split-probe [--batch 64] [--parts 2]   (one engine on all cores against one engine per core)");
        Console.WriteLine("       dotnet run -c Release --project bench -- learn [--json] [--device cpu|cuda] [--micro-batch-tokens N] [--out FILE]");
        Console.WriteLine("       dotnet run -c Release --project bench -- verify [--json] [--data ../shared/data/math500/test.jsonl] [--out FILE]");
        Console.WriteLine("       dotnet run -c Release --project bench -- rollout [--json] [--out FILE]");
        Console.WriteLine("       dotnet run -c Release --project bench -- rl-probe [--save DIR | --load DIR] [--seed S] [--sft-steps N] [--sft-schedule constant|cosine] [--rl-steps N] [--lr X] [--drop-zero] [--eval-split validation] [--log FILE]   (the demo's SFT + GRPO in one process, per-step diagnostics)");
        Console.WriteLine("       dotnet run -c Release --project bench -- train-loop [--json] [--rl-steps 10] [--sft-steps 800] [--no-reference] [--compact-reference-only] [--llama-reference] [--sft-budget N] [--out FILE]   (arithmetic-reference campaign: RL step, SFT step, evaluation of 500; the reference in the same sitting)");
        Console.WriteLine("       dotnet run -c Release --project bench -- cluster [--json] [--steps N] [--out FILE]   (needs Azurite: npm ci --prefix build/azurite)");
        Console.WriteLine("       dotnet run -c Release --project bench -- all [--json] [--only generate,learn,rollout,verify,cluster] [--summary-only]   (runs them, rewrites the summary in docs/benchmarks.md)");
        return command == "help" ? 0 : 2;
}
