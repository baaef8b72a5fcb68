namespace Finales.Optimizer

open System

/// How sqrt(beta_t), the multiplier of the posterior standard deviation in GP-UCB, is chosen.
type BetaSchedule =
    /// A fixed sqrt(beta) (for example 2.0).
    | ConstantSqrtBeta of sqrtBeta: float
    /// Srinivas et al. 2010, Theorem 1: beta_t = scale * 2 log(|D| t^2 pi^2 / (6 delta)) with
    /// |D| = number of candidates and t = observations + 1 (practice uses scale 1/5).
    | Srinivas of delta: float * scale: float

/// GP-UCB for minimisation: a(x) = -mu(x) + sqrt(beta_t) sigma(x), maximised.
[<RequireQualifiedAccess>]
module Acquisition =

    /// The default schedule: Srinivas with delta = 0.1 scaled by 1/5.
    let defaultSchedule: BetaSchedule = Srinivas(0.1, 0.2)

    /// sqrt(beta_t) for a schedule, the candidate-set size |D| and the observation count.
    let sqrtBeta (schedule: BetaSchedule) (candidates: int) (observations: int) : float =
        match schedule with
        | ConstantSqrtBeta b -> b
        | Srinivas(delta, scale) ->
            let t = float (observations + 1)
            let d = float (max 1 candidates)
            let beta = 2.0 * log (d * t * t * Math.PI * Math.PI / (6.0 * delta))
            sqrt (max 0.0 (scale * beta))

    /// The upper confidence bound of -f for a posterior mean and variance.
    let ucb (sqrtBeta: float) (mean: float) (variance: float) : float =
        -mean + sqrtBeta * sqrt (max 0.0 variance)

    /// Scores many points at once.
    let scores (sqrtBeta: float) (means: float[]) (variances: float[]) : float[] =
        Array.map2 (ucb sqrtBeta) means variances

    /// Maximises the acquisition: score the candidates, then refine the best `starts` of them by a
    /// pattern search whose moves (given a point and a step size) stay feasible by construction;
    /// each iteration scores all neighbours in one batched prediction. Returns the best point and
    /// its score. `exclude` rejects points (e.g. duplicates of points already in the batch).
    let maximise
        (score: float[][] -> float[])
        (moves: float[] -> float -> float[][])
        (starts: int)
        (iterations: int)
        (exclude: float[] -> bool)
        (candidates: float[][])
        : (float[] * float) option =
        let s = score candidates

        let order =
            Array.init candidates.Length id
            |> Array.filter (fun i -> not (exclude candidates[i]) && not (Double.IsNaN s[i]))
            |> Array.sortWith (fun a b -> compare s[b] s[a] |> fun c -> if c = 0 then compare a b else c)

        if order.Length = 0 then
            None
        else
            let refine (x0: float[]) (v0: float) =
                let mutable x = x0
                let mutable v = v0
                let mutable step = 0.1
                let mutable it = 0

                while it < iterations && step > 1e-3 do
                    let nb = moves x step |> Array.filter (exclude >> not)

                    if nb.Length = 0 then
                        step <- step / 2.0
                    else
                        let sv = score nb
                        let mutable bi = -1

                        for i in 0 .. nb.Length - 1 do
                            if sv[i] > v + 1e-12 && (bi < 0 || sv[i] > sv[bi]) then
                                bi <- i

                        if bi >= 0 then
                            x <- nb[bi]
                            v <- sv[bi]
                        else
                            step <- step / 2.0

                    it <- it + 1

                x, v

            let results =
                order
                |> Array.truncate (max 1 starts)
                |> Array.map (fun i -> refine candidates[i] s[i])

            let best = results |> Array.maxBy snd
            Some best
