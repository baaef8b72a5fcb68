using System.CommandLine;

namespace Finales.Cli;

/// <summary>How a command reports a user error: one line on stderr (most commands) or {"error": ...} on stdout (the JSON commands).</summary>
public enum ErrorStyle
{
    /// <summary>`finales &lt;command&gt;: message` on stderr.</summary>
    Line,

    /// <summary>`{"error":"message"}` on stdout, for commands whose output is JSON.</summary>
    Json,

    /// <summary>The same, indented as the science commands print all their JSON.</summary>
    IndentedJson,
}

/// <summary>
/// A `finales` command: a System.CommandLine <see cref="Command"/> plus what the generated help does not say (notes and
/// copy-pasteable examples, printed after it) and how it reports user errors. Sub-commands inherit the error convention
/// of the nearest <see cref="FinalesCommand"/> above them unless they set their own.
/// </summary>
public class FinalesCommand(string name, string description) : Command(name, description)
{
    /// <summary>How user errors are shown (inherited from the parent when null).</summary>
    public ErrorStyle? Errors { get; init; }

    /// <summary>The exit code of a usage error (a bad or unknown flag, a bad value); 2 unless a command documents another.</summary>
    public int? UsageExitCode { get; init; }

    /// <summary>Text printed after the generated help: exit codes, input and output shapes, pointers to the docs.</summary>
    public string? Notes { get; init; }

    /// <summary>Command lines printed under "Examples:" after the generated help.</summary>
    public IReadOnlyList<string> Examples { get; init; } = [];
}

/// <summary>
/// A user error found while a command runs (a missing file, a refused request, bad JSON on stdin): reported by
/// <see cref="CliRunner"/> in the command's <see cref="ErrorStyle"/> without a stack trace, with the command's usage exit code.
/// </summary>
public sealed class UsageError(string message) : Exception(message);
