namespace Finales.Optimizer

open System
open System.Collections.Generic
open System.IO
open System.Text
open System.Text.Json

/// A minimal Result computation expression for the JSON adapters.
type internal ResultBuilder() =
    member _.Bind(r: Result<'a, 'e>, f: 'a -> Result<'b, 'e>) : Result<'b, 'e> = Result.bind f r
    member _.Return(v: 'a) : Result<'a, 'e> = Ok v
    member _.ReturnFrom(r: Result<'a, 'e>) : Result<'a, 'e> = r
    member _.Zero() : Result<unit, 'e> = Ok()

[<AutoOpen>]
module internal ResultBuilderInstance =
    let result = ResultBuilder()

/// The outcome of a facade call: Ok with a value, or an error message naming field and value.
type Outcome<'T> =
    {
        Ok: bool
        /// The value when Ok (default otherwise).
        Value: 'T
        /// Empty when Ok.
        Error: string
    }

/// One objective for C#: goal "min"|"max", kind "relative"|"absolute"|"percentile".
[<CLIMutable>]
type ObjectiveSpec =
    { Quantity: string
      Goal: string
      Tolerance: float
      Kind: string }

/// One result for C#. Rating NaN = unrated.
[<CLIMutable>]
type ObservationSpec =
    { Formulation: IReadOnlyDictionary<string, float>
      Temperature: float
      Source: string
      Quantity: string
      Value: float
      Rating: float
      Success: bool
      Deleted: bool }

/// A queued request for C#.
[<CLIMutable>]
type PendingSpec =
    { Formulation: IReadOnlyDictionary<string, float>
      Temperature: float
      Source: string }

/// Settings for C#. SqrtBeta NaN selects Srinivas(Delta, BetaScale); MinRating -infinity keeps all;
/// TemperatureMin/Max NaN = take the temperature from the limitations.
[<CLIMutable>]
type SuggestOptions =
    { BatchSize: int
      Seed: int
      SqrtBeta: float
      Delta: float
      BetaScale: float
      MinRating: float
      TargetSource: string
      Candidates: int
      Softness: float
      TemperatureMin: float
      TemperatureMax: float }

/// One suggestion for C#.
type SuggestionSpec =
    { Formulation: IReadOnlyDictionary<string, float>
      Temperature: float
      Source: string
      PredictedMerit: float
      PredictedStd: float
      Acquisition: float }

/// The C#-facing facade: tupled PascalCase methods, arrays and IReadOnlyList, no F# options.
[<AbstractClass; Sealed>]
type OptimizerFacade =

    /// Default SuggestOptions: batch 1, seed 0, Srinivas delta 0.1 scale 0.2, 1000 candidates.
    static member DefaultOptions: SuggestOptions =
        { BatchSize = 1
          Seed = 0
          SqrtBeta = nan
          Delta = 0.1
          BetaScale = 0.2
          MinRating = Double.NegativeInfinity
          TargetSource = ""
          Candidates = 1000
          Softness = Chimera.DefaultSoftness
          TemperatureMin = nan
          TemperatureMax = nan }

    /// Chimera merits (lower is better) for n x K objectives.
    static member Chimera
        (
            objectives: float[][],
            tolerances: float[],
            absolutes: bool[],
            percentiles: bool[],
            goals: string[],
            softness: float
        ) : Outcome<float[]> =
        let nullArg name =
            { Ok = false
              Value = [||]
              Error = sprintf "%s is missing" name }

        if obj.ReferenceEquals(objectives, null) then
            nullArg "objectives"
        elif obj.ReferenceEquals(tolerances, null) then
            nullArg "tolerances"
        else
            let k = tolerances.Length

            let absolutes =
                if obj.ReferenceEquals(absolutes, null) then
                    Array.create k false
                else
                    absolutes

            let percentiles =
                if obj.ReferenceEquals(percentiles, null) then
                    Array.create k false
                else
                    percentiles

            let goals =
                if obj.ReferenceEquals(goals, null) then
                    Array.create k "min"
                else
                    goals

            match
                Chimera.objectives tolerances absolutes percentiles goals
                |> Result.bind (fun h -> Chimera.scalarise h softness objectives)
            with
            | Ok m -> { Ok = true; Value = m; Error = "" }
            | Error e ->
                { Ok = false
                  Value = [||]
                  Error = e.Message }

    /// The next batch of a campaign step (see Campaign.step).
    static member Suggest
        (
            limitationsJson: string,
            objectives: IReadOnlyList<ObjectiveSpec>,
            observations: IReadOnlyList<ObservationSpec>,
            pending: IReadOnlyList<PendingSpec>,
            options: SuggestOptions
        ) : Outcome<SuggestionSpec[]> =
        let fail msg =
            { Ok = false
              Value = [||]
              Error = msg }

        let toPairs (d: IReadOnlyDictionary<string, float>) =
            if obj.ReferenceEquals(d, null) then
                [||]
            else
                d |> Seq.map (fun kv -> kv.Key, kv.Value) |> Array.ofSeq

        let parseObjective i (o: ObjectiveSpec) =
            let goal =
                match o.Goal with
                | "min" -> Ok Minimise
                | "max" -> Ok Maximise
                | g -> Error(sprintf "objectives[%d].goal is '%s'; expected min or max" i g)

            let kind =
                match o.Kind with
                | "relative" -> Ok Relative
                | "absolute" -> Ok Absolute
                | "percentile" -> Ok Percentile
                | k -> Error(sprintf "objectives[%d].kind is '%s'; expected relative, absolute or percentile" i k)

            match goal, kind with
            | Ok g, Ok k ->
                Ok
                    { CampaignObjective.Quantity = o.Quantity
                      Goal = g
                      Tolerance = o.Tolerance
                      Kind = k }
            | Error e, _
            | _, Error e -> Error e

        if String.IsNullOrWhiteSpace limitationsJson then
            fail "limitations is missing"
        elif obj.ReferenceEquals(objectives, null) then
            fail "objectives is missing"
        else
            let objs = objectives |> Seq.mapi parseObjective |> Array.ofSeq

            match Finales.Core.Results.all objs with
            | Error e -> fail e
            | Ok objs ->
                let objs = Array.ofList objs

                let tdef =
                    if Double.IsNaN options.TemperatureMin then
                        None
                    else
                        Some(options.TemperatureMin, options.TemperatureMax)

                match FeasibleSet.parseText tdef limitationsJson with
                | Error e -> fail e.Message
                | Ok sets ->
                    let obs =
                        if obj.ReferenceEquals(observations, null) then
                            [||]
                        else
                            observations
                            |> Seq.map (fun o ->
                                { Observation.Formulation = toPairs o.Formulation
                                  Temperature = o.Temperature
                                  Source = (if obj.ReferenceEquals(o.Source, null) then "" else o.Source)
                                  Quantity = o.Quantity
                                  Value = o.Value
                                  Rating = (if Double.IsNaN o.Rating then None else Some o.Rating)
                                  Success = o.Success
                                  Deleted = o.Deleted })
                            |> Array.ofSeq

                    let pend =
                        if obj.ReferenceEquals(pending, null) then
                            [||]
                        else
                            pending
                            |> Seq.map (fun p ->
                                { PendingRequest.Formulation = toPairs p.Formulation
                                  Temperature = p.Temperature
                                  Source = (if obj.ReferenceEquals(p.Source, null) then "" else p.Source) })
                            |> Array.ofSeq

                    let settings =
                        { Campaign.defaultSettings with
                            BatchSize = options.BatchSize
                            Seed = options.Seed
                            Beta =
                                (if Double.IsNaN options.SqrtBeta then
                                     Srinivas(options.Delta, options.BetaScale)
                                 else
                                     ConstantSqrtBeta options.SqrtBeta)
                            MinRating = options.MinRating
                            TargetSource =
                                (if obj.ReferenceEquals(options.TargetSource, null) then
                                     ""
                                 else
                                     options.TargetSource)
                            Candidates = options.Candidates
                            Softness = options.Softness }

                    match Campaign.step settings sets objs obs pend with
                    | Error e -> fail e.Message
                    | Ok r ->
                        { Ok = true
                          Error = ""
                          Value =
                            r.Suggestions
                            |> Array.map (fun s ->
                                { SuggestionSpec.Formulation =
                                    Dictionary<string, float>(dict s.Formulation) :> IReadOnlyDictionary<string, float>
                                  Temperature = s.Temperature
                                  Source = s.Source
                                  PredictedMerit = s.PredictedMerit
                                  PredictedStd = s.PredictedStd
                                  Acquisition = s.Acquisition }) }

    /// The canonical key of a chemical (name, SMILES or InChIKey): the InChIKey of a chemical the
    /// core knows, else the key as written. Design spaces from `DesignSpace` use these keys.
    static member ChemicalKey(key: string) : string = DesignSpace.canonicalKey key

    /// The design space of a requester asking several capabilities about the same formulations:
    /// the intersection of every capability's limitations (FINALES2 JSON, one text per capability,
    /// any form FeasibleSet reads), restricted to `chemicals` (names, SMILES or InChIKeys; null or
    /// empty = all) and [temperatureMin, temperatureMax] (NaN = unrestricted). Returns FINALES2
    /// limitations text with canonical chemical keys, ready for `Suggest`.
    static member DesignSpace
        (
            limitationsJsons: IReadOnlyList<string>,
            chemicals: IReadOnlyList<string>,
            temperatureMin: float,
            temperatureMax: float
        ) : Outcome<string> =
        let fail msg = { Ok = false; Value = ""; Error = msg }

        if obj.ReferenceEquals(limitationsJsons, null) || limitationsJsons.Count = 0 then
            fail "limitations are missing; expected one document per capability"
        else
            let tdef =
                if Double.IsNaN temperatureMin || Double.IsNaN temperatureMax then
                    None
                else
                    Some(temperatureMin, temperatureMax)

            let parsed =
                limitationsJsons
                |> Seq.mapi (fun i text ->
                    if String.IsNullOrWhiteSpace text then
                        Error(sprintf "limitations[%d] is empty" i)
                    else
                        FeasibleSet.parseText tdef text
                        |> Result.mapError (fun e -> sprintf "limitations[%d]: %s" i e.Message))
                |> Array.ofSeq

            match Finales.Core.Results.all parsed with
            | Error e -> fail e
            | Ok perDocument ->
                let subset =
                    if obj.ReferenceEquals(chemicals, null) then
                        [||]
                    else
                        Array.ofSeq chemicals

                match DesignSpace.intersect (Array.ofList perDocument) subset temperatureMin temperatureMax with
                | Ok sets ->
                    { Ok = true
                      Value = DesignSpace.toJson sets
                      Error = "" }
                | Error e -> fail e

    /// `finales chimera`: JSON request text to JSON response text (or an error naming the field).
    static member ChimeraJson(requestJson: string) : Outcome<string> = Json.chimera requestJson

    /// `finales suggest`: JSON request text to JSON response text (or an error naming the field).
    static member SuggestJson(requestJson: string) : Outcome<string> = Json.suggest requestJson

    /// `finales bench optimizer`: regret curves of GP-UCB and random search; returns the JSON
    /// summary and the SVG plot. Progress lines go to `progress`.
    static member BenchOptimizer
        (problem: string, seeds: int, evals: int, progress: Action<string>)
        : Outcome<string * string> =
        Json.benchOptimizer problem seeds evals (fun s ->
            if not (obj.ReferenceEquals(progress, null)) then
                progress.Invoke s)

    /// The `bench gp` workload at n observations (fit + acquisition over 1000 candidates).
    static member GpSuggestion(n: int, seed: int) : float[] = Benchmarks.gpSuggestion n seed

/// JSON adapters of the CLI commands (System.Text.Json; errors name the JSON field and value).
and [<RequireQualifiedAccess>] internal Json =
    static member private Fail(msg: string) : Outcome<'T> =
        { Ok = false
          Value = Unchecked.defaultof<'T>
          Error = msg }

    static member private Write(f: Utf8JsonWriter -> unit) : string =
        use ms = new MemoryStream()

        (use w =
            new Utf8JsonWriter(
                ms,
                JsonWriterOptions(
                    Indented = true,
                    Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping
                )
            )

         f w)

        Encoding.UTF8.GetString(ms.ToArray())

    static member private Num(w: Utf8JsonWriter, name: string, v: float) =
        if Double.IsFinite v then
            w.WriteNumber(name, v)
        else
            w.WriteNull(name)

    static member private Parse(text: string) : Result<JsonElement, string> =
        if String.IsNullOrWhiteSpace text then
            Error "stdin is empty; expected a JSON object"
        else
            try
                use doc = JsonDocument.Parse(text)
                let root = doc.RootElement.Clone()

                if root.ValueKind <> JsonValueKind.Object then
                    Error(sprintf "request is a %O; expected a JSON object" root.ValueKind)
                else
                    Ok root
            with :? JsonException as ex ->
                Error("request is not valid JSON: " + ex.Message)

    static member private Prop(e: JsonElement, name: string) : JsonElement voption =
        let mutable v = Unchecked.defaultof<JsonElement>

        if
            e.ValueKind = JsonValueKind.Object
            && e.TryGetProperty(name, &v)
            && v.ValueKind <> JsonValueKind.Null
        then
            ValueSome v
        else
            ValueNone

    static member private Number(e: JsonElement, path: string) : Result<float, string> =
        match e.ValueKind with
        | JsonValueKind.Number -> Ok(e.GetDouble())
        | JsonValueKind.String ->
            match e.GetString() with
            | "NaN" -> Ok nan
            | "Infinity" -> Ok infinity
            | "-Infinity" -> Ok -infinity
            | s -> Error(sprintf "%s is \"%s\"; expected a number" path s)
        | _ -> Error(sprintf "%s is %s; expected a number" path (e.GetRawText()))

    static member private Array<'T>
        (e: JsonElement, path: string, item: JsonElement * string -> Result<'T, string>)
        : Result<'T[], string> =
        if e.ValueKind <> JsonValueKind.Array then
            Error(sprintf "%s is %s; expected a list" path (e.GetRawText()))
        else
            let items =
                e.EnumerateArray()
                |> Seq.mapi (fun i x -> item (x, sprintf "%s[%d]" path i))
                |> Array.ofSeq

            Finales.Core.Results.all items |> Result.map Array.ofList

    static member private Bool(e: JsonElement, path: string) : Result<bool, string> =
        match e.ValueKind with
        | JsonValueKind.True -> Ok true
        | JsonValueKind.False -> Ok false
        | _ -> Error(sprintf "%s is %s; expected true or false" path (e.GetRawText()))

    static member private Str(e: JsonElement, path: string) : Result<string, string> =
        if e.ValueKind = JsonValueKind.String then
            Ok(string (e.GetString()))
        else
            Error(sprintf "%s is %s; expected a string" path (e.GetRawText()))

    static member private Int(e: JsonElement, path: string) : Result<int, string> =
        let mutable i = 0

        if e.ValueKind = JsonValueKind.Number && e.TryGetInt32(&i) then
            Ok i
        else
            Error(sprintf "%s is %s; expected an integer" path (e.GetRawText()))

    static member chimera(text: string) : Outcome<string> =
        let r =
            Json.Parse text
            |> Result.bind (fun root ->
                match Json.Prop(root, "objectives"), Json.Prop(root, "tolerances") with
                | ValueNone, _ -> Error "objectives is missing; expected an n x K list of numbers"
                | _, ValueNone -> Error "tolerances is missing; expected K numbers"
                | ValueSome o, ValueSome t ->
                    let rows = Json.Array(o, "objectives", fun (r, p) -> Json.Array(r, p, Json.Number))
                    let tols = Json.Array(t, "tolerances", Json.Number)

                    match rows, tols with
                    | Error m, _
                    | _, Error m -> Error m
                    | Ok rows, Ok tols ->
                        let k = tols.Length

                        let flags name =
                            match Json.Prop(root, name) with
                            | ValueNone -> Ok(Array.create k false)
                            | ValueSome v -> Json.Array(v, name, Json.Bool)

                        let goals =
                            match Json.Prop(root, "goals") with
                            | ValueNone -> Ok(Array.create k "min")
                            | ValueSome v -> Json.Array(v, "goals", Json.Str)

                        let soft =
                            match Json.Prop(root, "softness") with
                            | ValueNone -> Ok Chimera.DefaultSoftness
                            | ValueSome v -> Json.Number(v, "softness")

                        match flags "absolutes", flags "percentiles", goals, soft with
                        | Error m, _, _, _
                        | _, Error m, _, _
                        | _, _, Error m, _
                        | _, _, _, Error m -> Error m
                        | Ok a, Ok p, Ok g, Ok s ->
                            let o = OptimizerFacade.Chimera(rows, tols, a, p, g, s)
                            if o.Ok then Ok o.Value else Error o.Error)

        match r with
        | Error m -> Json.Fail m
        | Ok merits ->
            { Ok = true
              Error = ""
              Value =
                Json.Write(fun w ->
                    w.WriteStartObject()
                    w.WriteStartArray("merits")

                    for m in merits do
                        w.WriteNumberValue m

                    w.WriteEndArray()
                    w.WriteEndObject()) }

    static member private Formulation
        (e: JsonElement, path: string)
        : Result<IReadOnlyDictionary<string, float>, string> =
        if e.ValueKind <> JsonValueKind.Object then
            Error(sprintf "%s is %s; expected {chemical: fraction}" path (e.GetRawText()))
        else
            let d = Dictionary<string, float>()

            let errs =
                e.EnumerateObject()
                |> Seq.choose (fun p ->
                    match Json.Number(p.Value, sprintf "%s.%s" path p.Name) with
                    | Ok v when v >= 0.0 && v <= 1.0 ->
                        d[p.Name] <- v
                        None
                    | Ok v -> Some(sprintf "%s.%s is %g; fractions must lie in [0,1]" path p.Name v)
                    | Error m -> Some m)
                |> Seq.tryHead

            match errs with
            | Some m -> Error m
            | None -> Ok(d :> IReadOnlyDictionary<string, float>)

    static member private Required(e: JsonElement, name: string, path: string) : Result<JsonElement, string> =
        match Json.Prop(e, name) with
        | ValueSome v -> Ok v
        | ValueNone -> Error(sprintf "%s.%s is missing" path name)

    /// A required member read with `read`; errors name `path.name`.
    static member private Field
        (e: JsonElement, name: string, path: string, read: JsonElement * string -> Result<'a, string>)
        =
        Json.Required(e, name, path)
        |> Result.bind (fun v -> read (v, path + "." + name))

    /// An optional member read with `read`, or `fallback` when it is absent.
    static member private FieldOr
        (e: JsonElement, name: string, path: string, read: JsonElement * string -> Result<'a, string>, fallback: 'a)
        =
        match Json.Prop(e, name) with
        | ValueSome v -> read (v, path + "." + name)
        | ValueNone -> Ok fallback

    static member suggest(text: string) : Outcome<string> =
        let optional (root: JsonElement) name (parse: JsonElement * string -> Result<'a, string>) (dflt: 'a) =
            match Json.Prop(root, name) with
            | ValueNone -> Ok dflt
            | ValueSome v -> parse (v, name)

        let r =
            result {
                let! root = Json.Parse text

                let! lim =
                    match Json.Prop(root, "limitations") with
                    | ValueSome v -> Ok v
                    | ValueNone -> Error "limitations is missing; expected FINALES2 limitations"

                let! objsEl =
                    match Json.Prop(root, "objectives") with
                    | ValueSome v -> Ok v
                    | ValueNone -> Error "objectives is missing; expected a list of {quantity, goal, tolerance, kind}"

                let! objectives =
                    Json.Array(
                        objsEl,
                        "objectives",
                        fun (e, p) ->
                            result {
                                let! q = Json.Field(e, "quantity", p, Json.Str)

                                let! g = Json.FieldOr(e, "goal", p, Json.Str, "min")

                                let! t = Json.FieldOr(e, "tolerance", p, Json.Number, 0.0)

                                let! k = Json.FieldOr(e, "kind", p, Json.Str, "relative")

                                return
                                    { ObjectiveSpec.Quantity = q
                                      Goal = g
                                      Tolerance = t
                                      Kind = k }
                            }
                    )

                let! observations =
                    optional
                        root
                        "observations"
                        (fun (v, n) ->
                            Json.Array(
                                v,
                                n,
                                fun (e, p) ->
                                    result {
                                        let! f = Json.Field(e, "formulation", p, Json.Formulation)

                                        let! t = Json.Field(e, "temperature", p, Json.Number)

                                        let! q = Json.Field(e, "quantity", p, Json.Str)

                                        let! success = Json.FieldOr(e, "success", p, Json.Bool, true)

                                        let! value =
                                            match Json.Prop(e, "value") with
                                            | ValueSome v -> Json.Number(v, p + ".value")
                                            | ValueNone when not success -> Ok nan
                                            | ValueNone ->
                                                Error(sprintf "%s.value is missing (required when success is true)" p)

                                        let! src = Json.FieldOr(e, "source", p, Json.Str, "")

                                        let! rating = Json.FieldOr(e, "rating", p, Json.Number, nan)

                                        let! deleted = Json.FieldOr(e, "deleted", p, Json.Bool, false)

                                        return
                                            { ObservationSpec.Formulation = f
                                              Temperature = t
                                              Source = src
                                              Quantity = q
                                              Value = value
                                              Rating = rating
                                              Success = success
                                              Deleted = deleted }
                                    }
                            ))
                        [||]

                let! pending =
                    optional
                        root
                        "pending"
                        (fun (v, n) ->
                            Json.Array(
                                v,
                                n,
                                fun (e, p) ->
                                    result {
                                        let! f = Json.Field(e, "formulation", p, Json.Formulation)

                                        let! t = Json.Field(e, "temperature", p, Json.Number)

                                        let! src = Json.FieldOr(e, "source", p, Json.Str, "")

                                        return
                                            { PendingSpec.Formulation = f
                                              Temperature = t
                                              Source = src }
                                    }
                            ))
                        [||]

                let d = OptimizerFacade.DefaultOptions
                let! batch = optional root "batch_size" Json.Int d.BatchSize
                let! seed = optional root "seed" Json.Int d.Seed
                let! cands = optional root "candidates" Json.Int d.Candidates
                let! minRating = optional root "min_rating" Json.Number d.MinRating
                let! target = optional root "target_source" Json.Str d.TargetSource
                let! softness = optional root "softness" Json.Number d.Softness

                let! tmin, tmax =
                    optional
                        root
                        "temperature"
                        (fun (v, n) ->
                            result {
                                let! a = Json.Field(v, "min", n, Json.Number)

                                let! b = Json.Field(v, "max", n, Json.Number)

                                if a > b || a <= 0.0 then
                                    return!
                                        Error(
                                            sprintf
                                                "temperature is {min: %g, max: %g}; expected 0 < min <= max (kelvin)"
                                                a
                                                b
                                        )
                                else
                                    return (a, b)
                            })
                        (nan, nan)

                let! sqrtBeta, delta, scale =
                    optional
                        root
                        "beta"
                        (fun (v, n) ->
                            result {
                                let! schedule = Json.FieldOr(v, "schedule", n, Json.Str, "srinivas")

                                match schedule with
                                | "constant" ->
                                    let! b = Json.Field(v, "sqrt_beta", n, Json.Number)

                                    if b < 0.0 || not (Double.IsFinite b) then
                                        return! Error(sprintf "beta.sqrt_beta is %g; expected a finite number >= 0" b)
                                    else
                                        return (b, d.Delta, d.BetaScale)
                                | "srinivas" ->
                                    let! dl = optional v "delta" (fun (x, _) -> Json.Number(x, n + ".delta")) d.Delta

                                    let! sc =
                                        optional v "scale" (fun (x, _) -> Json.Number(x, n + ".scale")) d.BetaScale

                                    if dl <= 0.0 || dl >= 1.0 then
                                        return! Error(sprintf "beta.delta is %g; expected 0 < delta < 1" dl)
                                    elif sc <= 0.0 then
                                        return! Error(sprintf "beta.scale is %g; expected > 0" sc)
                                    else
                                        return (nan, dl, sc)
                                | other ->
                                    return! Error(sprintf "beta.schedule is '%s'; expected constant or srinivas" other)
                            })
                        (nan, d.Delta, d.BetaScale)

                let options =
                    { d with
                        BatchSize = batch
                        Seed = seed
                        Candidates = cands
                        MinRating = minRating
                        TargetSource = target
                        Softness = softness
                        SqrtBeta = sqrtBeta
                        Delta = delta
                        BetaScale = scale
                        TemperatureMin = tmin
                        TemperatureMax = tmax }

                let o =
                    OptimizerFacade.Suggest(lim.GetRawText(), objectives, observations, pending, options)

                let! sugg = if o.Ok then Ok o.Value else Error o.Error

                let betaForm =
                    if Double.IsNaN sqrtBeta then
                        sprintf
                            "srinivas: beta_t = %g * 2 log(|D| t^2 pi^2 / (6 * %g)), |D| = candidates, t = observations + 1; sqrt(beta_t) multiplies sigma"
                            scale
                            delta
                    else
                        sprintf "constant: sqrt(beta) = %g multiplies sigma" sqrtBeta

                return sugg, betaForm
            }

        match r with
        | Error m -> Json.Fail m
        | Ok(sugg, betaForm) ->
            { Ok = true
              Error = ""
              Value =
                Json.Write(fun w ->
                    w.WriteStartObject()
                    w.WriteStartArray("suggestions")

                    for s in sugg do
                        w.WriteStartObject()
                        w.WriteStartObject("formulation")

                        for kv in s.Formulation do
                            w.WriteNumber(kv.Key, kv.Value)

                        w.WriteEndObject()
                        w.WriteNumber("temperature", s.Temperature)
                        w.WriteString("source", s.Source)
                        Json.Num(w, "predicted_merit", s.PredictedMerit)
                        Json.Num(w, "predicted_std", s.PredictedStd)
                        Json.Num(w, "acquisition", s.Acquisition)
                        w.WriteEndObject()

                    w.WriteEndArray()
                    w.WriteString("beta", betaForm)
                    w.WriteEndObject()) }

    static member benchOptimizer
        (problem: string)
        (seeds: int)
        (evals: int)
        (progress: string -> unit)
        : Outcome<string * string> =
        match Benchmarks.parseProblem problem with
        | Error m -> Json.Fail m
        | Ok _ when seeds < 1 -> Json.Fail(sprintf "--seeds is %d; expected >= 1" seeds)
        | Ok _ when evals < 1 -> Json.Fail(sprintf "--evals is %d; expected >= 1" evals)
        | Ok p ->
            let run gp label =
                Array.init seeds (fun s ->
                    let c = Benchmarks.runOne p gp s evals

                    progress (
                        sprintf
                            "%s %s seed %d/%d: final regret %.3g"
                            (Benchmarks.name p)
                            label
                            (s + 1)
                            seeds
                            c[c.Length - 1]
                    )

                    c)

            let gp = run true "gp-ucb"
            let rnd = run false "random"
            let at = [| 10; 25; 50; 100 |]

            let json =
                Json.Write(fun w ->
                    w.WriteStartObject()
                    w.WriteString("problem", Benchmarks.name p)
                    w.WriteNumber("seeds", seeds)
                    w.WriteNumber("evaluations", evals)
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

                    w.WriteString(
                        "beta",
                        "srinivas: beta_t = 0.2 * 2 log(|D| t^2 pi^2 / (6 * 0.1)), |D| = 1000 candidates"
                    )

                    w.WriteStartObject("regret")

                    for (label, curves) in [ "gp_ucb", gp; "random", rnd ] do
                        w.WriteStartArray(label)

                        for s in Benchmarks.summarise curves at do
                            w.WriteStartObject()
                            w.WriteNumber("evaluations", s.Evaluations)
                            w.WriteNumber("median", s.Median)
                            w.WriteNumber("q1", s.Q1)
                            w.WriteNumber("q3", s.Q3)
                            w.WriteEndObject()

                        w.WriteEndArray()

                    w.WriteEndObject()
                    w.WriteEndObject())

            let svg =
                Benchmarks.svg
                    (sprintf "%s: simple regret, %d seeds" (Benchmarks.name p) seeds)
                    [ "GP-UCB", gp; "random", rnd ]

            { Ok = true
              Error = ""
              Value = (json, svg) }
