using ReMA.Learner.Training;
using static ReMA.Learner.Tests.Training.TrainingFixtures;

namespace ReMA.Learner.Tests.Training;

public class AdvantageTests
{
    private static TrajectoryRow R(string episode, string group, double reward, string role = "meta", int turns = 1) =>
        Row(episode, group, [1, 2, 3, 4], turns == 1 ? [-1, 0, 0, 0] : [-1, 0, 1, 1],
            turns == 1 ? [reward] : [0, reward], role);

    [Fact]
    public void Grpo_NormalisesWithinEachGroupAndRoleWithUnbiasedStd()
    {
        var rows = new[] { R("a", "g", 1), R("b", "g", 0), R("c", "g", 0), R("d", "g", 1), R("e", "g", 1, role: "reasoner"), R("f", "g", 0, role: "reasoner") };
        var result = Advantages.Compute(rows, new AdvantageOptions()).Rows;
        // meta group: rewards 1,0,0,1: mean 0.5, unbiased std sqrt(1/3) = 0.57735
        Assert.Equal(0.5 / (Math.Sqrt(1.0 / 3) + 1e-6), result[0].TurnAdvantages[0], 5);
        Assert.Equal(-0.5 / (Math.Sqrt(1.0 / 3) + 1e-6), result[1].TurnAdvantages[0], 5);
        // reasoner group: 1,0: mean 0.5, std sqrt(0.5) = 0.70711
        Assert.Equal(0.5 / (Math.Sqrt(0.5) + 1e-6), result[4].TurnAdvantages[0], 5);
        Assert.Equal(-0.5 / (Math.Sqrt(0.5) + 1e-6), result[5].TurnAdvantages[0], 5);
    }

    private static TrajectoryRow Scored(string episode, double reward, params double[] steps) =>
        Row(episode, "g", [.. Enumerable.Range(1, steps.Length + 1)], [-1, .. Enumerable.Range(0, steps.Length)],
            [.. steps.Select((_, t) => t == steps.Length - 1 ? reward : 0.0)], "reasoner") with { StepScores = steps };

