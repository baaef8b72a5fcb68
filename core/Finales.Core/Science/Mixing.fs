namespace Finales.Core

open System
open Finales.Core.Units

/// Stocks prepared for repeated mixing: compositions as a dense matrix.
/// Invariant: 1..MaxStocks stocks with distinct names.
type StockSet =
    private
        {
            Stocks: Stock[]
            /// Chemicals present in any stock, in table order.
            Chemicals: Chemical[]
            /// Stock-major mole-fraction matrix: Composition[j * n + i].
            Composition: float[]
            /// Total amount of substance per volume of each stock (mol/cm3).
            MolesPerVolume: float[]
        }

/// The closest accessible formulation (domain.md section 2): the Euclidean projection of the target
/// onto the convex hull of the stocks' mole-fraction vectors, found exactly by enumerating the
/// faces of the hull spanned by affinely independent subsets of stocks.
[<RequireQualifiedAccess>]
module Mixing =
    /// Largest number of stocks accepted (the face enumeration visits 2^k subsets).
    [<Literal>]
    let MaxStocks = 20

    /// Validate a list of stocks (non-empty, distinct names, at most MaxStocks) and precompute.
    let prepare (stocks: Stock list) : Result<StockSet, MixingError list> =
        let errors =
            [ if List.isEmpty stocks then
                  NoStocks
              if List.length stocks > MaxStocks then
                  TooManyStocks(List.length stocks, MaxStocks)
              yield!
                  stocks
                  |> List.countBy Stock.name
                  |> List.filter (fun (_, n) -> n > 1)
                  |> List.map (fst >> DuplicateStockName) ]

        if not (List.isEmpty errors) then
            Error errors
        else
            let arr = Array.ofList stocks

            let chems =
                Chemical.all
                |> List.filter (fun c -> arr |> Array.exists (fun s -> Map.containsKey c (Stock.masses s)))
                |> Array.ofList

            let n = chems.Length
            let comp = Array.zeroCreate (arr.Length * n)

            arr
            |> Array.iteri (fun j s ->
                let x = Stock.moleFractions s

                chems
                |> Array.iteri (fun i c -> comp[j * n + i] <- Map.tryFind c x |> Option.defaultValue 0.0))

            let molesPerVolume =
                arr
                |> Array.map (fun s ->
                    let moles =
                        Stock.masses s
                        |> Map.fold (fun acc c m -> acc + float (m / Chemical.molarMass c)) 0.0

                    moles / float (Stock.totalMass s / Stock.density s))

            Ok
                { Stocks = arr
                  Chemicals = chems
                  Composition = comp
                  MolesPerVolume = molesPerVolume }

    /// Stocks of a prepared set, in the given order.
    let stocks (set: StockSet) : Stock list = List.ofArray set.Stocks

    /// Chemicals present in any stock, in table order.
    let chemicals (set: StockSet) : Chemical list = List.ofArray set.Chemicals

    /// Mole-fraction vector of each stock (the vertices of the accessible hull).
    let compositions (set: StockSet) : (string * Map<Chemical, float>) list =
        let n = set.Chemicals.Length

        set.Stocks
        |> Array.mapi (fun j s ->
            Stock.name s,
            set.Chemicals
            |> Array.mapi (fun i c -> c, set.Composition[j * n + i])
            |> Map.ofArray)
        |> List.ofArray

    // Relative rank tolerance: a stock whose offset from the face's first stock has less than this
    // share of its length outside the span of the previous offsets makes the subset dependent.
    let private rankTolerance = 1e-10

    // Clip tiny negative weights from rounding; anything below -feasibilityTolerance is infeasible.
    let private feasibilityTolerance = 1e-12

    /// The exact minimiser of ||P w - t|| over the simplex (P: n x k, stock-major `comp`).
    /// Returns the weights (over stocks) and the squared distance.
    let private project (n: int) (k: int) (comp: float[]) (t: float[]) : float[] * float =
        let maxSize = min k (max n 1)
        let best = Array.zeroCreate<float> k
        let mutable bestObj = Double.PositiveInfinity
        let idx = Array.zeroCreate<int> maxSize
        let q = Array.zeroCreate<float> (maxSize * n) // orthonormal basis of the face's directions
        let r = Array.zeroCreate<float> (maxSize * maxSize)
        let v = Array.zeroCreate<float> n
        let y = Array.zeroCreate<float> maxSize
        let lambda = Array.zeroCreate<float> maxSize
        let w = Array.zeroCreate<float> k
        let point = Array.zeroCreate<float> n

        for mask in 1 .. (1 <<< k) - 1 do
            let size = Numerics.BitOperations.PopCount(uint32 mask)

            if size <= maxSize then
                let mutable s = 0

                for j in 0 .. k - 1 do
                    if (mask >>> j) &&& 1 = 1 then
                        idx[s] <- j
                        s <- s + 1

                let j0 = idx[0] * n
                let m = size - 1 // number of direction vectors
                let mutable independent = true
                let mutable l = 0

                // Modified Gram-Schmidt (twice, for stability) on d_l = p_idx[l+1] - p_idx[0].
                while independent && l < m do
                    let jl = idx[l + 1] * n
                    let mutable dnorm2 = 0.0

                    for i in 0 .. n - 1 do
                        let d = comp[jl + i] - comp[j0 + i]
                        v[i] <- d
                        dnorm2 <- dnorm2 + d * d

                    for mm in 0 .. l - 1 do
                        r[mm * maxSize + l] <- 0.0

                    for _pass in 1..2 do
                        for mm in 0 .. l - 1 do
                            let mutable dot = 0.0

                            for i in 0 .. n - 1 do
                                dot <- dot + q[mm * n + i] * v[i]

                            r[mm * maxSize + l] <- r[mm * maxSize + l] + dot

                            for i in 0 .. n - 1 do
                                v[i] <- v[i] - dot * q[mm * n + i]

                    let mutable vnorm2 = 0.0

                    for i in 0 .. n - 1 do
                        vnorm2 <- vnorm2 + v[i] * v[i]

                    let vnorm = sqrt vnorm2

                    if dnorm2 = 0.0 || vnorm <= rankTolerance * sqrt dnorm2 then
                        independent <- false
                    else
                        r[l * maxSize + l] <- vnorm

                        for i in 0 .. n - 1 do
                            q[l * n + i] <- v[i] / vnorm

                        l <- l + 1

                if independent then
                    // Least squares: R lambda = Q^T (t - p0).
                    for mm in 0 .. m - 1 do
                        let mutable dot = 0.0

                        for i in 0 .. n - 1 do
                            dot <- dot + q[mm * n + i] * (t[i] - comp[j0 + i])

                        y[mm] <- dot

                    for mm in m - 1 .. -1 .. 0 do
                        let mutable acc = y[mm]

                        for c in mm + 1 .. m - 1 do
                            acc <- acc - r[mm * maxSize + c] * lambda[c]

                        lambda[mm] <- acc / r[mm * maxSize + mm]

                    let mutable w0 = 1.0

                    for mm in 0 .. m - 1 do
                        w0 <- w0 - lambda[mm]

                    let mutable feasible = w0 >= -feasibilityTolerance

                    for mm in 0 .. m - 1 do
                        if lambda[mm] < -feasibilityTolerance then
                            feasible <- false

                    if feasible then
                        Array.fill w 0 k 0.0
                        w[idx[0]] <- max w0 0.0

                        for mm in 0 .. m - 1 do
                            w[idx[mm + 1]] <- max lambda[mm] 0.0

                        let mutable total = 0.0

                        for j in 0 .. k - 1 do
                            total <- total + w[j]

                        for j in 0 .. k - 1 do
                            w[j] <- w[j] / total

                        // The objective of the clipped, renormalised weights, computed directly.
                        Array.fill point 0 n 0.0

                        for j in 0 .. k - 1 do
                            if w[j] > 0.0 then
                                for i in 0 .. n - 1 do
                                    point[i] <- point[i] + w[j] * comp[j * n + i]

                        let mutable obj = 0.0

                        for i in 0 .. n - 1 do
                            let d = point[i] - t[i]
                            obj <- obj + d * d

                        if obj < bestObj then
                            bestObj <- obj
                            Array.blit w 0 best 0 k

        best, bestObj

    /// Closest accessible formulation to a target, with the volume fractions that mix it.
    let solve (set: StockSet) (target: MixingTarget) : MixingResult =
        let n = set.Chemicals.Length
        let k = set.Stocks.Length
        let requested = MixingTarget.fractions target

        let t =
            set.Chemicals
            |> Array.map (fun c -> Map.tryFind c requested |> Option.defaultValue 0.0)

        // Target chemicals that no stock contains add a constant to the squared distance.
        let outside =
            requested
            |> Map.fold (fun acc c v -> if Array.contains c set.Chemicals then acc else acc + v * v) 0.0

        let weights, obj = project n k set.Composition t

        let volumes = Array.init k (fun j -> weights[j] / set.MolesPerVolume[j])
        let volumeTotal = Array.sum volumes

        let achievedInSet =
            Array.init n (fun i ->
                let mutable a = 0.0

                for j in 0 .. k - 1 do
                    a <- a + weights[j] * set.Composition[j * n + i]

                a)

        let achieved =
            let inSet = Seq.zip set.Chemicals achievedInSet |> Map.ofSeq

            requested
            |> Map.fold (fun acc c _ -> if Map.containsKey c acc then acc else Map.add c 0.0 acc) inSet

        { Requested = requested
          VolumeFractions = List.init k (fun j -> Stock.name set.Stocks[j], volumes[j] / volumeTotal)
          Achieved = achieved
          Deviation = sqrt (obj + outside) }

    /// Validate the stocks and solve in one step.
    let mix (stocks: Stock list) (target: MixingTarget) : Result<MixingResult, MixingError list> =
        prepare stocks |> Result.map (fun set -> solve set target)

    /// Maximum reachable mole fraction of each chemical: a linear function's maximum over the hull
    /// is attained at a vertex, so this is the largest fraction in any stock.
    let maximumFractions (set: StockSet) : Map<Chemical, float> =
        let n = set.Chemicals.Length

        set.Chemicals
        |> Array.mapi (fun i c -> c, Array.init set.Stocks.Length (fun j -> set.Composition[j * n + i]) |> Array.max)
        |> Map.ofArray

    /// The fraction of each chemical in the projection of the pure chemical onto the hull (the
    /// closest mixture to "pure chemical"); never above `maximumFractions`.
    let pureProjectionFractions (set: StockSet) : Map<Chemical, float> =
        set.Chemicals
        |> Array.map (fun c ->
            let result = solve set (MixingTarget.ofValidFractions (Map.ofList [ c, 1.0 ]))
            c, Map.tryFind c result.Achieved |> Option.defaultValue 0.0)
        |> Map.ofArray
