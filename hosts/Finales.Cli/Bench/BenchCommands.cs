namespace Finales.Cli;

/// <summary>`finales bench &lt;what&gt;`: every benchmark harness of the repository (this folder), one sub-command each.</summary>
public static class BenchCommands
{
    public static FinalesCommand Create()
    {
        var bench = new FinalesCommand("bench", "benchmarks: broker, lists, waiters, console, science, optimizer, gp, md-analysis (JSON results)")
        {
            Examples = ["./finales bench broker --self", "./finales bench science", "./finales bench gp --n 10,100"],
        };
        // Each harness adds one line here.
        bench.Subcommands.Add(BenchBroker.Create());
        bench.Subcommands.Add(BenchStore.Lists());
        bench.Subcommands.Add(BenchStore.Waiters());
        bench.Subcommands.Add(BenchConsole.Create());
        bench.Subcommands.Add(BenchScience.Create());
        bench.Subcommands.Add(BenchOptimizer.Regret());
        bench.Subcommands.Add(BenchOptimizer.Gp());
        bench.Subcommands.Add(BenchMdAnalysis.Create());
        return bench;
    }
}
