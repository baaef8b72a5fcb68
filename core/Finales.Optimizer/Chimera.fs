namespace Finales.Optimizer

open System

/// Whether an objective is minimised or maximised.
type Goal =
    | Minimise
    | Maximise

/// How the tolerance of one objective is read.
type ToleranceKind =
    /// A fraction in [0,1] of the objective's range over the current region of interest.
    | Relative
    /// A value in the objective's own units.
    | Absolute
    /// A fraction in [0,1]: the (numpy-linear) percentile of the objective over the region.
    | Percentile

/// One level of a Chimera hierarchy (level 0 is the most important).
type ChimeraObjective =
    { Goal: Goal
      Tolerance: float
      Kind: ToleranceKind }

/// Every intermediate array of one Chimera scalarisation, named as in the reference vectors.
type ChimeraTrace =
    {
        /// n x K, after the sign flip of `max` objectives.
        AdjustedObjs: float[][]
        /// K thresholds after the sign flip (only absolute thresholds of `max` goals are negated).
        AdjustedThresholds: float[]
        /// n x K, each column min-max rescaled over all n rows.
        ScaledObjs: float[][]
        /// K thresholds: absolute ones rescaled like their column, the others unchanged.
        ScaledThresholds: float[]
        /// (K+1) x n: g_0 = z_0, then g_k = z_{k mod K} - c_k.
        ShiftedObjs: float[][]
        /// K shifted thresholds Ts_k = T_k - c_k.
        ShiftedThresholds: float[]
        /// n merits, lower is better; in [0,1] when max > 0, zeros where the reference gives NaN.
        Merits: float[]
    }

/// Invalid Chimera input; each case names the field and the offending value.
type ChimeraError =
    | NoObjectives
    | NoObservations
    | RaggedRow of row: int * length: int * expected: int
    | NonFiniteObjective of row: int * column: int * value: float
    | RelativeToleranceOutOfRange of index: int * value: float
    | AbsoluteAndPercentile of index: int
    | UnknownGoal of index: int * value: string
    | LengthMismatch of field: string * length: int * expected: int
    | InvalidSoftness of float

    /// A sentence naming the field and the value.
    member this.Message =
        match this with
        | NoObjectives -> "tolerances is empty; Chimera needs at least one objective"
        | NoObservations -> "objectives has no rows; Chimera needs at least one observation"
        | RaggedRow(r, l, e) -> sprintf "objectives[%d] has %d values; expected %d (one per tolerance)" r l e
        | NonFiniteObjective(r, c, v) -> sprintf "objectives[%d][%d] is %g; objective values must be finite" r c v
        | RelativeToleranceOutOfRange(i, v) ->
            sprintf "tolerances[%d] is %g; relative and percentile tolerances must lie in [0,1]" i v
        | AbsoluteAndPercentile i -> sprintf "absolutes[%d] and percentiles[%d] are both true; choose one" i i
        | UnknownGoal(i, v) -> sprintf "goals[%d] is '%s'; goals must be 'min' or 'max'" i v
        | LengthMismatch(f, l, e) -> sprintf "%s has %d entries; expected %d (one per tolerance)" f l e
        | InvalidSoftness s -> sprintf "softness is %g; softness must be finite and >= 0" s

