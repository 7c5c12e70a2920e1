using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Tasks.Tests;

public class FailureCauseTests
{
    private static readonly ArithmeticTask Task = new(prompts: PromptStyle.None);
    private static readonly Problem Problem = new("p", "Compute 4+3*2.", "10", "test");

    private static string? Cause(bool correct, string finish, params string[] texts) =>
        Task.FirstFailure(Problem, [.. texts.Select((t, i) => (i % 2 == 0 ? Roles.Meta : Roles.Reasoner, t))], correct, finish);

    [Theory]
    [InlineData(FailureCauses.MetaEarlyFinish, "[FINISH]", "\\boxed{10}")]
    [InlineData(FailureCauses.MetaMalformed, "Go: 3*2", "3*2=6")]
    [InlineData(FailureCauses.MetaUnmatched, "Next: 4+3", "4+3=7")]                 // 3*2 binds first: 4+3 is no operation of 4+3*2
    [InlineData(FailureCauses.ReasonerArithmetic, "Next: 3*2", "3*2=5", "Next: 4+5", "4+5=9", "[FINISH]", "\\boxed{9}")]
    [InlineData(FailureCauses.ReasonerMalformed, "Next: 3*2", "six")]
    [InlineData(FailureCauses.ReasonerWrongOperation, "Next: 3*2", "4+3=7")]
    [InlineData(FailureCauses.ReasonerWrongBox, "Next: 3*2", "3*2=6", "Next: 4+6", "4+6=10", "[FINISH]", "\\boxed{11}")]
    [InlineData(FailureCauses.ReasonerMalformed, "Next: 3*2", "3*2=6", "Next: 4+6", "4+6=10", "[FINISH]", "10")]
    [InlineData(FailureCauses.MetaLateFinish, "Next: 3*2", "3*2=6", "Next: 4+6", "4+6=10", "Next: 10+0", "10+0=10")]
    [InlineData(FailureCauses.MetaLateFinish, "Next: 3*2", "3*2=6", "Next: 4+6", "4+6=10")]   // the turn limit came first
    public void FirstFaultyTurn_NamesTheCause(string expected, params string[] turns) =>
        Assert.Equal(expected, Cause(false, "finished", turns));

    [Fact]
    public void CorrectEpisodes_HaveNoCause_AndUnexplainedEndsAreNamedByTheirFinish()
    {
        Assert.Null(Cause(true, "finished", "Next: 3*2", "3*2=6", "Next: 4+6", "4+6=10", "[FINISH]", "\\boxed{10}"));
        // The meta agent's turn was fine but the reasoner never spoke (its view was too long, or the meta turn was cut off).
        Assert.Equal("other: context_exceeded", Cause(false, "context_exceeded", "Next: 3*2"));
        Assert.Equal("other: truncated", Cause(false, "truncated", "Next: 3*2", "3*2=6", "Next: 4+6"));
    }

    [Fact]
    public void Demonstrations_AreNeverFaulted()
    {
        foreach (Problem p in new ArithmeticTask(trainSize: 200, evalSize: 10).Load("train"))
        {
            var demo = new ArithmeticTask().Demonstrate(p, Protocol.RemaMultiTurn);
            // Judged wrong on purpose: a correct trace leaves no faulty turn, so the cause is the finish reason.
            Assert.Equal("other: finished", Task.FirstFailure(p, [.. demo.Turns.Select(t => (t.Role, t.Text))], correct: false, "finished"));
        }
    }

    [Theory]
    [InlineData("4+3*2", "Next: 3*2", true)]
    [InlineData("4+3*2", "Next: 4+3", false)]      // not an operation the state can take now
    [InlineData("4+3*2", "Go: 3*2", false)]
    [InlineData("4+3*2", "[FINISH]", false)]       // too early
    [InlineData("10", "[FINISH]", true)]
    [InlineData("10", "Next: 10+0", false)]        // too late
    [InlineData("-4-1", "Next: -4-1", true)]
    public void Instructions_AreCheckedAgainstTheState(string state, string message, bool expected) =>
        Assert.Equal(expected, Task.CheckInstruction(state, message));

    [Fact]
    public void AnUnreadableState_AsksForNoInstruction() => Assert.Null(Task.CheckInstruction("4+", "Next: 4+1"));
}
