namespace Finales.OptimizerCli

open System
open System.Runtime.InteropServices

/// The outputs of `finales bench optimizer`: the JSON summary and the regret chart (SVG).
type BenchOutput =
    {
        /// The JSON summary printed on stdout.
        Json: string
        /// The self-contained SVG chart written to --out.
        Svg: string
    }

/// The optimizer commands' JSON adapters for the C# CLI. Try pattern: false with an error naming
/// the JSON field (or CLI flag) and value; the out value is then empty.
[<AbstractClass; Sealed>]
type OptimizerJson =

    static member private Try(outcome: Result<'T, string>, empty: 'T, value: byref<'T>, error: byref<string>) : bool =
        match outcome with
        | Ok v ->
            value <- v
            error <- ""
            true
        | Error e ->
            value <- empty
            error <- e
            false

    /// `finales chimera`: request JSON text to response JSON text ({merits}).
    static member TryChimera
        (requestJson: string, [<Out>] responseJson: byref<string>, [<Out>] error: byref<string>)
        : bool =
        OptimizerJson.Try(ChimeraJson.run requestJson, "", &responseJson, &error)

    /// `finales suggest`: request JSON text to response JSON text ({suggestions, beta}).
    static member TrySuggest
        (requestJson: string, [<Out>] responseJson: byref<string>, [<Out>] error: byref<string>)
        : bool =
        OptimizerJson.Try(SuggestJson.run requestJson, "", &responseJson, &error)

    /// `finales bench optimizer`: regret curves of GP-UCB and random search for a problem,
    /// `seeds` runs of `evals` evaluations each; progress lines go to `progress` (may be null).
    static member TryBenchOptimizer
        (
            problem: string,
            seeds: int,
            evals: int,
            progress: Action<string>,
            [<Out>] output: byref<BenchOutput>,
            [<Out>] error: byref<string>
        ) : bool =
        let report (line: string) =
            if not (obj.ReferenceEquals(progress, null)) then
                progress.Invoke line

        OptimizerJson.Try(
            BenchJson.run problem seeds evals report
            |> Result.map (fun (json, svg) -> { Json = json; Svg = svg }),
            { Json = ""; Svg = "" },
            &output,
            &error
        )
