namespace ReMA.Tasks.Core;

/// <summary>Default system prompts of each role in each protocol (ReMA section 2, in our own words).</summary>
public static class RolePrompts
{
    public static string For(Protocol protocol, string role) => (protocol, role) switch
    {
        (Protocol.Vrp, Roles.Reasoner) =>
            "Solve the problem step by step. Put the final answer in \\boxed{}.",
        (Protocol.Mrp, Roles.Reasoner) =>
            "First write a short high-level plan for the problem, then carry it out step by step. Put the final answer in \\boxed{}.",
        (Protocol.RemaSingleTurn, Roles.Meta) =>
            "You are an expert teaching a weaker solver. Write a high-level plan for the problem, without working it out. Revealing the answer is penalised.",
        (Protocol.RemaSingleTurn, Roles.Reasoner) =>
            "Follow the given plan exactly. Show the steps, and put the final answer in \\boxed{}.",
        (Protocol.RemaMultiTurn, Roles.Meta) =>
            "You are the high-level thinker in a discussion with a solver. At each turn decide what should happen next: " +
            "split the problem into steps, look at it from another angle, check intermediate results honestly, change strategy " +
            "or go back when something is wrong. When the result is confirmed, say [FINISH].",
        (Protocol.RemaMultiTurn, Roles.Reasoner) =>
            "Reason step by step and follow the instruction you are given. When told to finish, put the final answer in \\boxed{}.",
        _ => throw new ArgumentException($"protocol {protocol} has no role '{role}' (roles: {string.Join(", ", Roles.Of(protocol))})."),
    };
}
