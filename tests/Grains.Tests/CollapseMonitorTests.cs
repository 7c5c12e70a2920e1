using ReMA.Abstractions.Campaigns;
using ReMA.Abstractions.Episodes;
using ReMA.Abstractions.Learning;
using ReMA.Grains.Campaigns;

namespace ReMA.Grains.Tests;

public class CollapseMonitorTests
{
    private static StepRecord Step(long step, double tokensMeta = 8, double tokensReasoner = 6, double repetition = 0, double withinTurn = 0,
        double empty = 0, double noGuidance = 0, double turns = 3) => new(
        step, 16, 0, 0.5, 0.5, 0.5, new Dictionary<string, int> { ["finished"] = 16 }, turns,
        new Dictionary<string, double> { ["meta"] = tokensMeta, ["reasoner"] = tokensReasoner }, empty, repetition,
        new Dictionary<string, LearnerMetrics>(), 1, 1, 100, withinTurn, noGuidance);

    private static EpisodeOutcome Episode(params (string Role, string Text)[] turns) => new(
        "e", "g", "p", "finished", true, "1", new Dictionary<string, double> { ["meta"] = 1, ["reasoner"] = 1 },
        [.. turns.Select((t, i) => new TranscriptRecord(i / 2, t.Role, t.Text, t.Text.Length, "stop", 1, -0.1))], [], 0.1);

    [Fact]
    public void LoopsWithin_FlagsTurnsThatRepeatThemselves_NotShortOrVariedOnes()
    {
        Assert.True(CollapseMonitor.LoopsWithin("2-62=-64 2-62=-64 2-62=-64 2-62=-64 2-62=-64"));
        Assert.False(CollapseMonitor.LoopsWithin("Next: 7+16"));                           // too short to judge
        Assert.False(CollapseMonitor.LoopsWithin("First add 7 and 16, then subtract 2 from the sum."));
    }

    [Fact]
    public void NoGuidanceRate_CountsBlankAndEchoedMetaTurns_ButNotAFinishDecision()
    {
        EpisodeOutcome guided = Episode(("meta", "Next: 7+16"), ("reasoner", "7+16=23"), ("meta", "[FINISH]"), ("reasoner", "\\boxed{23}"));
        Assert.Equal(0, CollapseMonitor.NoGuidanceRate([guided]));
        EpisodeOutcome echo = Episode(("meta", "Next: 7+16"), ("reasoner", "7+16=23"), ("meta", "7+16=23"), ("reasoner", "7+16=23"),
            ("meta", "7+16=23"), ("reasoner", "x"), ("meta", "  "), ("reasoner", "y"));
        // Of four meta turns: one guides, one echoes the reasoner, one repeats itself, one is blank.
        Assert.Equal(0.75, CollapseMonitor.NoGuidanceRate([echo]), 6);
        Assert.Equal(3.0 / 6, CollapseMonitor.NoGuidanceRate([guided, echo]), 6);
    }

    [Fact]
    public void Check_WarnsAboveEachThreshold_AndOnLengthDrift_AndStaysQuietOtherwise()
    {
        var spec = new MonitorSpec();
        var history = Enumerable.Range(0, 5).Select(i => Step(i)).ToList();
        Assert.Empty(CollapseMonitor.Check(Step(5), history, spec, maxTurns: 8));

        string[] all = CollapseMonitor.Check(Step(5, tokensMeta: 30, tokensReasoner: 1.5, repetition: 0.5, withinTurn: 0.4, empty: 0.02, noGuidance: 0.6, turns: 7.5),
            history, spec, maxTurns: 8);
        Assert.Contains(all, w => w.StartsWith("repetition rate 50 % is above 30 %", StringComparison.Ordinal));
        Assert.Contains(all, w => w.StartsWith("within-turn repetition rate 40 %", StringComparison.Ordinal));
        Assert.Contains(all, w => w.StartsWith("empty-turn rate 2 %", StringComparison.Ordinal));
        Assert.Contains(all, w => w.StartsWith("meta no-guidance rate 60 %", StringComparison.Ordinal));
        Assert.Contains(all, w => w.StartsWith("episodes run 7.5 rounds on average, near max_turns 8", StringComparison.Ordinal));
        Assert.Contains(all, w => w.StartsWith("meta turns average 30.0 tokens, 3.8x", StringComparison.Ordinal));
        Assert.Contains(all, w => w.StartsWith("reasoner turns average 1.5 tokens, 0.2x", StringComparison.Ordinal));
        Assert.Equal(7, all.Length);

        // A threshold of 0 turns its check off; without enough baseline steps there is no length check.
        var off = new MonitorSpec { RepetitionRate = 0, WithinTurnRepetitionRate = 0, EmptyTurnRate = 0, NoGuidanceRate = 0, TurnsFraction = 0, LengthRatio = 0 };
        Assert.Empty(CollapseMonitor.Check(Step(5, tokensMeta: 30, repetition: 0.9, empty: 0.9, noGuidance: 0.9, turns: 8), history, off, maxTurns: 8));
        Assert.Empty(CollapseMonitor.Check(Step(2, tokensMeta: 30), history.Take(2).ToList(), spec, maxTurns: 8));
    }

    [Fact]
    public void MonitorSettings_AreValidated_EachBadFieldNamed()
    {
        var config = new CampaignConfig { Monitor = new MonitorSpec { RepetitionRate = 1.5, NoGuidanceRate = -0.1, LengthRatio = 0.5, BaselineSteps = 0 } };
        var e = Assert.ThrowsAny<ArgumentException>(() => CampaignConfigValidation.ThrowIfInvalid(config));
        Assert.Contains("monitor.repetition_rate: must be between 0 and 1", e.Message);
        Assert.Contains("monitor.no_guidance_rate: must be between 0 and 1", e.Message);
        Assert.Contains("monitor.length_ratio: must be above 1", e.Message);
        Assert.Contains("monitor.baseline_steps: must be at least 1", e.Message);
        Assert.Contains("monitor", CampaignFile.Write(new CampaignConfig()));
    }
}
