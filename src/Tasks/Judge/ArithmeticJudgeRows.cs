using System.Globalization;
using ReMA.Tasks.Arithmetic;
using ReMA.Tasks.Core;

namespace ReMA.Tasks.Judge;

/// <summary>
/// A synthetic judge task from the arithmetic task, so judging trains and tests offline: two worked solutions of
/// one problem, one correct and one where a single step's result is off and the error carries through; the correct
/// one is placed first or second by a seeded coin.
/// </summary>
public static class ArithmeticJudgeRows
{
    public static IReadOnlyList<JudgeRow> From(IReadOnlyList<Problem> problems, int seed)
    {
        var random = new Random(seed);
        var task = new ArithmeticTask();
        return problems.Select(p =>
        {
            string state = task.InitialState(p);
            Expr expression = Expr.Parse(state);
            var trace = expression.Trace();
            int wrongStep = random.Next(trace.Count);
            int delta = random.Next(1, 4) * (random.Next(2) == 0 ? -1 : 1);
            string correct = Worked(state, trace.Count, -1, 0);
            string wrong = Worked(state, trace.Count, wrongStep, delta);
            bool correctFirst = random.Next(2) == 0;
            return new JudgeRow($"judge-{p.Id}", p.Question, correctFirst ? correct : wrong, correctFirst ? wrong : correct, correctFirst ? "A" : "B");
        }).ToList();
    }

    /// <summary>Works the expression one step at a time, adding <paramref name="delta"/> to step <paramref name="wrongStep"/>'s result.</summary>
    private static string Worked(string state, int steps, int wrongStep, int delta)
    {
        var lines = new List<string>();
        var task = new ArithmeticTask();
        for (int s = 0; s < steps; s++)
        {
            Bin step = Expr.Parse(state).NextStep()!;
            long value = step.Evaluate() + (s == wrongStep ? delta : 0);
            string line = $"{step}={value.ToString(CultureInfo.InvariantCulture)}";
            lines.Add(line);
            state = task.Advance(state, line);
        }
        lines.Add($"\\boxed{{{state}}}");
        return string.Join("\n", lines);
    }
}
