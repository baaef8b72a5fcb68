using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Finales.Optimizer.Interop;
using Finales.OptimizerCli;

namespace Finales.Cli;

/// <summary>`finales bench optimizer` and `finales bench gp`: regret curves of GP-UCB vs random search, and GP timing and memory.</summary>
public static class BenchOptimizer
{
    public static FinalesCommand Regret()
    {
        var problem = Opt.Choice("--problem", "test problem", null, "branin", "hartmann6", "dtlz2", "e1", "e2");
        problem.Required = true;
        var seeds = Opt.Int("--seeds", "seeded campaigns per method", 20, 1, helpName: "N");
        var evals = Opt.Int("--evals", "evaluations per campaign", 100, 1, helpName: "N");
        var outDir = Opt.Text("--out", "directory for the SVG plot regret-<problem>.svg", "DIR");
        var command = new FinalesCommand("optimizer", "regret curves of GP-UCB vs random search")
        {
            Errors = ErrorStyle.Json,
            Notes = "Simple regret of GP-UCB vs random search (same seeded initial design of 2d points), median and quartiles at\n" +
                    "10/25/50/100 evaluations as JSON; SVG plot to DIR; progress on stderr.",
            Examples = ["./finales bench optimizer --problem branin --seeds 5 --evals 40 --out bench-out"],
        };
        foreach (var o in new Option[] { problem, seeds, evals, outDir }) command.Options.Add(o);
        command.SetAction(parse => Regret(parse.GetValue(problem)!, parse.GetValue(seeds), parse.GetValue(evals), parse.GetValue(outDir)));
        return command;
    }

    public static FinalesCommand Gp()
    {
        var sizes = new Option<int[]>("--n")
        {
            Description = "numbers of observations, comma-separated",
            HelpName = "N,N,..",
            DefaultValueFactory = _ => [10, 50, 100, 200, 500, 1000, 2000, 5000],
            CustomParser = r =>
            {
                var ns = new List<int>();
                foreach (var part in r.Tokens[^1].Value.Split(','))
                {
                    if (!int.TryParse(part, out var n) || n < 2 || n > 20000)
                    {
                        r.AddError($"--n contains '{part}'; expected integers in 2..20000");
                        return [];
                    }
                    ns.Add(n);
                }
                return [.. ns];
            },
        };
        var seed = Opt.Int("--seed", "seed of the observations", 0);
        var command = new FinalesCommand("gp", "time and memory per suggestion vs number of observations")
        {
            Errors = ErrorStyle.Json,
            Notes = "Time per suggestion (fit + GP-UCB over 1000 candidates + refinement), 5 inputs, and memory, as JSON.",
            Examples = ["./finales bench gp --n 10,100,1000"],
        };
        command.Options.Add(sizes);
        command.Options.Add(seed);
        command.SetAction(parse => Gp(parse.GetValue(sizes)!, parse.GetValue(seed)));
        return command;
    }

    private static int Regret(string problem, int seeds, int evals, string? dir)
    {
        var sw = Stopwatch.StartNew();
        if (!OptimizerJson.TryBenchOptimizer(problem, seeds, evals, line => Console.Error.WriteLine($"[{sw.Elapsed.TotalSeconds,7:F1}s] {line}"), out var bench, out var error))
            throw new UsageError(error);
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, $"regret-{problem}.svg");
            File.WriteAllText(path, bench.Svg);
            Console.Error.WriteLine($"wrote {path}");
        }
        Console.Out.WriteLine(bench.Json);
        return 0;
    }

    private static int Gp(int[] ns, int seed)
    {
        OptimizerFacade.GpSuggestion(10, seed); // warm-up (JIT)
        var rows = new List<Dictionary<string, object>>();
        foreach (var n in ns)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var before = GC.GetTotalMemory(true);
            var allocatedBefore = GC.GetTotalAllocatedBytes(true);
            var sw = Stopwatch.StartNew();
            var x = OptimizerFacade.GpSuggestion(n, seed);
            sw.Stop();
            var allocated = GC.GetTotalAllocatedBytes(true) - allocatedBefore;
            var after = GC.GetTotalMemory(false);
            var peakWs = Process.GetCurrentProcess().PeakWorkingSet64;
            Console.Error.WriteLine($"n={n}: {sw.Elapsed.TotalSeconds:F3} s, peak working set {peakWs / 1048576.0:F0} MiB");
            rows.Add(new Dictionary<string, object>
            {
                ["n"] = n,
                ["seconds"] = Math.Round(sw.Elapsed.TotalSeconds, 4),
                ["allocated_mib"] = Math.Round(allocated / 1048576.0, 1),
                ["managed_heap_after_mib"] = Math.Round(after / 1048576.0, 1),
                ["peak_working_set_mib"] = Math.Round(peakWs / 1048576.0, 1),
                ["suggestion_found"] = x.Length == 5,
            });
        }
        var result = new Dictionary<string, object>
        {
            ["inputs"] = 5,
            ["candidates"] = 1000,
            ["processors"] = Environment.ProcessorCount,
            ["note"] = "time per suggestion = ML-II fit (<= 100-point seeded subsample, 1 + 1 restarts, <= 30 L-BFGS iterations) + full Cholesky + GP-UCB over 1000 candidates + refinement; peak working set is cumulative over the run",
            ["results"] = rows,
        };
        Console.Out.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return 0;
    }
}
