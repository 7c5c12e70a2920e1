namespace ReMA.Tasks.Core;

/// <summary>FNV-1a over a string's UTF-16 code units: the same value on every platform and run (string.GetHashCode is randomised).</summary>
public static class StableHash
{
    public static uint Of(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }
        return hash;
    }
}
