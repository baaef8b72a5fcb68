namespace Finales.Optimizer

open System
open Finales.Core
open Finales.Core.Units

/// One measured (or simulated) value of one quantity at one formulation and temperature.
type Observation =
    {
        /// (chemical, mole fraction) pairs, chemicals by SMILES, InChIKey or name; chemicals not listed are 0.
        Formulation: (string * float)[]
        Temperature: float<K>
        /// The result's source or method (e.g. "two_electrode", "molecular_dynamics").
        Source: string
        Quantity: string
        Value: float
        /// Quality rating of the result (None = unrated, kept).
        Rating: float option
        /// false: the attempt failed; the point gets the worst merit so it is not re-proposed.
        Success: bool
        /// Deleted results are ignored.
        Deleted: bool
    }

/// One level of the objective hierarchy, bound to a quantity name.
type CampaignObjective =
    { Quantity: string
      Goal: Goal
      Tolerance: float
      Kind: ToleranceKind }

/// A request already queued (pending or reserved): it is conditioned on, never proposed again.
type PendingRequest =
    { Formulation: (string * float)[]
      Temperature: float<K>
      Source: string }

/// Settings of one campaign step.
type CampaignSettings =
    {
        BatchSize: int
        Seed: int
        Beta: BetaSchedule
        /// Results rated below this are excluded.
        MinRating: float
        /// The source predictions are made for; other sources enter as fidelity inputs.
        TargetSource: string
        Candidates: int
        RefineStarts: int
        RefineIterations: int
        Softness: float
        Gp: GpOptions
    }

/// One proposed experiment with the model's view of it (merits: lower is better); chemicals as the limitations
/// write them.
type Suggestion =
    { Formulation: (string * float)[]
      Temperature: float<K>
      Source: string
      PredictedMerit: float
      PredictedStd: float
      Acquisition: float }

/// What a campaign step used and produced.
type CampaignResult =
    {
        Suggestions: Suggestion[]
        /// The design's chemicals, one per canonical key, as the limitations first write them.
        Chemicals: string[]
        /// Observation points (joined) that entered the GP: complete ones and failed ones.
        UsedPoints: int
        FailedPoints: int
        /// Joined points missing some quantity; conditioned on like pending requests.
        IncompletePoints: int
        ExcludedResults: int
        SqrtBeta: float
        /// "model" when a GP was fitted, "random" when there was no usable data yet.
        Mode: string
    }

/// Errors of a campaign step; each names the field and the value.
type CampaignError =
    | BadSetting of field: string * value: string
    | BadObservation of index: int * detail: string
    | ChimeraFailed of ChimeraError
    | LimitationsFailed of LimitationError

    /// A sentence naming the field and the value.
    member this.Message =
        match this with
        | BadSetting(f, v) -> sprintf "%s is %s" f v
        | BadObservation(i, d) -> sprintf "observations[%d]: %s" i d
        | ChimeraFailed e -> e.Message
        | LimitationsFailed e -> e.Message

