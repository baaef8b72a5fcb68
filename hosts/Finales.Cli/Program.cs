namespace Finales.Cli;

/// <summary>The `finales` command line. Each command lives in its own class; this file only dispatches.</summary>
public static class Program
{
    /// <summary>One top-level command: its name, a one-line summary for --help, and its entry point.</summary>
    private sealed record Command(string Name, string Summary, Func<string[], int> Run);

    private static readonly Command[] Commands =
    [
        // Each area adds its commands here (one line each).
        new("demo", "autonomous electrolyte campaign on the whole platform, live view, audit and HTML report", DemoCommand.Run),
        new("serve", "run the broker (SQLite file by default, or PostgreSQL)", BrokerCommands.Serve),
        new("admin", "manage users, capabilities and tenants directly on a store", BrokerCommands.Admin),
        new("tenant", "run a tenant (conductivity, asab, optimizer, cell) or post example requests for it", TenantCommands.Run),
        new("device", "poke a lab device or its simulator: balance, lims, syringes, pump", DeviceCommands.Run),
        new("chimera", "Chimera merits of a table of objectives (JSON stdin -> stdout)", ChimeraCommand.Run),
        new("suggest", "Next batch of formulations by GP-UCB + Chimera (JSON stdin -> stdout)", SuggestCommand.Run),
        new("bench", "benchmarks: broker, science, optimizer, gp (JSON results)", BenchCommands.Run),
        new("mix", MixCommand.Summary, MixCommand.Run),
        new("conductivity", ConductivityCommand.Summary, ConductivityCommand.Run),
        new("electrolyte", ElectrolyteCommand.Summary, ElectrolyteCommand.Run),
        new("route", RouteCommand.Summary, RouteCommand.Run),
        new("md", MdCommand.Summary, MdCommand.Run),
    ];

    public static int Main(string[] args)
    {
        Finales.Demo.ParentWatch.StartIfRequested();
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
        try
        {
            return command.Run(args[1..]);
        }
        catch (Exception e) when (e is CliError or Finales.Demo.DemoException)
        {
            Console.Error.WriteLine($"finales {command.Name}: {e.Message}");
            return 2;
        }
        catch (Exception e) when (StoreFailure(e) is { } failure)
        {
            // A store that cannot be opened (bad path, not a database, unreachable server): one line, no stack trace.
            Console.Error.WriteLine($"finales {command.Name}: {failure.Message}");
            return 3;
        }
    }

    private static Finales.Broker.StoreUnavailableException? StoreFailure(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is Finales.Broker.StoreUnavailableException su) return su;
        return null;
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
