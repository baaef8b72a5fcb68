using System.CommandLine;
using Finales.Demo;

namespace Finales.Cli;

/// <summary>`finales demo`: its options, and the run of the demo host (hosts/Finales.Demo) with the data this CLI ships.</summary>
public static class DemoCommand
{
    public static FinalesCommand Create()
    {
        var store = Opt.Text("--store", "SQLite store of the broker (default finales-demo/run-<time>.db; must not exist yet); everything else " +
                                        "the run writes (configs, tenant journals, logs, the report) goes into its run folder, the store's path " +
                                        "without its extension (finales-demo/run-<time>/; <store>.run/ for a store without an extension), " +
                                        "which must not exist yet either", "PATH");
        var iterations = Opt.Int("--iterations", "posting iterations of the optimizer tenant", 30);
        var batch = Opt.Int("--batch", "formulations per iteration", 3, helpName: "B");
        var seed = Opt.Int("--seed", "seed of the optimizer, the simulated instruments' noise and the tenants", 1, helpName: "S");
        var preset = Opt.Choice("--preset", "electrolyte: conductivity >= 0.8 S/m, then viscosity min, then density min; " +
                                            "paper: viscosity max, then density min (the paper's goal)", "electrolyte", "electrolyte", "paper");
        var chaos = Opt.Switch("--chaos", "kill -9 the ASAB tenant while it holds a request and restart it, then kill -9 and restart the broker; " +
                                          "the audit must still pass");
        var report = Opt.Text("--report", "where report.html and report.json go (default: report/ in the run folder)", "DIR");
        var timeScale = Opt.Number("--time-scale", "wall seconds per simulated second of the lab hardware (0.002: one ASAB request, " +
                                                   "about 13 simulated minutes, takes about 2 s)", 0.002);
        var plain = Opt.Switch("--plain", "line output even on a terminal (automatic when output is redirected)");
        var mdNs = Opt.Number("--md-ns", "ns of production per MD run (primitive model, after its 100 ps equilibration); the default " +
                                         "0.02 keeps the default demo within 5 minutes on 2 cores, 1 gives the converged runs of docs/md-tenant.md", 0.02);
        var mdPoints = Opt.Int("--md-points", "salt contents of the demo's own MD series (LiPF6 in EC, x 0.03..0.15, for Figure 7); 0: no series " +
                                              "(the MD tenant still runs for the electrolyte preset's conductivity)", 3, helpName: "N");
        // No default value on the option itself: its help would print 1/3 as 0.3333333333333333; the text says 1/3.
        var mdShare = Opt.OptionalNumber("--md-share", "share of the optimizer's points whose conductivity the MD tenant simulates (electrolyte " +
                                                       "preset), in (0, 1]; the default 1/3 (one point in three) keeps the default demo within 5 " +
                                                       "minutes on 2 cores");
        var lammps = Opt.Text("--lammps", "the LAMMPS command of the MD tenant (default lmp); when it is not found the demo says so " +
                                          "and runs without the MD tenant (the electrolyte preset without its conductivity level)", "CMD", "lmp");
        var slurm = Opt.Switch("--slurm", "run the MD jobs through Slurm (sbatch); exits with code 2 when no cluster answers sinfo");
        var command = new FinalesCommand("demo", "autonomous electrolyte campaign on the whole platform, live view, audit and HTML report")
        {
            Notes = """
                Runs an autonomous electrolyte campaign on the whole platform: a broker (SQLite store), the ASAB lab tenant on
                simulated hardware (density + viscosity), the low-fidelity conductivity tenant, the MD tenant (LAMMPS, primitive
                model, local executor; --slurm for Slurm) and the optimizer tenant (GP-UCB + Chimera) closing the loop, each a child
                process of this one. See docs/demo.md.
                The electrolyte preset's conductivity is the MD tenant's Einstein-Helfand value, simulated for one optimizer point
                in three (--md-share 0.333) with 20 ps production runs (--md-ns 0.02); points without it are conditioned on like
                pending ones. The MD tenant also simulates a salt series for Figure 7 (--md-points, default 3). Sized so the default
                demo finishes within 5 minutes on 2 cores. Without LAMMPS the demo says so in one line and runs without the MD
                tenant: the electrolyte preset without its conductivity level (the report's goal says so).
                At the end the store is audited and a self-contained HTML report (plus report.json) is written.
                Exit code 0 when the audit passes, 3 when it fails, 130 when interrupted (the report is still written).
                """,
            Examples = ["./finales demo", "./finales demo --iterations 4 --chaos", "./finales demo --preset paper --seed 7 --report ./report",
                "./finales demo --md-ns 1 --md-points 6", "./finales demo --md-share 1 --iterations 10"],
        };
        foreach (var o in new Option[] { store, iterations, batch, seed, preset, chaos, report, timeScale, plain, mdNs, mdPoints, mdShare, lammps, slurm }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var settings = DemoSettings.Create(
                store: parse.GetValue(store),
                iterations: parse.GetValue(iterations),
                batch: parse.GetValue(batch),
                seed: parse.GetValue(seed),
                preset: parse.GetValue(preset)!,
                chaos: parse.GetValue(chaos),
                plain: parse.GetValue(plain) || Console.IsOutputRedirected,
                timeScale: parse.GetValue(timeScale),
                reportDir: parse.GetValue(report),
                data: new DemoData(BundledData.Corpus("serialized_quantities"), BundledData.AsabGraphDirectory, BundledData.AsabStocksFile,
                    BundledData.AsabExampleConfig),
                md: new DemoMdOptions(parse.GetValue(mdNs), parse.GetValue(mdPoints), parse.GetValue(lammps) ?? "lmp", parse.GetValue(slurm))
                {
                    Share = parse.GetValue(mdShare) ?? DemoMdOptions.DefaultShare,
                });
            using var run = new DemoRun(settings);
            return run.Execute();
        });
        return command;
    }
}
