namespace Finales.Cli;

/// <summary>`finales bench &lt;what&gt;`: every benchmark harness of the repository.</summary>
public static class BenchCommands
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h")
        {
            Console.WriteLine("""
                Usage: ./finales bench <what> [options]      (./finales bench <what> --help)
                  broker     closed tenant cycle against any FINALES2-compatible server (or --self)
                  lists      broker memory while serving /all_requests/ from a large store (1 and 4 clients)
                  waiters    latency of a plain GET while 1,000 clients long-poll the pending queue
                  science    stock-mixing solves/s and route searches/s
                  optimizer  regret curves of GP-UCB vs random search
                  gp         time and memory per suggestion vs number of observations
                """);
            return args.Length == 0 ? 1 : 0;
        }
        return args[0] switch
        {
            "broker" => BenchBroker.Run(args[1..]),
            "lists" => BenchStore.Lists(args[1..]),
            "waiters" => BenchStore.Waiters(args[1..]),
            "optimizer" or "gp" => BenchOptimizerCommands.Run(args),
            "science" => BenchCommand.Run(args),
            _ => throw new CliError($"unknown benchmark '{args[0]}'; see ./finales bench --help"),
        };
    }
}
