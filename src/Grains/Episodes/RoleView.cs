using ReMA.Abstractions.Policy;
using ReMA.Learner.Generation;
using ReMA.Learner.Tokenization;
using ReMA.Learner.Training;

namespace ReMA.Grains.Episodes;

/// <summary>
/// One role's chat view as token ids: it is the assistant, the other role is the user. In the full view the
/// conversation grows and is one row; in the compact view every turn starts a fresh context and is its own row.
/// An empty system prompt renders no system message.
/// </summary>
internal sealed class RoleView(string role, string system, ChatTemplate chat, string episodeId, string groupId, ViewMode mode)
{
    private readonly List<TrajectoryRowBuilder> _rows = [];
    private TrajectoryRowBuilder? _current;

    public string Role => role;

    /// <summary>Adds what the other role said (or the first question) and returns the prompt for this role's turn.</summary>
    public int[] Prompt(string userMessage)
    {
        if (mode == ViewMode.Compact || _current is null)
        {
            _current = new TrajectoryRowBuilder(episodeId, role, groupId, chat.TurnEndId)
                .Context(chat.Render(system.Length == 0 ? [ChatMessage.User(userMessage)] : [ChatMessage.System(system), ChatMessage.User(userMessage)], addGenerationPrompt: true));
            _rows.Add(_current);
        }
        else
        {
            _current.Context([.. chat.Separator, .. chat.Render([ChatMessage.User(userMessage)], addGenerationPrompt: true)]);
        }
        return _current.Ids;
    }

    /// <summary>Adds the input and records a reply produced earlier as this role's turn; false (nothing recorded) when the view is too long.</summary>
    public bool Replay(string userMessage, GenerateResponse recorded, int maxContextTokens)
    {
        if (Prompt(userMessage).Length > maxContextTokens)
        {
            return false;
        }
        Record(recorded);
        return true;
    }

    public void Record(GenerateResponse response)
    {
        FinishReason finish = response.FinishReason switch
        {
            "eos" => FinishReason.Eos,
            "stop" => FinishReason.Stop,
            _ => FinishReason.Length,
        };
        _current!.Turn(response.TokenIds, response.LogProbs, finish, response.PolicyVersion);
    }

    /// <summary>
    /// The role's rows, each carrying the terminal reward on its last turn and, when <paramref name="stepScores"/> is
    /// not empty, the step score of each of its turns (the scores are in the order the role spoke, across rows).
    /// </summary>
    public IEnumerable<TrajectoryRow> Rows(double reward, IReadOnlyList<double> stepScores)
    {
        int turns = _rows.Sum(b => b.Turns);
        if (stepScores.Count != 0 && stepScores.Count != turns)
        {
            throw new ArgumentException($"role {role}: {stepScores.Count} step scores for {turns} turns.");
        }
        int offset = 0;
        foreach (TrajectoryRowBuilder b in _rows.Where(b => b.Turns > 0))
        {
            yield return b.BuildTerminal(reward, stepScores.Count == 0 ? null : stepScores.Skip(offset).Take(b.Turns).ToArray());
            offset += b.Turns;
        }
    }
}
