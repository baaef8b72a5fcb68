namespace Finales.Cli;

/// <summary>`finales bench &lt;what&gt;`: every benchmark harness of the repository, dispatched from one table.</summary>
public static class BenchCommands
{
    /// <summary>One benchmark: its name, a one-line summary for --help, and its entry point (given the arguments after the name).</summary>
    private sealed record Bench(string Name, string Summary, Func<string[], int> Run);

    private static readonly Bench[] Benches =
    [
        new("broker", "closed tenant cycle against any FINALES2-compatible server (or --self)", BenchBroker.Run),
        new("lists", "broker memory while serving /all_requests/ from a large store (1 and 4 clients)", BenchStore.Lists),
        new("waiters", "latency of a plain GET while 1,000 clients long-poll the pending queue", BenchStore.Waiters),
        new("console", "server time of the web console's pages on a store of 1,000,000 requests", BenchConsole.Run),
        // The science and optimizer harnesses live beside their commands (ScienceCommands.cs, OptimizerCommands.cs).
        new("science", "stock-mixing solves/s and route searches/s", ScienceBench.Run),
        new("optimizer", "regret curves of GP-UCB vs random search", args => BenchOptimizerCommands.Run(["optimizer", .. args])),
        new("gp", "time and memory per suggestion vs number of observations", args => BenchOptimizerCommands.Run(["gp", .. args])),
    ];

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h")
        {
            Console.WriteLine("Usage: ./finales bench <what> [options]      (./finales bench <what> --help)");
            foreach (var b in Benches) Console.WriteLine($"  {b.Name,-10} {b.Summary}");
            return args.Length == 0 ? 1 : 0;
        }
        var bench = Benches.FirstOrDefault(b => b.Name == args[0])
                    ?? throw new CliError($"unknown benchmark '{args[0]}'; see ./finales bench --help");
        return bench.Run(args[1..]);
    }
}
