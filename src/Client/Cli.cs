using System.CommandLine;

namespace ReMA.Client;

/// <summary>The <c>rema</c> command tree.</summary>
public static class Cli
{
    public static RootCommand Root()
    {
        var root = new RootCommand("rema: multi-agent meta-thinking RL (ReMA) on Orleans")
        {
            DemoCommand.Create(), TrainCommand.Create(), Experiments.ExperimentCommand.Create(), EvalCommand.Create(), ExportCommand.Create(), SearchCommand.Create(), ReplayCommand.Create(), GenerateCommand.Create(), GradeCommand.Create(),
        };
        foreach (Command c in CampaignCommands.Create())
        {
            root.Subcommands.Add(c);
        }
        return root;
    }
}
