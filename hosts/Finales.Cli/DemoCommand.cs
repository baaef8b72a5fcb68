using Finales.Demo;

namespace Finales.Cli;

/// <summary>`finales demo`: parses the options and runs the demo host (hosts/Finales.Demo) with the data this CLI ships.</summary>
public static class DemoCommand
{
    private const string Help = """
        Usage: ./finales demo [--store PATH] [--iterations N] [--batch B] [--seed S] [--preset electrolyte|paper]
                              [--chaos] [--report DIR] [--time-scale X] [--plain]

        Runs an autonomous electrolyte campaign on the whole platform: a broker (SQLite store), the ASAB lab tenant on
        simulated hardware (density + viscosity), a simulated two-electrode conductivity cell (tenants/Finales.Tenants.Cell), the
        low-fidelity conductivity tenant and the optimizer tenant (GP-UCB + Chimera) closing the loop, each a child
        process of this one. See docs/demo.md.
        At the end the store is audited and a self-contained HTML report (plus report.json) is written.

          --store PATH        SQLite store of the broker (default finales-demo/run-<time>.db; must not exist yet);
                              everything else the run writes (configs, tenant journals, logs, the report) goes
                              into its run folder, the store's path without its extension (finales-demo/run-<time>/;
                              <store>.run/ for a store without an extension), which must not exist yet either
          --iterations N      posting iterations of the optimizer tenant (default 30)
          --batch B           formulations per iteration (default 3)
          --seed S            seed of the optimizer, the simulated instruments' noise and the tenants (default 1)
          --preset NAME       electrolyte (default): conductivity >= 0.8 S/m, then viscosity min, then density min
                              paper: viscosity max, then density min (the paper's goal)
          --chaos             kill -9 the ASAB tenant while it holds a request and restart it, then kill -9 and
                              restart the broker; the audit must still pass
          --report DIR        where report.html and report.json go (default: report/ in the run folder)
          --time-scale X      wall seconds per simulated second of the lab hardware (default 0.002: one ASAB
                              request, about 13 simulated minutes, takes about 2 s)
          --plain             line output even on a terminal (automatic when output is redirected)

        Exit code 0 when the audit passes, 3 when it fails, 130 when interrupted (the report is still written).
        Example: ./finales demo --iterations 4 --chaos
        """;

    public static int Run(string[] args)
    {
        var a = new CliArgs(args, "chaos", "plain");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        a.Only("store", "iterations", "batch", "seed", "preset", "chaos", "report", "plain", "time-scale");
        var settings = DemoSettings.Create(
            store: a.Get("store"),
            iterations: a.GetInt("iterations", 30),
            batch: a.GetInt("batch", 3),
            seed: a.GetInt("seed", 1),
            preset: a.Get("preset", "electrolyte"),
            chaos: a.Has("chaos"),
            plain: a.Has("plain") || Console.IsOutputRedirected,
            timeScale: a.GetDouble("time-scale", 0.002),
            reportDir: a.Get("report"),
            data: new DemoData(BundledData.Corpus("serialized_quantities"), BundledData.AsabGraphDirectory, BundledData.AsabStocksFile,
                BundledData.AsabExampleConfig));
        using var run = new DemoRun(settings);
        return run.Execute();
    }
}
