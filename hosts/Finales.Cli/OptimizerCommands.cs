using Finales.OptimizerCli;

namespace Finales.Cli;

/// <summary>Shared plumbing of the optimizer commands: stdin JSON in, stdout JSON out, exit 2 with {"error"} on bad input.</summary>
internal static class OptimizerIo
{
    /// <summary>The JSON on success; a refusal is a <see cref="UsageError"/>, printed as {"error": ...} by the runner.</summary>
    public static int Emit(bool ok, string json, string error)
    {
        if (!ok) throw new UsageError(error);
        Console.Out.WriteLine(json);
        return 0;
    }

    /// <summary>An optimizer command reading JSON on stdin: {"error": ...} on stdout and exit code 2 on bad input.</summary>
    public static FinalesCommand Command(string name, string summary, string notes, string example, Func<string, (bool Ok, string Json, string Error)> run)
    {
        var command = new FinalesCommand(name, summary) { Errors = ErrorStyle.Json, Notes = notes, Examples = [example] };
        command.SetAction(_ =>
        {
            var (ok, json, error) = run(Console.In.ReadToEnd());
            return Emit(ok, json, error);
        });
        return command;
    }
}

/// <summary>`finales chimera`: Chimera merits for a table of objectives.</summary>
public static class ChimeraCommand
{
    public static FinalesCommand Create() => OptimizerIo.Command("chimera", "Chimera merits of a table of objectives (JSON stdin -> stdout)", """
        Chimera scalarisation (matter-chimera compatible). Lower merit is better.
        stdin:  {"objectives":[[..],..],"tolerances":[..],"absolutes":[..],"percentiles":[..],
                 "goals":["min","max",..],"softness":0.001}
                (absolutes/percentiles default to false, goals to "min", softness to 0.001)
        stdout: {"merits":[..]}   exit 2 with {"error": "..."} on bad input.
        Where the reference returns NaN (all merits equal and > 0) this returns zeros.
        """,
        """echo '{"objectives":[[1,2],[2,1],[0.5,3]],"tolerances":[0.5,0],"goals":["min","min"]}' | ./finales chimera""",
        stdin => (OptimizerJson.TryChimera(stdin, out var json, out var error), json, error));
}

/// <summary>`finales suggest`: the next batch of a GP-UCB + Chimera campaign.</summary>
public static class SuggestCommand
{
    public static FinalesCommand Create() => OptimizerIo.Command("suggest", "Next batch of formulations by GP-UCB + Chimera (JSON stdin -> stdout)", """
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
        """,
        "./finales suggest < docs/examples/suggest-request.json",
        stdin => (OptimizerJson.TrySuggest(stdin, out var json, out var error), json, error));
}
