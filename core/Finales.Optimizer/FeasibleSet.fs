namespace Finales.Optimizer

open System
open System.Text.Json
open Finales.Core
open Finales.Core.Units

/// One alternative chemical set with its temperature range (kelvin).
type FeasibleSet =
    { Components: ComponentBound[]
      TemperatureMin: float<K>
      TemperatureMax: float<K> }

/// A point of the design space: fractions aligned with a chemical list (chemicals as written, compared by their
/// canonical key), and a temperature (kelvin).
type DesignPoint =
    { Fractions: float[]
      Temperature: float<K> }

/// The feasible set of formulations from FINALES2 tenant limitations, with sampling that keeps
/// sum = 1 and every bound by construction, and moves for local refinement. Chemicals are one dimension per
/// canonical key (`ChemicalKey`): chemical lists hold each chemical as first written, and a list entry matches the
/// component of an alternative that names the same chemical in any spelling (SMILES, InChIKey, name).
[<RequireQualifiedAccess>]
module FeasibleSet =

    let private eps = 1e-12

    /// For each chemical of a list, the index of the alternative's component naming the same chemical, if any.
    let private componentIndex (set: FeasibleSet) (keys: ChemicalKey[]) : int option[] =
        let own = set.Components |> Array.map (fun c -> c.Key)
        keys |> Array.map (fun k -> Array.tryFindIndex ((=) k) own)

    /// An alternative names every chemical once: two components with one canonical key would be two dimensions of
    /// one chemical.
    let private checkDistinct (i: int) (set: FeasibleSet) : Result<FeasibleSet, LimitationError> =
        match
            set.Components
            |> Array.groupBy (fun c -> c.Key)
            |> Array.tryFind (fun (_, cs) -> cs.Length > 1)
        with
        | Some(key, cs) ->
            Error(
                Malformed(
                    sprintf "limitations alternative %d" i,
                    sprintf
                        "chemical %s is named %d times (%s); each chemical may appear once in a formulation"
                        (ChemicalKey.value key)
                        cs.Length
                        (cs |> Array.map (fun c -> "'" + c.Chemical + "'") |> String.concat ", ")
                )
            )
        | None -> Ok set

    /// Why an alternative's fractions admit no point (no chemicals, the lower bounds of the chemicals that cannot be
    /// zero above 1, the upper bounds below 1), or None when some zero-set has sum lower <= 1 <= sum upper.
    let internal infeasibility (set: FeasibleSet) : string option =
        let fixedLower =
            set.Components |> Array.sumBy (fun c -> if c.ZeroAllowed then 0.0 else c.Lower)

        let maxUpper = set.Components |> Array.sumBy (fun c -> c.Upper)

        if set.Components.Length = 0 then
            Some "no chemicals"
        elif fixedLower > 1.0 + 1e-9 then
            Some(sprintf "the lower bounds sum to %g > 1" fixedLower)
        elif maxUpper < 1.0 - 1e-9 then
            Some(sprintf "the upper bounds sum to %g < 1" maxUpper)
        else
            None

    /// Checks that an alternative admits at least one point (see `infeasibility`).
    let private checkFeasible (i: int) (set: FeasibleSet) : Result<FeasibleSet, LimitationError> =
        match infeasibility set with
        | Some detail -> Error(Infeasible(i, detail))
        | None -> Ok set

    /// Parses limitations: a tenant document, a {quantity, method, limitations} record, a list of
    /// them, an object {formulation, temperature}, a list of such objects, or {"anyOf": [[...]]}.
    /// Each chemical set of each `formulation` list (times each temperature range) is one
    /// alternative. `defaultTemperature` is used where a body has no temperature.
    let parse
        (defaultTemperature: (float * float) option)
        (root: JsonElement)
        : Result<FeasibleSet[], LimitationError> =
        match FeasibleSetParsing.alternatives defaultTemperature root with
        | Error e -> Error e
        | Ok [] -> Error NoFormulation
        | Ok alternatives ->
            alternatives
            |> List.map (fun (components, lo, hi) ->
                { Components = components
                  TemperatureMin = lo * 1.0<K>
                  TemperatureMax = hi * 1.0<K> })
            |> List.mapi (fun i set -> checkDistinct i set |> Result.bind (checkFeasible i))
            |> Finales.Core.Results.all
            |> Result.map Array.ofList

    /// Parses limitations from JSON text (see `parse`).
    let parseText (defaultTemperature: (float * float) option) (json: string) : Result<FeasibleSet[], LimitationError> =
        try
            use doc = JsonDocument.Parse(json)
            parse defaultTemperature (doc.RootElement.Clone())
        with :? JsonException as ex ->
            Error(Malformed("$", "not valid JSON: " + ex.Message))

    /// The union of chemicals over all alternatives, one per canonical key, in order of first appearance, each
    /// as first written.
    let chemicals (sets: FeasibleSet[]) : string[] =
        sets
        |> Array.collect (fun s -> s.Components)
        |> Array.distinctBy (fun c -> c.Key)
        |> Array.map (fun c -> c.Chemical)

    /// Zero-sets that admit a point: for each either-zero-or-range component, whether it is zero.
    /// Enumerated exactly for up to 14 such components, otherwise sampled.
    let private activeSets (rng: Finales.Core.RandomStream) (set: FeasibleSet) : bool[][] =
        let comps = set.Components

        let optional =
            comps
            |> Array.indexed
            |> Array.filter (fun (_, c) -> c.ZeroAllowed && c.Lower > 0.0)
            |> Array.map fst

        let feasible (active: bool[]) =
            let lo =
                Array.fold2 (fun s (c: ComponentBound) a -> if a then s + c.Lower else s) 0.0 comps active

            let hi =
                Array.fold2 (fun s (c: ComponentBound) a -> if a then s + c.Upper else s) 0.0 comps active

            lo <= 1.0 + 1e-12 && hi >= 1.0 - 1e-12

        let make (mask: int -> bool) =
            let active =
                comps
                |> Array.map (fun c -> not (c.ZeroAllowed && c.Lower > 0.0) && c.Upper > 0.0)

            optional |> Array.iteri (fun k i -> active[i] <- mask k)
            active

        if optional.Length <= 14 then
            [| for m in 0 .. (1 <<< optional.Length) - 1 do
                   let a = make (fun k -> (m >>> k) &&& 1 = 1)

                   if feasible a then
                       yield a |]
        else
            [| for _ in 1..2000 do
                   let a = make (fun _ -> rng.NextInt(2) = 1)

                   if feasible a then
                       yield a |]
            |> Array.distinct

    /// Samples the fractions of one alternative with the given active components: lowers first,
    /// then the excess distributed component by component (random order) within conditional bounds
    /// [max(0, R - later capacity), min(cap, R)], drawn from the truncated stick-breaking marginal so
    /// that loose bounds give the uniform distribution on the simplex. Never rejects.
    let private sampleActive (rng: Finales.Core.RandomStream) (comps: ComponentBound[]) (active: bool[]) : float[] =
        let n = comps.Length
        let x = Array.init n (fun i -> if active[i] then comps[i].Lower else 0.0)
        let idx = Array.init n id |> Array.filter (fun i -> active[i])
        // Fisher-Yates shuffle of the active components
        for i in idx.Length - 1 .. -1 .. 1 do
            let j = rng.NextInt(i + 1)
            let t = idx[i]
            idx[i] <- idx[j]
            idx[j] <- t

        let caps = idx |> Array.map (fun i -> comps[i].Upper - comps[i].Lower)
        let mutable remaining = max 0.0 (1.0 - Array.sum x)
        let mutable laterCap = Array.sum caps

        for k in 0 .. idx.Length - 2 do
            laterCap <- laterCap - caps[k]
            let lo = max 0.0 (remaining - laterCap)
            let hi = min caps[k] remaining

            let e =
                if hi <= lo then
                    lo
                elif remaining <= 0.0 then
                    0.0
                else
                    let m = float (idx.Length - k) // components still sharing `remaining`

                    let cdf t =
                        1.0 - Math.Pow(1.0 - min 1.0 (t / remaining), m - 1.0)

                    let u = cdf lo + rng.NextFloat() * (cdf hi - cdf lo)
                    let t = remaining * (1.0 - Math.Pow(1.0 - u, 1.0 / (m - 1.0)))
                    min hi (max lo t)

            x[idx[k]] <- x[idx[k]] + e
            remaining <- remaining - e

        if idx.Length > 0 then
            let last = idx[idx.Length - 1]
            let others = idx |> Array.take (idx.Length - 1) |> Array.sumBy (fun i -> x[i])
            x[last] <- 1.0 - others

        x

    /// Expands an alternative's fractions onto the global chemical list (absent chemicals are 0).
    let private expand (index: int option[]) (local: float[]) =
        index
        |> Array.map (function
            | Some i -> local[i]
            | None -> 0.0)

    /// Samples `count` feasible points (seeded by the given generator): an alternative, then a
    /// feasible zero-set, then fractions by `sampleActive`, and a uniform temperature.
    let sample
        (rng: Finales.Core.RandomStream)
        (chemicals: string[])
        (sets: FeasibleSet[])
        (count: int)
        : DesignPoint[] =
        let actives = sets |> Array.map (activeSets rng)
        let keys = chemicals |> Array.map ChemicalKey.create
        let indexes = sets |> Array.map (fun s -> componentIndex s keys)

        let usable =
            Array.init sets.Length id |> Array.filter (fun i -> actives[i].Length > 0)

        if usable.Length = 0 then
            [||]
        else
            Array.init count (fun _ ->
                let a = usable[rng.NextInt usable.Length]
                let set = sets[a]
                let active = actives[a][rng.NextInt actives[a].Length]
                let local = sampleActive rng set.Components active

                let t =
                    set.TemperatureMin + rng.NextFloat() * (set.TemperatureMax - set.TemperatureMin)

                { Fractions = expand indexes[a] local
                  Temperature = t })

    /// `satisfies` with the chemicals' component indexes in the alternative (see `componentIndex`).
    let private satisfiesAt (tol: float) (index: int option[]) (set: FeasibleSet) (p: DesignPoint) : bool =
        let sumOk = abs (Array.sum p.Fractions - 1.0) <= tol

        let tOk =
            p.Temperature >= set.TemperatureMin - tol * 1.0<K>
            && p.Temperature <= set.TemperatureMax + tol * 1.0<K>

        let compsOk () =
            index
            |> Array.mapi (fun i j ->
                let x = p.Fractions[i]

                match j with
                | None -> abs x <= tol
                | Some j ->
                    let k = set.Components[j]
                    (k.ZeroAllowed && abs x <= tol) || (x >= k.Lower - tol && x <= k.Upper + tol))
            |> Array.forall id

        p.Fractions.Length = index.Length && sumOk && tOk && compsOk ()

    /// Whether a point satisfies one alternative within `tol`: chemicals outside it are zero, each
    /// fraction is 0 (if allowed) or within bounds, the sum is 1, the temperature is in range.
    let satisfies (tol: float) (chemicals: string[]) (set: FeasibleSet) (p: DesignPoint) : bool =
        satisfiesAt tol (componentIndex set (chemicals |> Array.map ChemicalKey.create)) set p

    /// Whether a point satisfies at least one alternative.
    let isFeasible (tol: float) (chemicals: string[]) (sets: FeasibleSet[]) (p: DesignPoint) : bool =
        let keys = chemicals |> Array.map ChemicalKey.create
        sets |> Array.exists (fun s -> satisfiesAt tol (componentIndex s keys) s p)

    /// Neighbours of a feasible point for pattern search, feasible by construction: move an amount
    /// `step` (clipped to the bounds) from one nonzero chemical to another nonzero one of the same
    /// alternative (sum and zero-set preserved), and temperature +- step x range (clipped).
    let moves (chemicals: string[]) (sets: FeasibleSet[]) (p: DesignPoint) (step: float) : DesignPoint[] =
        let keys = chemicals |> Array.map ChemicalKey.create

        let found =
            sets
            |> Array.tryPick (fun s ->
                let index = componentIndex s keys
                if satisfiesAt 1e-9 index s p then Some(s, index) else None)

        match found with
        | None -> [||]
        | Some(set, index) ->
            // every chemical of the alternative, by its position in the chemical list
            let bounds = index |> Array.map (Option.map (fun j -> set.Components[j]))

            let donors =
                bounds
                |> Array.indexed
                |> Array.choose (fun (i, b) ->
                    match b with
                    | Some b when p.Fractions[i] > 1e-12 -> Some(i, b)
                    | _ -> None)

            let receivers =
                bounds
                |> Array.indexed
                |> Array.choose (fun (i, b) ->
                    match b with
                    | Some b when p.Fractions[i] > 1e-12 || (b.Lower = 0.0 && b.Upper > 0.0) -> Some(i, b)
                    | _ -> None)

            let result = ResizeArray<DesignPoint>()

            for i, bi in donors do
                for j, bj in receivers do
                    if i <> j then
                        let d = min step (min (p.Fractions[i] - bi.Lower) (bj.Upper - p.Fractions[j]))

                        if d > eps then
                            let f = Array.copy p.Fractions
                            f[i] <- f[i] - d
                            f[j] <- f[j] + d
                            result.Add { p with Fractions = f }

            let range = set.TemperatureMax - set.TemperatureMin

            if range > 0.0<K> then
                for s in [ -1.0; 1.0 ] do
                    let t =
                        min set.TemperatureMax (max set.TemperatureMin (p.Temperature + s * step * range))

                    if abs (t - p.Temperature) > eps * 1.0<K> then
                        result.Add { p with Temperature = t }

            result.ToArray()
