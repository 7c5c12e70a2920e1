using ReMA.Abstractions.Policy;
using ReMA.Tasks.Core;
using TaskRewards = ReMA.Tasks.Rewards.Rewards;

namespace ReMA.Grains.Episodes;

/// <summary>
/// Runs one episode of a protocol exactly as ReMA section 2 describes it, independent of Orleans (the episode grain
/// calls it). Multi-turn: a round is the meta agent then the reasoner; both stop at the literal [FINISH] (kept in
/// the meta message, stripped from the reasoner's); the episode ends after the reasoner's reply to a meta message
/// that contained [FINISH], or at the round limit, or when a role's view exceeds the context limit before it speaks,
/// or (by setting) when a turn is cut off at the token limit. The answer is read from the reasoner's last message.
/// Where the task tracks a state (<see cref="IStatefulTask"/>), each reasoner turn that answers a step instruction (one
/// without [FINISH]) is checked as a step: the verdict goes into the transcript and, as a step score, into the
/// reasoner's rows (the learner uses it only when given a step reward weight).
/// </summary>
public sealed class EpisodeRunner(ITask task, EpisodeSettings settings, IRoleAgentFactory agents)
{
    /// <summary>Agents in this process, generating with <paramref name="generator"/>.</summary>
    public EpisodeRunner(ITask task, EpisodeSettings settings, IRoleGenerator generator)
        : this(task, settings, new LocalRoleAgentFactory(generator))
    {
    }

    public async Task<EpisodeResult> RunAsync(Problem problem, string episodeId, string groupId)
    {
        settings.Validate();
        var transcript = new List<TranscriptTurn>();
        var views = Roles.Of(settings.Protocol).ToDictionary(r => r, r => agents.Create(
            r, task.SystemPrompt(settings.Protocol, r), task is IStatefulTask ? settings.View : ViewMode.Full, episodeId, groupId));
        string finish;
        string lastReasoner = "";
        string? plan = null;
        var reasonerSteps = new List<double>();   // only the reasoner's turns are checked as steps

        if (settings.Protocol == Protocol.RemaMultiTurn)
        {
            (finish, lastReasoner) = await MultiTurnAsync(problem, views, transcript, reasonerSteps, episodeId);
        }
        else
        {
            finish = FinishReasons.Completed;
            string reasonerQuestion = problem.Question;
            if (settings.Protocol == Protocol.RemaSingleTurn)
            {
                GenerateResponse? m = await SpeakAsync(views[Roles.Meta], problem.Question, 0, transcript, episodeId);
                if (m is null)
                {
                    finish = FinishReasons.ContextExceeded;
                }
                else if (Ends(m, out string? ending))
                {
                    finish = ending!;
                }
                plan = m?.Text ?? "";
                reasonerQuestion = $"Question:\n{problem.Question}\n\nPlan:\n{plan}";
            }
            if (finish == FinishReasons.Completed)
            {
                GenerateResponse? y = await SpeakAsync(views[Roles.Reasoner], reasonerQuestion, 0, transcript, episodeId);
                lastReasoner = y?.Text ?? "";
                finish = y is null ? FinishReasons.ContextExceeded : Ends(y, out string? ending) ? ending! : FinishReasons.Completed;
            }
        }

        // The verifier may take up to its time limit: keep it off the caller's scheduler.
        Judgement judgement = await Task.Run(() => task.Judge(problem, lastReasoner));
        var rewards = Rewards(judgement, finish, plan);
        var rows = (await Task.WhenAll(views.Values.Select(v => v.RowsAsync(rewards[v.Role], v.Role == Roles.Reasoner ? StepScoresOf(reasonerSteps) : [])))).SelectMany(r => r).ToList();
        return new EpisodeResult(episodeId, groupId, problem.Id, finish, judgement.Correct, judgement.Extracted, rewards, transcript, rows);
    }

    /// <summary>The reasoner's step scores as its rows take them: none at all when no turn was checked.</summary>
    private static IReadOnlyList<double> StepScoresOf(List<double> scores) => scores.Any(double.IsFinite) ? scores : [];

