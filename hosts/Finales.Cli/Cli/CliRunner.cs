using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text.Json;

namespace Finales.Cli;

/// <summary>
/// Parses a command line with System.CommandLine and runs the chosen command under one error convention: a usage
/// error (unknown flag, bad value) and a <see cref="UsageError"/> thrown while running are one line naming the flag
/// and value (or {"error": ...} for the JSON commands), exit code 2 (a command may document another); a group
/// command without its sub-command prints its help, exit code 1; a store that cannot be opened is one line, exit code 3.
/// </summary>
public static class CliRunner
{
    /// <summary>Exit code of a bare group command (`./finales`, `./finales tenant`), which prints its help.</summary>
    public const int GroupWithoutCommand = 1;

    /// <summary>Exit code of a store that cannot be opened.</summary>
    public const int StoreUnavailable = 3;

    public static int Run(RootCommand root, string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        foreach (var help in root.Options.OfType<HelpOption>())
            if (help.Action is HelpAction generated) help.Action = new HelpWithNotes(generated, output);
        // "@file" is an ordinary argument here (a path may start with '@'), not a response file.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration
        {
            EnableDefaultExceptionHandler = false,
            // Commands handle Ctrl-C themselves (the demo's report, the hosts' graceful stop).
            ProcessTerminationTimeout = null,
            Output = output,
            Error = error,
        };
        var command = parse.CommandResult.Command;
        // --help, --version and the [suggest] directive run their own actions, whatever else the line holds.
        var isHelpOrDirective = parse.Action is not null && parse.Action is not ParseErrorAction && parse.Action != command.Action;
        if (!isHelpOrDirective && (parse.Errors.Count == 0 && command.Action is null || IsBareGroup(parse)))
        {
            // A group named without its sub-command: its help, and exit code 1 as before.
            parse.RootCommandResult.Command.Parse([.. Path(command).Skip(1), "--help"]).Invoke(invocation);
            return GroupWithoutCommand;
        }
        if (command.Subcommands.Count > 0 && parse.UnmatchedTokens is ["help"])
        {
            // `./finales help`, `./finales tenant help`: the word the hand-written dispatchers accepted for --help.
            return parse.RootCommandResult.Command.Parse([.. Path(command).Skip(1), "--help"]).Invoke(invocation);
        }
        if (parse.Errors.Count > 0 && !isHelpOrDirective)
        {
            if (command is RootCommand && parse.UnmatchedTokens.Count > 0)
            {
                error.WriteLine($"finales: unknown command '{parse.UnmatchedTokens[0]}'. Run './finales --help' for the list.");
                return GroupWithoutCommand;
            }
            var message = command is { Action: null, Subcommands.Count: > 0 } && parse.UnmatchedTokens.Count > 0
                ? $"unknown command '{parse.UnmatchedTokens[0]}'; expected {Opt.Alternatives(command.Subcommands.Select(c => c.Name).ToList())}"
                : string.Join("; ", parse.Errors.Select(e => e.Message).Distinct());
            return Report(command, $"{message} (see ./{string.Join(' ', Path(command))} --help)", output, error);
        }
        try
        {
            return parse.Invoke(invocation);
        }
        catch (Exception e) when (e is UsageError or Finales.Demo.DemoException or Finales.Core.ScienceException)
        {
            return Report(command, e.Message, output, error);
        }
        catch (Exception e) when (StoreFailure(e) is { } failure)
        {
            // A store that cannot be opened (bad path, not a database, unreachable server): one line, no stack trace.
            error.WriteLine($"finales {TopName(command)}: {failure.Message}");
            return StoreUnavailable;
        }
    }

    private static bool IsBareGroup(ParseResult parse) =>
        parse.CommandResult.Command is { Action: null, Subcommands.Count: > 0 } && parse.UnmatchedTokens.Count == 0 &&
        parse.Errors.All(e => e.SymbolResult == parse.CommandResult) && parse.Action is null or ParseErrorAction;

    /// <summary>Writes a user error in the command's style; returns its usage exit code.</summary>
    private static int Report(Command command, string message, TextWriter output, TextWriter error)
    {
        var (style, exitCode) = Convention(command);
        if (style is ErrorStyle.Json or ErrorStyle.IndentedJson)
            output.WriteLine(JsonError(message, style == ErrorStyle.IndentedJson));
        else
            error.WriteLine($"finales {string.Join(' ', Path(command).Skip(1))}: {message}");
        return exitCode;
    }

    /// <summary>{"error":"message"}: the error shape of the JSON commands.</summary>
    public static string JsonError(string message, bool indented = false) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message },
            new JsonSerializerOptions { WriteIndented = indented, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>The error style and usage exit code of the nearest <see cref="FinalesCommand"/> that sets them.</summary>
    private static (ErrorStyle Style, int ExitCode) Convention(Command command)
    {
        ErrorStyle? style = null;
        int? exitCode = null;
        for (Symbol? s = command; s is not null; s = s.Parents.FirstOrDefault())
            if (s is FinalesCommand f)
            {
                style ??= f.Errors;
                exitCode ??= f.UsageExitCode;
            }
        return (style ?? ErrorStyle.Line, exitCode ?? 2);
    }

    /// <summary>The command's names from the root: ["finales", "tenant", "cell"].</summary>
    private static List<string> Path(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is not null; s = s.Parents.FirstOrDefault())
            names.Insert(0, s.Name);
        return names;
    }

    private static string TopName(Command command) => Path(command) is { Count: > 1 } p ? p[1] : "finales";

    private static Finales.Broker.StoreUnavailableException? StoreFailure(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is Finales.Broker.StoreUnavailableException su) return su;
        return null;
    }

    /// <summary>The generated help, then the command's notes and examples.</summary>
    private sealed class HelpWithNotes(HelpAction generated, TextWriter output) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            generated.Invoke(parseResult);
            if (parseResult.CommandResult.Command is not FinalesCommand command) return 0;
            if (command.Notes is { } notes)
            {
                output.WriteLine(notes.TrimEnd());
                output.WriteLine();
            }
            if (command.Examples.Count > 0)
            {
                output.WriteLine("Examples:");
                foreach (var e in command.Examples) output.WriteLine($"  {e}");
                output.WriteLine();
            }
            return 0;
        }
    }
}
