namespace ReMA.Bench;

/// <summary>Command-line options of the benchmark commands ("--name value").</summary>
internal static class BenchArgs
{
    public static string? Value(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