    private async Task<(string Finish, string LastReasoner)> MultiTurnAsync(Problem problem, Dictionary<string, IRoleAgent> views, List<TranscriptTurn> transcript, List<double> reasonerSteps, string episodeId)
    {
        var stateful = task as IStatefulTask;
        bool compact = stateful is not null && settings.View == ViewMode.Compact;
        string state = stateful?.InitialState(problem) ?? "";
        string lastReasoner = "";
        for (int round = 0; round < settings.MaxTurns; round++)
        {
            string metaInput = compact
                ? stateful!.MetaView(state, round == 0 ? "-" : lastReasoner)
                : round == 0 ? problem.Question : lastReasoner;
            GenerateResponse? m = await SpeakAsync(views[Roles.Meta], metaInput, round, transcript, episodeId);
            if (m is null)
            {
                return (FinishReasons.ContextExceeded, lastReasoner);
            }
            if (Ends(m, out string? metaEnding))
            {
                return (metaEnding!, lastReasoner);
            }
            bool finishing = m.Text.Contains(Roles.Finish, StringComparison.Ordinal);
            string reasonerInput = compact
                ? stateful!.ReasonerView(state, m.Text)
                : round == 0 ? $"Question:\n{problem.Question}\n\nInstruction:\n{m.Text}" : m.Text;
            GenerateResponse? y = await SpeakAsync(views[Roles.Reasoner], reasonerInput, round, transcript, episodeId);
            if (y is null)
            {
                return (FinishReasons.ContextExceeded, lastReasoner);
            }
            lastReasoner = y.Text;
            // A turn that answers [FINISH] gives the answer rather than a step; only step turns are checked.
            bool? step = stateful is not null && !finishing ? stateful.CheckStep(state, y.Text) : null;
            reasonerSteps.Add(step is bool ok ? (ok ? 1.0 : 0.0) : double.NaN);
            if (step is not null)
            {
                transcript[^1] = transcript[^1] with { StepCorrect = step };
            }
            if (stateful is not null)
            {
                state = stateful.Advance(state, y.Text);
            }
            if (Ends(y, out string? reasonerEnding))
            {
                return (reasonerEnding!, lastReasoner);
            }
            if (finishing)
            {
                return (FinishReasons.Finished, lastReasoner);
            }
        }
        return (FinishReasons.MaxTurns, lastReasoner);
    }

    /// <summary>Gives the other side's message to the role's agent and lets it speak; null when its view is too long.</summary>
    private async Task<GenerateResponse?> SpeakAsync(IRoleAgent agent, string input, int round, List<TranscriptTurn> transcript, string episodeId)
    {
        SamplingSpec sampling = settings.Sampling with
        {
            MaxNewTokens = settings.MaxTokensPerTurn,
            Seed = TurnSeed(settings.Sampling.Seed, episodeId, agent.Role, round),
        };
        GenerateResponse? response = await agent.SpeakAsync(input, sampling, settings.MaxContextTokens);
        if (response is null)
        {
            return null;
        }
        double meanLogProb = response.LogProbs.Length == 0 ? 0 : response.LogProbs.Average();
        transcript.Add(new TranscriptTurn(round, agent.Role, response.Text, response.TokenIds.Length, response.FinishReason, response.PolicyVersion, meanLogProb));
        return response;
    }

    private bool Ends(GenerateResponse response, out string? reason)
    {
        reason = settings.StopWhenTruncated && response.FinishReason == "length" ? FinishReasons.Truncated : null;
        return reason is not null;
    }

    private Dictionary<string, double> Rewards(Judgement judgement, string finish, string? plan) => settings.Protocol switch
    {
        Protocol.RemaMultiTurn => Roles.Of(settings.Protocol).ToDictionary(r => r, _ => TaskRewards.MultiTurn(judgement, finish == FinishReasons.Finished)),
        Protocol.RemaSingleTurn => new Dictionary<string, double>
        {
            [Roles.Reasoner] = TaskRewards.SingleTurnReasoner(judgement),
            [Roles.Meta] = TaskRewards.SingleTurnMeta(plan ?? "", [judgement]),
        },
        _ => new Dictionary<string, double> { [Roles.Reasoner] = judgement.Correct ? 1 : 0 },
    };

    /// <summary>A distinct, reproducible seed per (episode, role, round) derived from the campaign's seed; null stays random.</summary>
    public static ulong? TurnSeed(ulong? seed, string episodeId, string role, int round)
    {
        if (seed is not ulong s)
        {
            return null;
        }
        ulong h = s ^ 0x9E3779B97F4A7C15UL;
        foreach (char c in $"{episodeId}/{role}/{round}")
        {
            h = (h ^ c) * 0x100000001B3UL;
        }
        return h;
    }
}
