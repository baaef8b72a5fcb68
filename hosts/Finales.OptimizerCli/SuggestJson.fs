namespace Finales.OptimizerCli

open FsToolkit.ErrorHandling
open System
open System.Text.Json
open Finales.Optimizer

/// `finales suggest`: a campaign request (limitations, objectives, observations, pending, settings)
/// to the next batch of suggestions.
[<RequireQualifiedAccess>]
module internal SuggestJson =

    /// {chemical: fraction} with fractions in [0,1].
    let private formulation (e: JsonElement, path: string) : Result<(string * float)[], string> =
        if e.ValueKind <> JsonValueKind.Object then
            Error(sprintf "%s is %s; expected {chemical: fraction}" path (e.GetRawText()))
        else
            // A dictionary: a chemical named twice keeps its first place and its last fraction.
            let d = System.Collections.Generic.Dictionary<string, float>()

            let firstError =
                e.EnumerateObject()
                |> Seq.choose (fun p ->
                    match JsonKit.number (p.Value, sprintf "%s.%s" path p.Name) with
                    | Ok v when v >= 0.0 && v <= 1.0 ->
                        d[p.Name] <- v
                        None
                    | Ok v -> Some(sprintf "%s.%s is %g; fractions must lie in [0,1]" path p.Name v)
                    | Error m -> Some m)
                |> Seq.tryHead

            match firstError with
            | Some m -> Error m
            | None -> Ok(d |> Seq.map (fun kv -> kv.Key, kv.Value) |> Array.ofSeq)

    /// Objective as written: quantity, goal and kind still text (checked after every other field).
    type private ObjectiveText =
        { Quantity: string
          Goal: string
          Tolerance: float
          Kind: string }

    let private objective (i: int) (o: ObjectiveText) : Result<CampaignObjective, string> =
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

    let private observation (e: JsonElement, p: string) : Result<Observation, string> =
        result {
            let! f = JsonKit.field e "formulation" p formulation
            let! t = JsonKit.field e "temperature" p JsonKit.number
            let! q = JsonKit.field e "quantity" p JsonKit.str
            let! success = JsonKit.fieldOr e "success" p JsonKit.bool true

            let! value =
                match JsonKit.prop e "value" with
                | ValueSome v -> JsonKit.number (v, p + ".value")
                | ValueNone when not success -> Ok nan
                | ValueNone -> Error(sprintf "%s.value is missing (required when success is true)" p)

            let! src = JsonKit.fieldOr e "source" p JsonKit.str ""
            let! rating = JsonKit.fieldOr e "rating" p JsonKit.number nan
            let! deleted = JsonKit.fieldOr e "deleted" p JsonKit.bool false

            return
                { Observation.Formulation = f
                  Temperature = t * 1.0<Finales.Core.Units.K>
                  Source = src
                  Quantity = q
                  Value = value
                  Rating = (if Double.IsNaN rating then None else Some rating)
                  Success = success
                  Deleted = deleted }
        }

    let private pending (e: JsonElement, p: string) : Result<PendingRequest, string> =
        result {
            let! f = JsonKit.field e "formulation" p formulation
            let! t = JsonKit.field e "temperature" p JsonKit.number
            let! src = JsonKit.fieldOr e "source" p JsonKit.str ""

            return
                { PendingRequest.Formulation = f
                  Temperature = t * 1.0<Finales.Core.Units.K>
                  Source = src }
        }

    /// The default Srinivas schedule of `suggest`: delta 0.1, scale 0.2.
    let private defaultDelta, defaultScale = 0.1, 0.2

    /// sqrt(beta) (None = Srinivas), delta and scale.
    let private beta (v: JsonElement, n: string) : Result<float option * float * float, string> =
        result {
            let! schedule = JsonKit.fieldOr v "schedule" n JsonKit.str "srinivas"

            match schedule with
            | "constant" ->
                let! b = JsonKit.field v "sqrt_beta" n JsonKit.number

                if b < 0.0 || not (Double.IsFinite b) then
                    return! Error(sprintf "beta.sqrt_beta is %g; expected a finite number >= 0" b)
                else
                    return (Some b, defaultDelta, defaultScale)
            | "srinivas" ->
                let! dl = JsonKit.optional v "delta" (fun (x, _) -> JsonKit.number (x, n + ".delta")) defaultDelta
                let! sc = JsonKit.optional v "scale" (fun (x, _) -> JsonKit.number (x, n + ".scale")) defaultScale

                if dl <= 0.0 || dl >= 1.0 then
                    return! Error(sprintf "beta.delta is %g; expected 0 < delta < 1" dl)
                elif sc <= 0.0 then
                    return! Error(sprintf "beta.scale is %g; expected > 0" sc)
                else
                    return (None, dl, sc)
            | other -> return! Error(sprintf "beta.schedule is '%s'; expected constant or srinivas" other)
        }

    let run (text: string) : Result<string, string> =
        result {
            let! root = JsonKit.parse text

            let! lim = JsonKit.required root "limitations" "limitations is missing; expected FINALES2 limitations"

            let! objsEl =
                JsonKit.required
                    root
                    "objectives"
                    "objectives is missing; expected a list of {quantity, goal, tolerance, kind}"

            let! objectives =
                JsonKit.array
                    (fun (e, p) ->
                        result {
                            let! q = JsonKit.field e "quantity" p JsonKit.str
                            let! g = JsonKit.fieldOr e "goal" p JsonKit.str "min"
                            let! t = JsonKit.fieldOr e "tolerance" p JsonKit.number 0.0
                            let! k = JsonKit.fieldOr e "kind" p JsonKit.str "relative"

                            return
                                { Quantity = q
                                  Goal = g
                                  Tolerance = t
                                  Kind = k }
                        })
                    (objsEl, "objectives")

            let! observations = JsonKit.optional root "observations" (JsonKit.array observation) [||]
            let! pending = JsonKit.optional root "pending" (JsonKit.array pending) [||]
            let d = Campaign.defaultSettings
            let! batch = JsonKit.optional root "batch_size" JsonKit.int 1
            let! seed = JsonKit.optional root "seed" JsonKit.int 0
            let! cands = JsonKit.optional root "candidates" JsonKit.int 1000
            let! minRating = JsonKit.optional root "min_rating" JsonKit.number Double.NegativeInfinity
            let! target = JsonKit.optional root "target_source" JsonKit.str ""
            let! softness = JsonKit.optional root "softness" JsonKit.number Chimera.DefaultSoftness

            let! temperature =
                JsonKit.optional
                    root
                    "temperature"
                    (fun (v, n) ->
                        result {
                            let! a = JsonKit.field v "min" n JsonKit.number
                            let! b = JsonKit.field v "max" n JsonKit.number

                            if a > b || a <= 0.0 then
                                return!
                                    Error(
                                        sprintf
                                            "temperature is {min: %g, max: %g}; expected 0 < min <= max (kelvin)"
                                            a
                                            b
                                    )
                            else
                                return Some(a, b)
                        })
                    None

            let! sqrtBeta, delta, scale = JsonKit.optional root "beta" beta (None, defaultDelta, defaultScale)
            let! objs = objectives |> Seq.mapi objective |> Finales.Core.Results.all

            let! sets =
                FeasibleSet.parseText temperature (lim.GetRawText())
                |> Result.mapError (fun e -> e.Message)

            let settings =
                { d with
                    BatchSize = batch
                    Seed = seed
                    Beta =
                        (match sqrtBeta with
                         | Some b -> ConstantSqrtBeta b
                         | None -> Srinivas(delta, scale))
                    MinRating = minRating
                    TargetSource = target
                    Candidates = cands
                    Softness = softness }

            let! step =
                Campaign.step settings sets (Array.ofList objs) observations pending
                |> Result.mapError (fun e -> e.Message)

            let betaForm =
                match sqrtBeta with
                | None ->
                    sprintf
                        "srinivas: beta_t = %g * 2 log(|D| t^2 pi^2 / (6 * %g)), |D| = candidates, t = observations + 1; sqrt(beta_t) multiplies sigma"
                        scale
                        delta
                | Some b -> sprintf "constant: sqrt(beta) = %g multiplies sigma" b

            return
                JsonKit.write (fun w ->
                    w.WriteStartObject()
                    w.WriteStartArray("suggestions")

                    for s in step.Suggestions do
                        w.WriteStartObject()
                        w.WriteStartObject("formulation")

                        for (k, v) in s.Formulation do
                            w.WriteNumber(k, v)

                        w.WriteEndObject()
                        w.WriteNumber("temperature", float s.Temperature)
                        w.WriteString("source", s.Source)
                        JsonKit.num w "predicted_merit" s.PredictedMerit
                        JsonKit.num w "predicted_std" s.PredictedStd
                        JsonKit.num w "acquisition" s.Acquisition
                        w.WriteEndObject()

                    w.WriteEndArray()
                    w.WriteString("beta", betaForm)
                    w.WriteEndObject())
        }
