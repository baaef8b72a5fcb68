namespace Finales.Optimizer.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open Finales.Optimizer

/// What the facades share.
module internal FacadeCollections =
    /// Pairs as a read-only dictionary with ordinal keys, in their given order (a later pair of a key wins).
    let ordered (pairs: (string * float) seq) : IReadOnlyDictionary<string, float> =
        let d = Dictionary<string, float>(StringComparer.Ordinal)

        for k, v in pairs do
            d[k] <- v

        d

/// Whether an objective is minimised or maximised (C# view of Goal).
type ObjectiveGoal =
    | Min = 0
    | Max = 1

/// How an objective's tolerance is read (C# view of ToleranceKind).
type ObjectiveKind =
    /// A fraction in [0,1] of the objective's range over the current region of interest.
    | Relative = 0
    /// A value in the objective's own units.
    | Absolute = 1
    /// A fraction in [0,1]: the percentile of the objective over the region.
    | Percentile = 2

/// One objective for C#.
[<CLIMutable>]
type ObjectiveSpec =
    { Quantity: string
      Goal: ObjectiveGoal
      Tolerance: float
      Kind: ObjectiveKind }

/// One result for C#. Rating null = unrated.
[<CLIMutable>]
type ObservationSpec =
    { Formulation: IReadOnlyDictionary<string, float>
      Temperature: float
      Source: string
      Quantity: string
      Value: float
      Rating: Nullable<float>
      Success: bool
      Deleted: bool }

/// A queued request for C#.
[<CLIMutable>]
type PendingSpec =
    { Formulation: IReadOnlyDictionary<string, float>
      Temperature: float
      Source: string }

/// Settings for C#. SqrtBeta null selects Srinivas(Delta, BetaScale); MinRating -infinity keeps all;
/// TemperatureMin/Max null = take the temperature from the limitations.
[<CLIMutable>]
type SuggestOptions =
    { BatchSize: int
      Seed: int
      SqrtBeta: Nullable<float>
      Delta: float
      BetaScale: float
      MinRating: float
      TargetSource: string
      Candidates: int
      Softness: float
      TemperatureMin: Nullable<float>
      TemperatureMax: Nullable<float> }

/// One suggestion for C#.
type SuggestionSpec =
    { Formulation: IReadOnlyDictionary<string, float>
      Temperature: float
      Source: string
      PredictedMerit: float
      PredictedStd: float
      Acquisition: float }

/// Conversions between the C# shapes above and the optimizer's F# types.
[<RequireQualifiedAccess>]
module internal Convert =
    let goal (g: ObjectiveGoal) : Result<Goal, string> =
        match g with
        | ObjectiveGoal.Min -> Ok Minimise
        | ObjectiveGoal.Max -> Ok Maximise
        | other -> Error(sprintf "goal is %d; expected Min or Max" (int other))

    let kind (k: ObjectiveKind) : Result<ToleranceKind, string> =
        match k with
        | ObjectiveKind.Relative -> Ok Relative
        | ObjectiveKind.Absolute -> Ok Absolute
        | ObjectiveKind.Percentile -> Ok Percentile
        | other -> Error(sprintf "kind is %d; expected Relative, Absolute or Percentile" (int other))

    let pairs (d: IReadOnlyDictionary<string, float>) : (string * float)[] =
        if obj.ReferenceEquals(d, null) then
            [||]
        else
            d |> Seq.map (fun kv -> kv.Key, kv.Value) |> Array.ofSeq

    let text (s: string) : string =
        if obj.ReferenceEquals(s, null) then "" else s

    let option (v: Nullable<float>) : float option =
        if v.HasValue then Some v.Value else None

    let objective (i: int) (o: ObjectiveSpec) : Result<CampaignObjective, string> =
        match goal o.Goal, kind o.Kind with
        | Ok g, Ok k ->
            Ok
                { CampaignObjective.Quantity = o.Quantity
                  Goal = g
                  Tolerance = o.Tolerance
                  Kind = k }
        | Error e, _
        | _, Error e -> Error(sprintf "objectives[%d].%s" i e)

    let observation (o: ObservationSpec) : Observation =
        { Observation.Formulation = pairs o.Formulation
          Temperature = o.Temperature * 1.0<Finales.Core.Units.K>
          Source = text o.Source
          Quantity = o.Quantity
          Value = o.Value
          Rating = option o.Rating
          Success = o.Success
          Deleted = o.Deleted }

    let pending (p: PendingSpec) : PendingRequest =
        { PendingRequest.Formulation = pairs p.Formulation
          Temperature = p.Temperature * 1.0<Finales.Core.Units.K>
          Source = text p.Source }

    let settings (o: SuggestOptions) : CampaignSettings =
        { Campaign.defaultSettings with
            BatchSize = o.BatchSize
            Seed = o.Seed
            Beta =
                (if o.SqrtBeta.HasValue then
                     ConstantSqrtBeta o.SqrtBeta.Value
                 else
                     Srinivas(o.Delta, o.BetaScale))
            MinRating = o.MinRating
            TargetSource = text o.TargetSource
            Candidates = o.Candidates
            Softness = o.Softness }

    let suggestion (s: Suggestion) : SuggestionSpec =
        { SuggestionSpec.Formulation =
            Dictionary<string, float>(dict s.Formulation) :> IReadOnlyDictionary<string, float>
          Temperature = float s.Temperature
          Source = s.Source
          PredictedMerit = s.PredictedMerit
          PredictedStd = s.PredictedStd
          Acquisition = s.Acquisition }