/// Chimera scalarisation (Hase et al. 2018), reproducing matter-chimera's `scalarize` exactly.
[<RequireQualifiedAccess>]
module Chimera =

    /// The default softness of the reference implementation.
    [<Literal>]
    let DefaultSoftness = 1e-3

    /// Parses "min" / "max" (the only goals the reference accepts).
    let parseGoal (index: int) (goal: string) : Result<Goal, ChimeraError> =
        match goal with
        | "min" -> Ok Minimise
        | "max" -> Ok Maximise
        | other -> Error(UnknownGoal(index, other))

    /// Builds the hierarchy from the reference's parallel arrays, validating every entry.
    let objectives
        (tolerances: float[])
        (absolutes: bool[])
        (percentiles: bool[])
        (goals: string[])
        : Result<ChimeraObjective[], ChimeraError> =
        let k = tolerances.Length

        if k = 0 then
            Error NoObjectives
        elif absolutes.Length <> k then
            Error(LengthMismatch("absolutes", absolutes.Length, k))
        elif percentiles.Length <> k then
            Error(LengthMismatch("percentiles", percentiles.Length, k))
        elif goals.Length <> k then
            Error(LengthMismatch("goals", goals.Length, k))
        else
            let rec build i (acc: ChimeraObjective list) =
                if i = k then
                    Ok(acc |> List.rev |> Array.ofList)
                else
                    match parseGoal i goals[i] with
                    | Error e -> Error e
                    | Ok goal ->
                        if absolutes[i] && percentiles[i] then
                            Error(AbsoluteAndPercentile i)
                        else
                            let kind =
                                if absolutes[i] then Absolute
                                elif percentiles[i] then Percentile
                                else Relative

                            let t = tolerances[i]

                            if Double.IsNaN t || Double.IsInfinity t then
                                Error(RelativeToleranceOutOfRange(i, t))
                            elif kind <> Absolute && (t < 0.0 || t > 1.0) then
                                Error(RelativeToleranceOutOfRange(i, t))
                            else
                                build
                                    (i + 1)
                                    ({ Goal = goal
                                       Tolerance = t
                                       Kind = kind }
                                     :: acc)

            build 0 []

    /// numpy's default ("linear") percentile of the values at fraction q in [0,1].
    let internal percentileLinear (values: float[]) (q: float) : float =
        let v = Array.sort values
        let n = v.Length
        let idx = q * float (n - 1)
        let lo = int (floor idx) |> max 0 |> min (n - 1)
        let hi = min (lo + 1) (n - 1)
        let t = idx - float lo
        let a, b = v[lo], v[hi]
        let d = b - a
        // numpy's _lerp: a + d t, but b - d (1 - t) for t >= 0.5
        if t >= 0.5 then b - d * (1.0 - t) else a + d * t

    /// Chimera's step: hard below softness 1e-5, a stable logistic sigmoid(v/s) otherwise.
    let internal step (softness: float) (v: float) : float =
        if softness < 1e-5 then
            (if v >= 0.0 then 1.0 else 0.0)
        else
            let x = v / softness

            if x >= 0.0 then
                1.0 / (1.0 + exp (-x))
            else
                let e = exp x
                e / (1.0 + e)

    /// Scalarises n x K observations (rows = observations, columns in hierarchy order) and returns
    /// every intermediate array. Lower merit is better. Where the reference divides 0 by 0 (all
    /// merits equal and positive) it returns NaN; this port returns zeros there (all points equal).
    let trace
        (hierarchy: ChimeraObjective[])
        (softness: float)
        (observations: float[][])
        : Result<ChimeraTrace, ChimeraError> =
        let k = hierarchy.Length
        let n = observations.Length

        if k = 0 then
            Error NoObjectives
        elif n = 0 then
            Error NoObservations
        elif Double.IsNaN softness || Double.IsInfinity softness || softness < 0.0 then
            Error(InvalidSoftness softness)
        else
            let badRow = observations |> Array.tryFindIndex (fun r -> r.Length <> k)

            match badRow with
            | Some r -> Error(RaggedRow(r, observations[r].Length, k))
            | None ->
                let nonFinite =
                    seq {
                        for i in 0 .. n - 1 do
                            for j in 0 .. k - 1 do
                                let v = observations[i][j]

                                if Double.IsNaN v || Double.IsInfinity v then
                                    yield (i, j, v)
                    }
                    |> Seq.tryHead

                match nonFinite with
                | Some(i, j, v) -> Error(NonFiniteObjective(i, j, v))
                | None ->
                    match
                        hierarchy
                        |> Array.tryFindIndex (fun o -> o.Kind <> Absolute && (o.Tolerance < 0.0 || o.Tolerance > 1.0))
                    with
                    | Some i -> Error(RelativeToleranceOutOfRange(i, hierarchy[i].Tolerance))
                    | None ->
                        let sign j =
                            if hierarchy[j].Goal = Maximise then -1.0 else 1.0

                        let adjusted =
                            observations |> Array.map (fun row -> Array.init k (fun j -> sign j * row[j]))

                        let adjThr =
                            Array.init k (fun j ->
                                let o = hierarchy[j]

                                if o.Goal = Maximise && o.Kind = Absolute then
                                    -o.Tolerance
                                else
                                    o.Tolerance)
                        // column-wise min-max rescaling
                        let scaledCols = Array.init k (fun _ -> Array.zeroCreate<float> n)
                        let scaledThr = Array.zeroCreate<float> k

                        for j in 0 .. k - 1 do
                            let mutable lo = Double.PositiveInfinity
                            let mutable hi = Double.NegativeInfinity

                            for i in 0 .. n - 1 do
                                lo <- min lo (adjusted[i][j])
                                hi <- max hi (adjusted[i][j])

                            let range = hi - lo

                            for i in 0 .. n - 1 do
                                scaledCols[j][i] <-
                                    if range = 0.0 then
                                        adjusted[i][j] - lo
                                    else
                                        (adjusted[i][j] - lo) / range

                            scaledThr[j] <-
                                if hierarchy[j].Kind = Absolute then
                                    (if range = 0.0 then
                                         adjThr[j] - lo
                                     else
                                         (adjThr[j] - lo) / range)
                                else
                                    adjThr[j]

                        let scaled = Array.init n (fun i -> Array.init k (fun j -> scaledCols[j][i]))
                        // region-of-interest recursion
                        let shifted = Array.zeroCreate<float[]> (k + 1)
                        let shiftedThr = Array.zeroCreate<float> k
                        shifted[0] <- Array.copy scaledCols[0]
                        let mutable region = Array.init n id
                        let mutable c = 0.0

                        for j in 0 .. k - 1 do
                            let z = scaledCols[j]
                            let inRegion = region |> Array.map (fun i -> z[i])

                            let t =
                                match hierarchy[j].Kind with
                                | Absolute -> scaledThr[j]
                                | Percentile -> percentileLinear inRegion scaledThr[j]
                                | Relative ->
                                    let lo = Array.min inRegion
                                    let hi = Array.max inRegion
                                    lo + scaledThr[j] * (hi - lo)

                            shiftedThr[j] <- t - c
                            // the reference compares with the raw tolerance, not with t
                            let next = region |> Array.filter (fun i -> z[i] < scaledThr[j])

                            if next.Length > 0 then
                                region <- next

                            let nxt = (j + 1) % k
                            let zn = scaledCols[nxt]
                            let maxRegion = region |> Array.map (fun i -> zn[i]) |> Array.max
                            let minThr = Array.min (shiftedThr[0..j])
                            c <- maxRegion - minThr
                            shifted[j + 1] <- zn |> Array.map (fun v -> v - c)

                        let merits = Array.copy shifted[k]

                        for j in k - 1 .. -1 .. 0 do
                            let g = shifted[j]

                            for i in 0 .. n - 1 do
                                let h = step softness (g[i] - shiftedThr[j])
                                merits[i] <- merits[i] * (1.0 - h) + h * g[i]

                        let mMax = Array.max merits
                        let mMin = Array.min merits

                        let final =
                            if mMax > 0.0 then
                                let range = mMax - mMin

                                if range > 0.0 then
                                    merits |> Array.map (fun m -> (m - mMin) / range)
                                else
                                    Array.zeroCreate n // reference: 0/0 = NaN; all points are equal
                            else
                                merits

                        Ok
                            { AdjustedObjs = adjusted
                              AdjustedThresholds = adjThr
                              ScaledObjs = scaled
                              ScaledThresholds = scaledThr
                              ShiftedObjs = shifted
                              ShiftedThresholds = shiftedThr
                              Merits = final }

    /// The merits only (lower is better); see `trace`.
    let scalarise
        (hierarchy: ChimeraObjective[])
        (softness: float)
        (observations: float[][])
        : Result<float[], ChimeraError> =
        trace hierarchy softness observations |> Result.map (fun t -> t.Merits)
