namespace Finales.Cli;

/// <summary>The `finales` command line. Each command lives in its own class; this file only dispatches.</summary>
public static class Program
{
    /// <summary>One top-level command: its name, a one-line summary for --help, and its entry point.</summary>
    private sealed record Command(string Name, string Summary, Func<string[], int> Run);

    private static readonly Command[] Commands =
    [
        // Each area adds its commands here (one line each).
        new("mix", MixCommand.Summary, MixCommand.Run),
        new("conductivity", ConductivityCommand.Summary, ConductivityCommand.Run),
        new("electrolyte", ElectrolyteCommand.Summary, ElectrolyteCommand.Run),
        new("route", RouteCommand.Summary, RouteCommand.Run),
        new("bench", BenchCommand.Summary, BenchCommand.Run),
    ];

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp();
            return args.Length == 0 ? 1 : 0;
        }
        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"finales: unknown command '{args[0]}'. Run './finales --help' for the list.");
            return 1;
        }
        return command.Run(args[1..]);
    }

    private static void PrintHelp()
    {
        Console.WriteLine("finales: a materials acceleration platform for battery-electrolyte research.");
        Console.WriteLine();
        Console.WriteLine("Usage: ./finales <command> [options]     (./finales <command> --help for details)");
        Console.WriteLine();
        foreach (var c in Commands)
            Console.WriteLine($"  {c.Name,-14} {c.Summary}");
    }
}