/// The C#-facing facade of the optimizer: tupled PascalCase methods, arrays and IReadOnlyList,
/// nullable values and enums; expected failures through the Try pattern (false and an error
/// naming the field and value; the out value is then empty, never null).
[<AbstractClass; Sealed>]
type OptimizerFacade =

    /// Default SuggestOptions: batch 1, seed 0, Srinivas delta 0.1 scale 0.2, 1000 candidates.
    static member DefaultOptions: SuggestOptions =
        { BatchSize = 1
          Seed = 0
          SqrtBeta = Nullable()
          Delta = 0.1
          BetaScale = 0.2
          MinRating = Double.NegativeInfinity
          TargetSource = ""
          Candidates = 1000
          Softness = Chimera.DefaultSoftness
          TemperatureMin = Nullable()
          TemperatureMax = Nullable() }

    /// Chimera merits (lower is better) of n x K objective values, one tolerance, kind and goal
    /// per column (kinds and goals null = all relative / all minimised).
    static member TryChimera
        (
            objectives: float[][],
            tolerances: float[],
            kinds: ObjectiveKind[],
            goals: ObjectiveGoal[],
            softness: float,
            [<Out>] merits: byref<float[]>,
            [<Out>] error: byref<string>
        ) : bool =
        merits <- [||]
        error <- ""

        if obj.ReferenceEquals(objectives, null) then
            nullArg (nameof objectives)

        if obj.ReferenceEquals(tolerances, null) then
            nullArg (nameof tolerances)

        let k = tolerances.Length

        let kinds =
            if obj.ReferenceEquals(kinds, null) then
                Array.create k ObjectiveKind.Relative
            else
                kinds

        let goals =
            if obj.ReferenceEquals(goals, null) then
                Array.create k ObjectiveGoal.Min
            else
                goals

        let text (g: ObjectiveGoal) =
            match g with
            | ObjectiveGoal.Max -> "max"
            | ObjectiveGoal.Min -> "min"
            | other -> string (int other)

        match
            Chimera.objectives
                tolerances
                (kinds |> Array.map (fun x -> x = ObjectiveKind.Absolute))
                (kinds |> Array.map (fun x -> x = ObjectiveKind.Percentile))
                (goals |> Array.map text)
            |> Result.bind (fun h -> Chimera.scalarise h softness objectives)
        with
        | Ok m ->
            merits <- m
            true
        | Error e ->
            error <- e.Message
            false

    /// The next batch of a campaign step (see Campaign.step) over FINALES2 limitations text.
    static member TrySuggest
        (
            limitationsJson: string,
            objectives: IReadOnlyList<ObjectiveSpec>,
            observations: IReadOnlyList<ObservationSpec>,
            pending: IReadOnlyList<PendingSpec>,
            options: SuggestOptions,
            [<Out>] suggestions: byref<IReadOnlyList<SuggestionSpec>>,
            [<Out>] error: byref<string>
        ) : bool =
        suggestions <- Array.empty
        error <- ""

        let outcome =
            if String.IsNullOrWhiteSpace limitationsJson then
                Error "limitations is missing"
            elif obj.ReferenceEquals(objectives, null) then
                Error "objectives is missing"
            else
                let tdef =
                    match Convert.option options.TemperatureMin, Convert.option options.TemperatureMax with
                    | Some lo, Some hi -> Some(lo, hi)
                    | _ -> None

                let list (xs: IReadOnlyList<'a>) (f: 'a -> 'b) : 'b[] =
                    if obj.ReferenceEquals(xs, null) then
                        [||]
                    else
                        xs |> Seq.map f |> Array.ofSeq

                objectives
                |> Seq.mapi Convert.objective
                |> Finales.Core.Results.all
                |> Result.bind (fun objs ->
                    FeasibleSet.parseText tdef limitationsJson
                    |> Result.mapError (fun e -> e.Message)
                    |> Result.bind (fun sets ->
                        Campaign.step
                            (Convert.settings options)
                            sets
                            (Array.ofList objs)
                            (list observations Convert.observation)
                            (list pending Convert.pending)
                        |> Result.mapError (fun e -> e.Message)))

        match outcome with
        | Ok r ->
            suggestions <- r.Suggestions |> Array.map Convert.suggestion
            true
        | Error e ->
            error <- e
            false

    /// The canonical key of a chemical (name, SMILES or InChIKey): the InChIKey of a chemical the
    /// core knows, else the key as written. Design spaces from `TryDesignSpace` use these keys.
    static member ChemicalKey(key: string) : string = DesignSpace.canonicalKey key

    /// The design space of a requester asking several capabilities about the same formulations:
    /// the intersection of every capability's limitations (FINALES2 JSON, one text per capability,
    /// any form FeasibleSet reads), restricted to `chemicals` (names, SMILES or InChIKeys; null or
    /// empty = all) and [temperatureMin, temperatureMax] (null = unrestricted). The out value is
    /// FINALES2 limitations text with canonical chemical keys, ready for `TrySuggest`.
    static member TryDesignSpace
        (
            limitationsJsons: IReadOnlyList<string>,
            chemicals: IReadOnlyList<string>,
            temperatureMin: Nullable<float>,
            temperatureMax: Nullable<float>,
            [<Out>] designSpace: byref<string>,
            [<Out>] error: byref<string>
        ) : bool =
        designSpace <- ""
        error <- ""

        let outcome =
            if obj.ReferenceEquals(limitationsJsons, null) || limitationsJsons.Count = 0 then
                Error "limitations are missing; expected one document per capability"
            else
                let tdef =
                    match Convert.option temperatureMin, Convert.option temperatureMax with
                    | Some lo, Some hi -> Some(lo, hi)
                    | _ -> None

                let subset =
                    if obj.ReferenceEquals(chemicals, null) then
                        [||]
                    else
                        Array.ofSeq chemicals

                limitationsJsons
                |> Seq.mapi (fun i text ->
                    if String.IsNullOrWhiteSpace text then
                        Error(sprintf "limitations[%d] is empty" i)
                    else
                        FeasibleSet.parseText tdef text
                        |> Result.mapError (fun e -> sprintf "limitations[%d]: %s" i e.Message))
                |> Finales.Core.Results.all
                |> Result.bind (fun perDocument ->
                    DesignSpace.intersect
                        (Array.ofList perDocument)
                        subset
                        (if temperatureMin.HasValue then
                             temperatureMin.Value
                         else
                             nan)
                        (if temperatureMax.HasValue then
                             temperatureMax.Value
                         else
                             nan))

        match outcome with
        | Ok sets ->
            designSpace <- DesignSpace.toJson sets
            true
        | Error e ->
            error <- e
            false

    /// The `bench gp` workload at n observations (fit + acquisition over 1000 candidates).
    static member GpSuggestion(n: int, seed: int) : float[] = GpWorkload.suggestion n seed
