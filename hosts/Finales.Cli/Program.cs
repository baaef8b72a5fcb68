using System.CommandLine;

namespace Finales.Cli;

/// <summary>
/// The `finales` command line: the composition root. It only lists the commands; System.CommandLine parses, writes
/// the help (`--help` on every command) and completes (`[suggest]`, `./finales completion bash|zsh`), and
/// <see cref="CliRunner"/> applies the one error convention.
/// </summary>
/// <remarks>
/// Adding a command: write one file with a static class whose <c>Create()</c> returns a <see cref="FinalesCommand"/>
/// (options from <see cref="Opt"/>, <c>SetAction(parse => ...)</c> returning the exit code, <c>Examples</c> for the help,
/// a <see cref="UsageError"/> for bad input), then add one line <c>XxxCommand.Create(),</c> to <see cref="Commands"/>
/// below (a sub-command of an existing group: one line in that group's list, e.g. <c>BenchCommands</c>). Give every
/// new command a README example.
/// </remarks>
public static class Program
{
    /// <summary>The top-level commands, in the order `./finales --help` lists them.</summary>
    private static IEnumerable<Command> Commands() =>
    [
        DemoCommand.Create(),
        ServeCommand.Create(),
        AdminCommands.Create(),
        TenantCommands.Create(),
        DeviceCommands.Create(),
        ChimeraCommand.Create(),
        SuggestCommand.Create(),
        BenchCommands.Create(),
        MixCommand.Create(),
        ConductivityCommand.Create(),
        ElectrolyteCommand.Create(),
        RouteCommand.Create(),
        MdCommand.Create(),
        CompletionCommand.Create(),
    ];

    /// <summary>The root command with every command of <see cref="Commands"/>.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand("finales: a materials acceleration platform for battery-electrolyte research.");
        foreach (var c in Commands()) root.Subcommands.Add(c);
        return root;
    }

    public static int Main(string[] args)
    {
        Finales.Demo.ParentWatch.StartIfRequested();
        return CliRunner.Run(Root(), args);
    }
}
