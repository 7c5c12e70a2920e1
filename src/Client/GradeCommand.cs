using System.CommandLine;
using ReMA.Tasks.Verification;

namespace ReMA.Client;

/// <summary>
/// <c>rema grade [FILE] [--explain] [--extraction lenient|boxed]</c>: reads TSV lines "gold&lt;TAB&gt;prediction" from FILE or
/// standard input and prints 1 or 0 per line, in input order. The prediction's final answer is extracted as math
/// campaigns extract it (<see cref="AnswerExtraction.ExtractFinal"/>: boxes first; lenient also reads answer phrases, a
/// bare answer, the last math span or the last number), a gold that is a full solution likewise. With --explain each
/// line also shows what was extracted from each side and by which rule, the normalised forms and the deciding rule.
/// </summary>
internal static class GradeCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("file") { Description = "TSV file of gold<TAB>prediction lines (default: standard input)", Arity = ArgumentArity.ZeroOrOne };
        var explain = new Option<bool>("--explain") { Description = "Also print what was extracted from each side, by which rule, the normalised forms and the rule that decided" };
        var extraction = new Option<string>("--extraction") { Description = "How the prediction's final answer is found: lenient (boxes, answer phrases, a bare answer, the last math span or number) or boxed (boxes only)", DefaultValueFactory = _ => "lenient" };
        extraction.AcceptOnlyFromAmong("lenient", "boxed");
        var command = new Command("grade", "Judge predictions against gold answers with the math verifier") { file, explain, extraction };
        command.SetAction(parse =>
        {
            string? path = parse.GetValue(file);
            if (path is not null && !File.Exists(path))
            {
                Console.Error.WriteLine($"error: {path}: file not found.");
                return 2;
            }
            using TextReader input = path is null ? Console.In : new StreamReader(path);
            ExtractionMode mode = parse.GetValue(extraction) == "boxed" ? ExtractionMode.Boxed : ExtractionMode.Lenient;
            return Run(input, Console.Out, Console.Error, parse.GetValue(explain), path ?? "stdin", mode);
        });
        return command;
    }

    public static int Run(TextReader input, TextWriter output, TextWriter errors, bool explain, string source, ExtractionMode mode = ExtractionMode.Lenient)
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
            GradeResult result = MathVerifier.Grade(gold, prediction, mode);
            Verdict v = result.Verdict;
            output.WriteLine(explain
                ? $"{(v.Equivalent ? 1 : 0)}\tgold[{result.Gold.Rule}]={OneLine(result.Gold.Text)}\tprediction[{result.Prediction?.Rule ?? "none"}]={OneLine(result.Prediction?.Text ?? "")}"
                    + $"\tnormalised={v.GoldNormalized} | {v.PredictionNormalized}\tmethod={v.Method}{(v.TimedOut ? "\ttimeout" : "")}"
                : v.Equivalent ? "1" : "0");
        }
        return bad == 0 ? 0 : 1;
    }

    private static string OneLine(string s) => s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