/// One step of a GP-UCB + Chimera campaign over formulations and temperature.
[<RequireQualifiedAccess>]
module Campaign =

    /// Defaults: batch 1, seed 0, Srinivas/5, no rating filter, 1000 candidates, 3 refinement starts.
    let defaultSettings: CampaignSettings =
        { BatchSize = 1
          Seed = 0
          Beta = Acquisition.defaultSchedule
          MinRating = Double.NegativeInfinity
          TargetSource = ""
          Candidates = 1000
          RefineStarts = 3
          RefineIterations = 15
          Softness = Chimera.DefaultSoftness
          Gp = GaussianProcess.defaultOptions }

    /// A formulation's fractions over the design's chemicals (by canonical key, so any spelling of a chemical
    /// counts for it; one chemical named twice counts with the sum).
    let private fractionsOf (keys: ChemicalKey[]) (f: (string * float)[]) : Result<float[], string> =
        let keyed = f |> Array.map (fun (c, x) -> c, ChemicalKey.create c, x)

        let unknown =
            keyed |> Array.tryFind (fun (_, k, x) -> x > 0.0 && not (Array.contains k keys))

        match unknown with
        | Some(c, _, x) -> Error(sprintf "chemical '%s' (fraction %g) is not in the limitations" c x)
        | None ->
            Ok(
                keys
                |> Array.map (fun key ->
                    keyed
                    |> Array.filter (fun (_, k, _) -> k = key)
                    |> Array.sumBy (fun (_, _, x) -> x))
            )

    /// The core's point key rule for joining observations: fractions to 1e-9, temperature to 1e-6 K.
    let private pointRule: Finales.Core.PointKeyRule =
        { FractionDigits = 9
          TemperatureDigits = 6 }

    /// The core's point key of the fractions over the design's chemicals.
    let private pointKey (chemicals: string[]) (x: float[]) (t: float<K>) : Finales.Core.PointKey =
        Finales.Core.PointKey.create pointRule (Array.zip chemicals x) (float t)

    let private validate (s: CampaignSettings) (objectives: CampaignObjective[]) =
        if s.BatchSize < 1 || s.BatchSize > 1000 then
            Error(BadSetting("batch_size", string s.BatchSize + "; expected 1..1000"))
        elif s.Candidates < 10 then
            Error(BadSetting("candidates", string s.Candidates + "; expected >= 10"))
        elif objectives.Length = 0 then
            Error(BadSetting("objectives", "empty; expected at least one objective"))
        else
            match
                objectives
                |> Array.countBy (fun o -> o.Quantity)
                |> Array.tryFind (fun (_, c) -> c > 1)
            with
            | Some(q, _) -> Error(BadSetting("objectives", sprintf "list quantity '%s' twice" q))
            | None -> Ok()

    /// The next batch. Observations of the K objective quantities are joined per (formulation,
    /// temperature, source); deleted and low-rated results are dropped; complete points are
    /// scalarised by Chimera; failed points get the worst merit (max(1, max merit)); incomplete
    /// points and pending requests are conditioned on as kriging believers, as is every point
    /// already chosen for the batch. The GP input is (fractions, temperature, one indicator per
    /// non-target source); predictions are for the target source. Deterministic for a given seed.
    let step
        (settings: CampaignSettings)
        (sets: FeasibleSet[])
        (objectives: CampaignObjective[])
        (observations: Observation[])
        (pending: PendingRequest[])
        : Result<CampaignResult, CampaignError> =
        match validate settings objectives with
        | Error e -> Error e
        | Ok() ->
            let chemicals = FeasibleSet.chemicals sets
            let keys = chemicals |> Array.map ChemicalKey.create
            let quantities = objectives |> Array.map (fun o -> o.Quantity)
            let rng = Finales.Core.RandomStream.create settings.Seed
            // 1. filter and join
            let kept, excluded =
                observations
                |> Array.indexed
                |> Array.filter (fun (_, o) -> Array.contains o.Quantity quantities)
                |> Array.partition (fun (_, o) ->
                    not o.Deleted
                    && (match o.Rating with
                        | Some r -> r >= settings.MinRating
                        | None -> true))

            let parsed =
                kept
                |> Array.map (fun (i, o) ->
                    if not (Double.IsFinite(float o.Temperature)) then
                        Error(BadObservation(i, sprintf "temperature is %g" (float o.Temperature)))
                    elif o.Success && not (Double.IsFinite o.Value) then
                        Error(BadObservation(i, sprintf "value is %g" o.Value))
                    else
                        match fractionsOf keys o.Formulation with
                        | Error d -> Ok None // outside the design space: not this campaign's data
                        | Ok x -> Ok(Some(x, o)))

            match Finales.Core.Results.all parsed with
            | Error e -> Error e
            | Ok values ->
                let inSpace = values |> List.choose id |> Array.ofList

                let outside = kept.Length - inSpace.Length

                let sources =
                    inSpace
                    |> Array.map (fun (_, o) -> o.Source)
                    |> Array.distinct
                    |> Array.filter (fun s -> s <> settings.TargetSource)
                    |> Array.sort

                let groups =
                    inSpace
                    |> Finales.Core.PointKey.joinBy (fun (x, o) -> pointKey chemicals x o.Temperature, o.Source)
                    |> Array.ofList
                    |> Array.map (fun (_, items) ->
                        let items = Array.ofList items
                        let x, o0 = items[0]
                        let failed = items |> Array.exists (fun (_, o) -> not o.Success)

                        let values =
                            quantities
                            |> Array.map (fun q ->
                                let vs =
                                    items
                                    |> Array.filter (fun (_, o) -> o.Quantity = q && o.Success)
                                    |> Array.map (fun (_, o) -> o.Value)

                                if vs.Length = 0 then None else Some(Array.average vs))

                        (x, o0.Temperature, o0.Source), failed, values)

                let complete =
                    groups
                    |> Array.filter (fun (_, f, v) -> not f && v |> Array.forall Option.isSome)

                let failedG = groups |> Array.filter (fun (_, f, _) -> f)

                let incomplete =
                    groups
                    |> Array.filter (fun (_, f, v) -> not f && v |> Array.exists Option.isNone)

                let hierarchy =
                    objectives
                    |> Array.map (fun o ->
                        { Goal = o.Goal
                          Tolerance = o.Tolerance
                          Kind = o.Kind })

                let meritsR =
                    if complete.Length = 0 then
                        Ok [||]
                    else
                        complete
                        |> Array.map (fun (_, _, v) -> v |> Array.map (Option.defaultValue nan))
                        |> Chimera.scalarise hierarchy settings.Softness

                match meritsR with
                | Error e -> Error(ChimeraFailed e)
                | Ok merits ->
                    let worst =
                        if merits.Length = 0 then
                            1.0
                        else
                            max 1.0 (Array.max merits)

                    let srcIndicators (src: string) =
                        sources |> Array.map (fun s -> if s = src then 1.0 else 0.0)

                    let toInput (x: float[]) (t: float<K>) (src: string) =
                        Array.concat [ x; [| float t |]; srcIndicators src ]

                    let points =
                        Array.append
                            (Array.map2 (fun ((x, t, s), _, _) m -> toInput x t s, m) complete merits)
                            (failedG |> Array.map (fun ((x, t, s), _, _) -> toInput x t s, worst))

                    let believers =
                        Array.append
                            (incomplete |> Array.map (fun ((x, t, s), _, _) -> toInput x t s))
                            (pending
                             |> Array.choose (fun p ->
                                 match fractionsOf keys p.Formulation with
                                 | Ok x ->
                                     Some(
                                         toInput
                                             x
                                             p.Temperature
                                             (if String.IsNullOrEmpty p.Source then
                                                  settings.TargetSource
                                              else
                                                  p.Source)
                                     )
                                 | Error _ -> None))

                    let lower =
                        Array.concat
                            [ chemicals |> Array.map (fun _ -> 0.0)
                              [| sets |> Array.map (fun s -> float s.TemperatureMin) |> Array.min |]
                              sources |> Array.map (fun _ -> 0.0) ]

                    let upper =
                        Array.concat
                            [ keys
                              |> Array.map (fun key ->
                                  sets
                                  |> Array.collect (fun s ->
                                      s.Components
                                      |> Array.filter (fun k -> k.Key = key)
                                      |> Array.map (fun k -> k.Upper))
                                  |> Array.fold max 0.0)
                              [| sets |> Array.map (fun s -> float s.TemperatureMax) |> Array.max |]
                              sources |> Array.map (fun _ -> 1.0) ]

                    let candidates = FeasibleSet.sample rng chemicals sets settings.Candidates

                    if candidates.Length = 0 then
                        Error(LimitationsFailed(Infeasible(0, "no feasible zero-set")))
                    else
                        let toSuggestion (p: DesignPoint) mu sd acq =
                            { Formulation = Array.zip chemicals p.Fractions
                              Temperature = p.Temperature
                              Source = settings.TargetSource
                              PredictedMerit = mu
                              PredictedStd = sd
                              Acquisition = acq }

                        let same (a: DesignPoint) (b: DesignPoint) =
                            abs (a.Temperature - b.Temperature) < 1e-6<K>
                            && Array.forall2 (fun (u: float) v -> abs (u - v) < 1e-9) a.Fractions b.Fractions

                        let sqrtBeta =
                            Acquisition.sqrtBeta settings.Beta candidates.Length (points.Length + believers.Length)

                        if points.Length = 0 then
                            // no data yet: a seeded random design
                            let chosen =
                                candidates
                                |> Array.distinctBy (fun p -> pointKey chemicals p.Fractions p.Temperature)
                                |> Array.truncate settings.BatchSize

                            Ok
                                { Suggestions = chosen |> Array.map (fun p -> toSuggestion p nan nan nan)
                                  Chemicals = chemicals
                                  UsedPoints = 0
                                  FailedPoints = 0
                                  IncompletePoints = incomplete.Length
                                  ExcludedResults = excluded.Length + outside
                                  SqrtBeta = sqrtBeta
                                  Mode = "random" }
                        else
                            match
                                GaussianProcess.fit
                                    settings.Gp
                                    settings.Seed
                                    lower
                                    upper
                                    (points |> Array.map fst)
                                    (points |> Array.map snd)
                            with
                            | Error e -> Error(BadSetting("observations", e.Message))
                            | Ok model0 ->
                                let mutable model = GaussianProcess.addBelievers model0 believers
                                let chosen = ResizeArray<DesignPoint * float * float * float>()

                                let target (p: DesignPoint) =
                                    toInput p.Fractions p.Temperature settings.TargetSource

                                let score (ps: DesignPoint[]) =
                                    let mu, var = GaussianProcess.predict model (ps |> Array.map target)
                                    Acquisition.scores sqrtBeta mu var

                                let pendingForms =
                                    Array.append
                                        (incomplete
                                         |> Array.map (fun ((x, t, _), _, _) -> { Fractions = x; Temperature = t }))
                                        (pending
                                         |> Array.choose (fun p ->
                                             fractionsOf keys p.Formulation
                                             |> Result.toOption
                                             |> Option.map (fun x ->
                                                 { Fractions = x
                                                   Temperature = p.Temperature })))

                                for _ in 1 .. settings.BatchSize do
                                    let exclude (p: DesignPoint) =
                                        chosen |> Seq.exists (fun (c, _, _, _) -> same c p)
                                        || pendingForms |> Array.exists (same p)

                                    let best =
                                        Acquisition.maximise
                                            (fun (xs: float[][]) ->
                                                score (
                                                    xs
                                                    |> Array.map (fun x ->
                                                        { Fractions = x[0 .. x.Length - 2]
                                                          Temperature = x[x.Length - 1] * 1.0<K> })
                                                ))
                                            (fun x step ->
                                                FeasibleSet.moves
                                                    chemicals
                                                    sets
                                                    { Fractions = x[0 .. x.Length - 2]
                                                      Temperature = x[x.Length - 1] * 1.0<K> }
                                                    step
                                                |> Array.map (fun p ->
                                                    Array.append p.Fractions [| float p.Temperature |]))
                                            settings.RefineStarts
                                            settings.RefineIterations
                                            (fun x ->
                                                exclude
                                                    { Fractions = x[0 .. x.Length - 2]
                                                      Temperature = x[x.Length - 1] * 1.0<K> })
                                            (candidates
                                             |> Array.map (fun p -> Array.append p.Fractions [| float p.Temperature |]))

                                    match best with
                                    | None -> ()
                                    | Some(x, acq) ->
                                        let p =
                                            { Fractions = x[0 .. x.Length - 2]
                                              Temperature = x[x.Length - 1] * 1.0<K> }

                                        let mu, var = GaussianProcess.predict model [| target p |]
                                        chosen.Add(p, mu[0], sqrt var[0], acq)
                                        model <- GaussianProcess.addBelievers model [| target p |]

                                Ok
                                    { Suggestions =
                                        chosen
                                        |> Seq.map (fun (p, mu, sd, acq) -> toSuggestion p mu sd acq)
                                        |> Array.ofSeq
                                      Chemicals = chemicals
                                      UsedPoints = points.Length
                                      FailedPoints = failedG.Length
                                      IncompletePoints = incomplete.Length
                                      ExcludedResults = excluded.Length + outside
                                      SqrtBeta = sqrtBeta
                                      Mode = "model" }
