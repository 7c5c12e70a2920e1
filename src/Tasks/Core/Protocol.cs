namespace ReMA.Tasks.Core;

/// <summary>The reasoning processes of ReMA section 1.</summary>
public enum Protocol
{
    /// <summary>One agent: question, chain of thought, answer (the CoT baseline).</summary>
    Vrp,
    /// <summary>One agent writes a high-level plan, then the solution, in one generation.</summary>
    Mrp,
    /// <summary>The meta agent writes a plan; the reasoning agent solves given question and plan.</summary>
    RemaSingleTurn,
    /// <summary>The agents alternate until the meta agent says [FINISH] or a limit is hit.</summary>
    RemaMultiTurn,
}

/// <summary>Role names used in rows, prompts and rewards.</summary>
public static class Roles
{
    public const string Meta = "meta";
    public const string Reasoner = "reasoner";

    /// <summary>Roles that speak in a protocol; single-agent protocols use only the reasoner.</summary>
    public static IReadOnlyList<string> Of(Protocol protocol) =>
        protocol is Protocol.RemaSingleTurn or Protocol.RemaMultiTurn ? [Meta, Reasoner] : [Reasoner];

    public const string Finish = "[FINISH]";

    public static Protocol ParseProtocol(string value) => value.Trim().ToLowerInvariant().Replace("_", "-", StringComparison.Ordinal) switch
    {
        "vrp" => Protocol.Vrp,
        "mrp" => Protocol.Mrp,
        "rema-single-turn" or "single-turn" => Protocol.RemaSingleTurn,
        "rema-multi-turn" or "multi-turn" or "rema" => Protocol.RemaMultiTurn,
        _ => throw new ArgumentException($"protocol '{value}' is not known; expected vrp, mrp, rema-single-turn or rema-multi-turn."),
    };
}
