namespace Finales.OptimizerCli

open System
open Finales.Optimizer
open Finales.Plotting

/// `finales bench optimizer`: the regret run as the JSON summary and the regret chart.
[<RequireQualifiedAccess>]
module internal BenchJson =

    /// The evaluation counts the JSON summary reports.
    let private reported = [| 10; 25; 50; 100 |]

    let private summary (r: RegretRun) : string =
        let p = r.Problem

        JsonKit.write (fun w ->
            w.WriteStartObject()
            w.WriteString("problem", Benchmarks.name p)
            w.WriteNumber("seeds", r.Seeds)
            w.WriteNumber("evaluations", r.Evaluations)
            w.WriteNumber("initial_design", Benchmarks.initialSize p)

            match p with
            | E1 ->
                let k, x = Benchmarks.e1Optimum.Value
                w.WriteStartObject("optimum")
                w.WriteNumber("conductivity_S_per_m", k)

                w.WriteString(
                    "at",
                    String.Join(
                        ", ",
                        Array.map2
                            (fun (n: string) (v: float) -> sprintf "%s %.4f" n v)
                            [| "LiPF6"; "EC"; "EMC"; "DMC"; "PC"; "T" |]
                            x
                    )
                )

                w.WriteEndObject()
            | E2 ->
                let etaMin, thr, tStar = Benchmarks.e2Reference.Value
                w.WriteStartObject("reference")
                w.WriteNumber("viscosity_min_mPa_s", etaMin)
                w.WriteNumber("viscosity_threshold_mPa_s", thr)
                w.WriteNumber("temperature_min_K", tStar)

                w.WriteString(
                    "regret",
                    "T - T* (K) when conductivity >= 0.8 S/m and viscosity <= threshold; else 100 + viscosity excess; else 1000 + conductivity gap"
                )

                w.WriteEndObject()
            | _ -> ()

            w.WriteString("beta", "srinivas: beta_t = 0.2 * 2 log(|D| t^2 pi^2 / (6 * 0.1)), |D| = 1000 candidates")
            w.WriteStartObject("regret")

            for (label, curves) in [ "gp_ucb", r.GpUcb; "random", r.Random ] do
                w.WriteStartArray(label)

                for s in Benchmarks.summarise curves reported do
                    w.WriteStartObject()
                    w.WriteNumber("evaluations", s.Evaluations)
                    w.WriteNumber("median", s.Median)
                    w.WriteNumber("q1", s.Q1)
                    w.WriteNumber("q3", s.Q3)
                    w.WriteEndObject()

                w.WriteEndArray()

            w.WriteEndObject()
            w.WriteEndObject())

    /// Median regret with the interquartile band per method, on the log scale of every raw value: a static SVG,
    /// since the file is embedded as an image in README and docs (SvgCharts; pages use the Plotly charts).
    let private chart (r: RegretRun) : string =
        let series (label: string) (curves: float[][]) =
            let points =
                if curves.Length = 0 then
                    [||]
                else
                    Benchmarks.summarise curves [| 1 .. curves[0].Length |]
                    |> Array.map (fun s -> BandPoint(s.Evaluations, s.Median, s.Q1, s.Q3))

            BandSeries(label + " (median, IQR)", points)

        let positive =
            Array.append r.GpUcb r.Random
            |> Array.collect id
            |> Array.filter (fun v -> v > 0.0)

        let range (f: float[] -> float) =
            if positive.Length = 0 then
                Nullable()
            else
                Nullable(f positive)

        SvgCharts.LogBands(
            [| series "GP-UCB" r.GpUcb; series "random" r.Random |],
            BandOptions(
                sprintf "%s: simple regret, %d seeds" (Benchmarks.name r.Problem) r.Seeds,
                "evaluations after initial design",
                [| 1; 10; 25; 50; 100 |],
                range Array.min,
                range Array.max
            )
        )

    /// The JSON summary and the SVG chart of a run; errors name the CLI flag.
    let run (problem: string) (seeds: int) (evals: int) (progress: string -> unit) : Result<string * string, string> =
        match Benchmarks.parseProblem problem with
        | Error m -> Error("--" + m)
        | Ok _ when seeds < 1 -> Error(sprintf "--seeds is %d; expected >= 1" seeds)
        | Ok _ when evals < 1 -> Error(sprintf "--evals is %d; expected >= 1" evals)
        | Ok p ->
            let r = Benchmarks.regretRun p seeds evals progress
            Ok(summary r, chart r)
