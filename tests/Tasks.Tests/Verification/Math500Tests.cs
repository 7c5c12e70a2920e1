using ReMA.Tasks.Verification;
using Xunit.Abstractions;

namespace ReMA.Tasks.Tests.Verification;

public sealed class Math500Tests(Math500Fixture fixture, ITestOutputHelper output) : IClassFixture<Math500Fixture>
{
    [Fact]
    public void BoxedSolutionAnswers_AgreeWithReferenceAnswers()
    {
        output.WriteLine($"agreement {fixture.Rows - fixture.Disagreements.Count}/{fixture.Rows}; {fixture.PairsPerSecond:F0} checks/s; worst {fixture.WorstMilliseconds:F1} ms");
        foreach (var d in fixture.Disagreements)
        {
            output.WriteLine($"row {d.Row}: {d.Gold} vs {d.Extracted} -> {d.Verdict}");
        }

        Assert.Equal(500, fixture.Rows);
        Assert.True(fixture.Disagreements.Count <= fixture.Rows / 100, $"{fixture.Disagreements.Count} disagreements; see {Math500Fixture.ReportName}");
    }

    [Fact]
    public void NeighbouringRowsAnswers_AreRarelyJudgedEquivalent()
    {
        foreach (var f in fixture.FalsePositives)
        {
            output.WriteLine($"row {f.Row}: {f.Gold} vs {f.Extracted} -> {f.Verdict}");
        }

        Assert.True(fixture.FalsePositives.Count <= fixture.Rows / 100, $"{fixture.FalsePositives.Count} false positives; see {Math500Fixture.ReportName}");
    }

    [Fact]
    public void Checks_AreFastAndNeverTimeOut()
    {
        output.WriteLine($"{fixture.PairsPerSecond:F0} checks/s; worst {fixture.WorstMilliseconds:F1} ms");
        Assert.True(fixture.WorstMilliseconds < MathEquivalence.DefaultTimeout.TotalMilliseconds, $"slowest check took {fixture.WorstMilliseconds:F1} ms");
    }
}
