using System.CommandLine;
using ReMA.Tasks.Verification;

namespace ReMA.Client;

/// <summary>
/// <c>rema grade [FILE] [--explain]</c>: reads TSV lines "gold&lt;TAB&gt;prediction" from FILE or standard input and prints
/// 1 or 0 per line, in input order. A prediction holding a \boxed{...} is graded on its last box (as in training);
/// otherwise it is taken as a bare answer. With --explain each line also shows the normalised forms and the method.
/// </summary>
internal static class GradeCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("file") { Description = "TSV file of gold<TAB>prediction lines (default: standard input)", Arity = ArgumentArity.ZeroOrOne };
        var explain = new Option<bool>("--explain") { Description = "Also print the normalised forms and how they were compared" };
        var command = new Command("grade", "Judge predictions against gold answers with the math verifier") { file, explain };
        command.SetAction(parse =>
        {
            string? path = parse.GetValue(file);
            if (path is not null && !File.Exists(path))
            {
                Console.Error.WriteLine($"error: {path}: file not found.");
                return 2;
            }
            using TextReader input = path is null ? Console.In : new StreamReader(path);
            return Run(input, Console.Out, Console.Error, parse.GetValue(explain), path ?? "stdin");
        });
        return command;
    }

    public static int Run(TextReader input, TextWriter output, TextWriter errors, bool explain, string source)
    {
        int lineNumber = 0, bad = 0;
        for (string? line = input.ReadLine(); line is not null; line = input.ReadLine())
        {
            lineNumber++;
            int tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab < 0)
            {
                errors.WriteLine($"{source}:{lineNumber}: expected 'gold<TAB>prediction'; no tab found. Printed 0.");
                output.WriteLine("0");
                bad++;
                continue;
            }
            string gold = line[..tab], prediction = line[(tab + 1)..];
            Verdict v = MathVerifier.Grade(gold, prediction);
            output.WriteLine(explain
                ? $"{(v.Equivalent ? 1 : 0)}\tgold={v.GoldNormalized}\tprediction={v.PredictionNormalized}\tmethod={v.Method}{(v.TimedOut ? "\ttimeout" : "")}"
                : v.Equivalent ? "1" : "0");
        }
        return bad == 0 ? 0 : 1;
    }
}