    [Fact]
    public void Grpo_StepRewards_AddEachScoredTurnsNormalisedScore_OnTopOfTheOutcome()
    {
        // Outcomes 1 and 0 (+-0.70711). Scored turns: a has 1, 1, (answer); b has 1, 0: scores 1, 1, 1, 0, mean 0.75,
        // unbiased std 0.5; weight 0.5 adds +0.125 / (0.5 + eps) to each right step and -0.375 / (0.5 + eps) to the wrong one.
        var a = Scored("a", 1, 1, 1, double.NaN);
        var b = Scored("b", 0, 1, 0);
        var options = new AdvantageOptions { StepRewardWeight = 0.5 };
        var result = Advantages.Compute([a, b], options).Rows;
        double outcome = 0.5 / (Math.Sqrt(0.5) + 1e-6), right = 0.5 * 0.25 / (0.5 + 1e-6), wrong = -0.5 * 0.75 / (0.5 + 1e-6);
        AssertClose([outcome + right, outcome + right, outcome], result[0].TurnAdvantages);
        AssertClose([-outcome + right, -outcome + wrong], result[1].TurnAdvantages);

        // Weight 0 (the default) ignores the scores; equal scores add nothing.
        var off = Advantages.Compute([a, b], new AdvantageOptions()).Rows;
        Assert.All(off[0].TurnAdvantages, v => Assert.Equal((float)outcome, v, 5));
        var allRight = Advantages.Compute([Scored("a", 1, 1, 1), Scored("b", 0, 1)], options).Rows;
        Assert.All(allRight[0].TurnAdvantages, v => Assert.Equal((float)outcome, v, 5));

        // Equal outcomes: the step term alone still teaches, and a group filter keeps such a group.
        var failed = Advantages.Compute([Scored("a", 0, 1, 1), Scored("b", 0, 1, 0)], options with { FilterSolvedAndFailedGroups = true });
        Assert.Equal(0, failed.FilteredGroups);
        Assert.True(failed.Rows[1].TurnAdvantages[1] < 0 && failed.Rows[1].TurnAdvantages[0] > 0);
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t], actual[t], 5);
        }
    }

    [Fact]
    public void ReinforcePlusPlus_StepRewardsJoinTheTurnReturnsBeforeWhitening()
    {
        // Discount 1, weight 1: a's turns return [1 + 1, 1 + 0] -> the step reward of turn 0 stays with turn 0.
        var a = Scored("a", 1, 1, 0);
        var plain = Advantages.Compute([a, Scored("b", 0, 0, 0)], new AdvantageOptions { Estimator = AdvantageEstimator.ReinforcePlusPlus }).Rows;
        var withSteps = Advantages.Compute([a, Scored("b", 0, 0, 0)], new AdvantageOptions { Estimator = AdvantageEstimator.ReinforcePlusPlus, StepRewardWeight = 1 }).Rows;
        Assert.Equal(plain[0].TurnAdvantages[0], plain[0].TurnAdvantages[1]);
        Assert.True(withSteps[0].TurnAdvantages[0] > withSteps[0].TurnAdvantages[1]);
    }

    [Fact]
    public void StepScores_MustHaveOneValuePerTurn()
    {
        var row = Scored("a", 1, 1, 0) with { StepScores = [1.0] };
        var error = Assert.Throws<ArgumentException>(row.Validate);
        Assert.Contains("step_scores has 1 values for 2 turns", error.Message);
    }

    [Fact]
    public void Grpo_EqualRewardsGiveZero_AndEveryTurnSharesTheReturn()
    {
        var rows = new[] { R("a", "g", 1, turns: 2), R("b", "g", 1, turns: 2), R("c", "h", 1, turns: 2), R("d", "h", 0, turns: 2) };
        var result = Advantages.Compute(rows, new AdvantageOptions()).Rows;
        Assert.All(result.Take(2), r => Assert.Equal([0f, 0f], r.TurnAdvantages));
        Assert.Equal(result[2].TurnAdvantages[0], result[2].TurnAdvantages[1]);
        Assert.True(result[2].TurnAdvantages[0] > 0 && result[3].TurnAdvantages[0] < 0);
    }

    [Fact]
    public void Grpo_PerTurnRewards_CompareEachTurnsReturnWithTheGroupsEpisodeReturns()
    {
        // Discount 0.5: a has rewards [0, 1] -> returns [0.5, 1]; b has [0, 0] -> [0, 0]. Episode returns 0.5 and 0:
        // mean 0.25, unbiased std 0.35355.
        var a = Row("a", "g", [1, 2, 3, 4], [-1, 0, 1, 1], [0.0, 1.0]);
        var b = Row("b", "g", [1, 2, 3, 4], [-1, 0, 1, 1], [0.0, 0.0]);
        var result = Advantages.Compute([a, b], new AdvantageOptions { TurnDiscount = 0.5 }).Rows;
        double std = Math.Sqrt(0.125) + 1e-6;
        Assert.Equal([(float)(0.25 / std), (float)(0.75 / std)], result[0].TurnAdvantages);
        Assert.Equal([(float)(-0.25 / std), (float)(-0.25 / std)], result[1].TurnAdvantages);
    }

    [Fact]
    public void Grpo_CompactRowsOfOneEpisodeFormOneTrajectory_SoEveryEpisodeCountsOnce_AndEveryTurnGetsItsAdvantage()
    {
        // Episode a (correct) has one compact row; episode b (wrong) has three (a row per turn). Compared per episode
        // (rewards 1 and 0, not 1, 0, 0, 0): +-0.707, and all three of b's turns carry b's negative advantage, so the
        // long tail of a failing episode is discouraged like its first turn.
        var rows = new[] { R("a", "g", 1), R("b", "g", 0), R("b", "g", 0), R("b", "g", 0) };
        var result = Advantages.Compute(rows, new AdvantageOptions()).Rows;
        double expected = 0.5 / (Math.Sqrt(0.5) + 1e-6);
        Assert.Equal(expected, result[0].TurnAdvantages[0], 5);
        Assert.All(result.Skip(1), r => Assert.Equal(-expected, r.TurnAdvantages[0], 5));
    }

    [Fact]
    public void TurnReturns_UseTheDiscount()
    {
        Assert.Equal([1.0 + 0.5 * (0 + 0.5 * 2), 0 + 0.5 * 2, 2], Advantages.TurnReturns([1, 0, 2], 0.5));
        Assert.Equal([3.0, 2, 2], Advantages.TurnReturns([1, 0, 2], 1.0));
    }

    [Fact]
    public void ReinforcePlusPlus_WhitensTurnReturnsOverAllLossTokens()
    {
        // Row a: one turn of 3 tokens, return 1. Row b: two turns (1 token, 2 tokens), rewards [0, 1] -> returns [1, 1]... use 0.5 discount: [0.5, 1].
        var a = Row("a", "g", [1, 2, 3, 4], [-1, 0, 0, 0], [1.0]);
        var b = Row("b", "h", [1, 2, 3, 4], [-1, 0, 1, 1], [0.0, 1.0]);
        var result = Advantages.Compute([a, b], new AdvantageOptions { Estimator = AdvantageEstimator.ReinforcePlusPlus, TurnDiscount = 0.5 }).Rows;
        double[] tokenValues = [1, 1, 1, 0.5, 1, 1];
        double mean = tokenValues.Average();
        double std = Math.Sqrt(tokenValues.Sum(v => (v - mean) * (v - mean)) / (tokenValues.Length - 1));
        Assert.Equal((1 - mean) / (std + 1e-6), result[0].TurnAdvantages[0], 5);
        Assert.Equal((0.5 - mean) / (std + 1e-6), result[1].TurnAdvantages[0], 5);
        Assert.Equal((1 - mean) / (std + 1e-6), result[1].TurnAdvantages[1], 5);
    }

    [Fact]
    public void Filtering_DropsAllZeroAndAllOneGroupsOnlyWhenAsked()
    {
        var rows = new[] { R("a", "solved", 1), R("b", "solved", 1), R("c", "failed", 0), R("d", "failed", 0), R("e", "mixed", 1), R("f", "mixed", 0) };
        var kept = Advantages.Compute(rows, new AdvantageOptions { FilterSolvedAndFailedGroups = true });
        Assert.Equal(2, kept.FilteredGroups);
        Assert.Equal(4, kept.FilteredRows);
        Assert.Equal(["e", "f"], kept.Rows.Select(r => r.Row.EpisodeId));
        Assert.Equal(6, Advantages.Compute(rows, new AdvantageOptions()).Rows.Count);
    }
}
