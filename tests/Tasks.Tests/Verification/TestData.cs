using ReMA.Tasks.Verification;
using System.Text.Json;

namespace ReMA.Tasks.Tests.Verification;

/// <summary>Locates the shared data sets and the folder where reports are written.</summary>
internal static class TestData
{
    /// <summary>Environment variable that overrides the shared data folder.</summary>
    public const string DataVariable = "REMA_SHARED_DATA";

    private const string FallbackDataDirectory = "/work/shared/data";

    /// <summary>
    /// The shared data folder: <c>$REMA_SHARED_DATA</c> when set, else the first <c>shared/data</c> found walking up from
    /// the test's base directory, else <c>/work/shared/data</c>.
    /// </summary>
    public static string DataDirectory
    {
        get
        {
            string? configured = Environment.GetEnvironmentVariable(DataVariable);
            if (!string.IsNullOrWhiteSpace(configured))
            {
                return configured;
            }

            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            return FallbackDataDirectory;
        }
    }

    /// <summary>Where reports are written: the test assembly's output folder.</summary>
    public static string WorkDirectory => AppContext.BaseDirectory;

    /// <summary>The full path of a file below the data folder; fails with a clear message when it is missing (never skips).</summary>
    public static string RequireFile(string relativePath)
    {
        string path = Path.Combine(DataDirectory, relativePath);
        Assert.True(File.Exists(path), $"Data file '{path}' is missing. Set {DataVariable} to the folder that holds {relativePath}.");
        return path;
    }

    /// <summary>Reads a JSON-lines file below the data folder, failing the test with a clear message when it is missing.</summary>
    public static List<JsonElement> ReadJsonLines(string relativePath)
    {
        return File.ReadLines(RequireFile(relativePath))
            .Where(line => line.Trim().Length > 0)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();
    }

    /// <summary>The string property <paramref name="name"/> of a JSON row.</summary>
    public static string Field(this JsonElement row, string name) => row.GetProperty(name).GetString() ?? "";
}
