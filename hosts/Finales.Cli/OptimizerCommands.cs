using System.Diagnostics;
using System.Text.Json;
using Finales.Optimizer.Interop;
using Finales.OptimizerCli;

namespace Finales.Cli;

/// <summary>Shared plumbing of the optimizer commands: stdin JSON in, stdout JSON out, exit 2 with {"error"} on bad input.</summary>
internal static class OptimizerIo
{
    public static int Error(string message)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return 2;
    }

    public static int Emit(bool ok, string json, string error)
    {
        if (!ok) return Error(error);
        Console.Out.WriteLine(json);
        return 0;
    }

    public static bool WantsHelp(string[] args) => args.Any(a => a is "--help" or "-h");
}

/// <summary>`finales chimera`: Chimera merits for a table of objectives.</summary>
public static class ChimeraCommand
{
    public static int Run(string[] args)
    {
        if (OptimizerIo.WantsHelp(args))
        {
            Console.WriteLine("""
                Usage: ./finales chimera < request.json
                Chimera scalarisation (matter-chimera compatible). Lower merit is better.
                stdin:  {"objectives":[[..],..],"tolerances":[..],"absolutes":[..],"percentiles":[..],
                         "goals":["min","max",..],"softness":0.001}
                        (absolutes/percentiles default to false, goals to "min", softness to 0.001)
                stdout: {"merits":[..]}   exit 2 with {"error": "..."} on bad input.
                Where the reference returns NaN (all merits equal and > 0) this returns zeros.
                """);
            return 0;
        }
        if (args.Length > 0) return OptimizerIo.Error($"argument '{args[0]}' is not recognised; chimera reads JSON on stdin");
        var ok = OptimizerJson.TryChimera(Console.In.ReadToEnd(), out var json, out var error);
        return OptimizerIo.Emit(ok, json, error);
    }
}

/// <summary>`finales suggest`: the next batch of a GP-UCB + Chimera campaign.</summary>
public static class SuggestCommand
{
    public static int Run(string[] args)
    {
        if (OptimizerIo.WantsHelp(args))
        {
            Console.WriteLine("""
                Usage: ./finales suggest < request.json
                The next batch of formulations (GP-UCB on Chimera merits over the FINALES2 limitations).
                stdin: {
                  "limitations": <FINALES2 limitations: object, list, {"anyOf": [[..]]} or a tenant document>,
                  "temperature": {"min": K, "max": K},          optional; used where limitations give none
                  "objectives": [{"quantity": "conductivity", "goal": "max", "tolerance": 0.2,
                                  "kind": "relative|absolute|percentile"}, ...]   (hierarchy order),
                  "observations": [{"formulation": {"<SMILES or name>": fraction, ..}, "temperature": K,
                                    "source": "two_electrode", "quantity": "conductivity", "value": 9.1,
                                    "rating": 3, "success": true, "deleted": false}, ...],
                  "pending": [{"formulation": {..}, "temperature": K, "source": ".."}, ...],
                  "batch_size": 1, "seed": 0, "target_source": "", "min_rating": -inf,
                  "candidates": 1000, "softness": 0.001,
                  "beta": {"schedule": "srinivas", "delta": 0.1, "scale": 0.2} | {"schedule": "constant", "sqrt_beta": 2.0}
                }
                stdout: {"suggestions": [{"formulation": {..}, "temperature": K, "source": "..",
                          "predicted_merit": m, "predicted_std": s, "acquisition": a}], "beta": "<form used>"}
                exit 2 with {"error": "..."} naming the field and value on bad input.
                """);
            return 0;
        }
        if (args.Length > 0) return OptimizerIo.Error($"argument '{args[0]}' is not recognised; suggest reads JSON on stdin");
        var ok = OptimizerJson.TrySuggest(Console.In.ReadToEnd(), out var json, out var error);
        return OptimizerIo.Emit(ok, json, error);
    }
}

/// <summary>`finales bench optimizer|gp`: regret curves and GP timing (the lead merges this with the other bench sub-commands).</summary>
public static class BenchOptimizerCommands
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h")
        {
            Console.WriteLine("""
                Usage: ./finales bench optimizer --problem branin|hartmann6|dtlz2|e1|e2 [--seeds 20] [--evals 100] [--out DIR]
                       ./finales bench gp [--n 10,50,100,200,500,1000,2000,5000] [--seed 0]
                optimizer: simple regret of GP-UCB vs random search (same seeded initial design of 2d points),
                           median and quartiles at 10/25/50/100 evaluations as JSON; SVG plot to DIR; progress on stderr.
                gp:        time per suggestion (fit + GP-UCB over 1000 candidates + refinement), 5 inputs, and memory, as JSON.
                """);
            return args.Length == 0 ? 2 : 0;
        }
        return args[0] switch
        {
            "optimizer" => Optimizer(args[1..]),
            "gp" => Gp(args[1..]),
            _ => OptimizerIo.Error($"bench sub-command '{args[0]}' is unknown; expected optimizer or gp"),
        };
    }

    private static Dictionary<string, string>? Options(string[] args, string[] known, out string? error)
    {
        var result = new Dictionary<string, string>();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (!known.Contains(args[i])) { error = $"option '{args[i]}' is unknown; expected one of {string.Join(", ", known)}"; return null; }
            if (i + 1 >= args.Length) { error = $"option {args[i]} needs a value"; return null; }
            result[args[i]] = args[++i];
        }
        return result;
    }

    private static int Optimizer(string[] args)
    {
        if (OptimizerIo.WantsHelp(args)) return Run(["--help"]);
        var o = Options(args, ["--problem", "--seeds", "--evals", "--out"], out var err);
        if (o is null) return OptimizerIo.Error(err!);
        if (!o.TryGetValue("--problem", out var problem)) return OptimizerIo.Error("--problem is missing; expected branin, hartmann6, dtlz2, e1 or e2");
        if (!int.TryParse(o.GetValueOrDefault("--seeds", "20"), out var seeds)) return OptimizerIo.Error($"--seeds is '{o["--seeds"]}'; expected an integer");
        if (!int.TryParse(o.GetValueOrDefault("--evals", "100"), out var evals)) return OptimizerIo.Error($"--evals is '{o["--evals"]}'; expected an integer");
        var sw = Stopwatch.StartNew();
        if (!OptimizerJson.TryBenchOptimizer(problem, seeds, evals, line => Console.Error.WriteLine($"[{sw.Elapsed.TotalSeconds,7:F1}s] {line}"), out var bench, out var error))
            return OptimizerIo.Error(error);
        if (o.TryGetValue("--out", out var dir))
        {
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, $"regret-{problem}.svg");
            File.WriteAllText(path, bench.Svg);
            Console.Error.WriteLine($"wrote {path}");
        }
        Console.Out.WriteLine(bench.Json);
        return 0;
    }

    private static int Gp(string[] args)
    {
        if (OptimizerIo.WantsHelp(args)) return Run(["--help"]);
        var o = Options(args, ["--n", "--seed"], out var err);
        if (o is null) return OptimizerIo.Error(err!);
        var ns = new List<int>();
        foreach (var part in o.GetValueOrDefault("--n", "10,50,100,200,500,1000,2000,5000").Split(','))
        {
            if (!int.TryParse(part, out var n) || n < 2 || n > 20000) return OptimizerIo.Error($"--n contains '{part}'; expected integers in 2..20000");
            ns.Add(n);
        }
        if (!int.TryParse(o.GetValueOrDefault("--seed", "0"), out var seed)) return OptimizerIo.Error($"--seed is '{o["--seed"]}'; expected an integer");
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
