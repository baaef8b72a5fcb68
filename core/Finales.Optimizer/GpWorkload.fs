namespace Finales.Optimizer

open System

/// The timing workload of `bench gp` (pure; the CLI times it).
[<RequireQualifiedAccess>]
module GpWorkload =

    /// The `bench gp` workload: n observations of a smooth 5-input function on [0,1]^5, then one
    /// suggestion (ML-II fit + GP-UCB over 1000 candidates + refinement). Returns the suggestion.
    let suggestion (n: int) (seed: int) : float[] =
        let rng = Finales.Core.RandomStream.create seed
        let lo, hi = Array.zeroCreate 5, Array.create 5 1.0

        let f (x: float[]) =
            sin (3.0 * x[0]) + x[1] * x[1] - 0.5 * x[2]
            + cos (2.0 * x[3] * x[4])
            + 0.01 * rng.NextFloat()

        let xs = Array.init n (fun _ -> Benchmarks.uniform rng lo hi)
        let ys = xs |> Array.map f

        match GaussianProcess.fit GaussianProcess.defaultOptions seed lo hi xs ys with
        | Error _ -> [||]
        | Ok model ->
            let cands = Array.init 1000 (fun _ -> Benchmarks.uniform rng lo hi)
            let sb = Acquisition.sqrtBeta Acquisition.defaultSchedule cands.Length n

            let score (ps: float[][]) =
                let mu, var = GaussianProcess.predict model ps
                Acquisition.scores sb mu var

            match Acquisition.maximise score (Benchmarks.boxMoves lo hi) 3 15 (fun _ -> false) cands with
            | Some(x, _) -> x
            | None -> [||]
