namespace Finales.Optimizer

open System
open System.Globalization
open System.Text.Json
open Finales.Core

/// Where one objective's value is read from: results of `Quantity`/`Method`, the number (or list of numbers reduced by
/// `Aggregate`: mean, median, first or last) at the dotted result-data path `Path`; success and rating from the `meta`
/// object next to it.
type ObjectiveSource =
    { Name: string
      Quantity: string
      Method: string
      Path: string
      Aggregate: string }

/// One FINALES2 result as the reading needs it: `Body` is the whole result object (its `parameters`), `Data` its data.
type ResultRecord =
    { Id: Guid
      RequestId: string
      Quantity: string
      Method: string
      Status: string
      Body: JsonElement
      Data: JsonElement }

/// One objective value read from one result, at the point of its parameters: the formulation (canonical chemical key ->
/// mole fraction) and the temperature (K) rounded as the point key rounds them. `Value` is None for a failed result.
type ObservedValue =
    { Objective: string
      PointKey: string
      Formulation: (string * float) list
      Temperature: float<Units.K>
      Value: float option
      Rating: float option
      Success: bool
      ResultId: Guid
      RequestId: string }

/// What `Observations.extract` read, and how many results it left out and why (each unreadable result named).
type ExtractedValues =
    { Values: ObservedValue list
      Deleted: int
      BelowMinRating: int
      Unreadable: string list }

/// A (formulation, temperature) point with the mean value of every objective read successfully for it; `Failed` when
/// any of its results failed, `Complete` when not failed and every objective has a value.
type ObservedPoint =
    { PointKey: string
      Formulation: (string * float) list
      Temperature: float<Units.K>
      Values: Map<string, float>
      Failed: bool
      Complete: bool }

/// Reading objective values out of FINALES2 results (formulations through the core's codec, points keyed by the core's
/// `PointKey`) and joining them per point (`PointKey.join`).
[<RequireQualifiedAccess>]
module Observations =

    /// The element at a dotted path (array indices allowed), if present and not null.
    let tryPath (root: JsonElement) (path: string) : JsonElement option =
        let step (current: JsonElement option) (segment: string) =
            current
            |> Option.bind (fun value ->
                match value.ValueKind with
                | JsonValueKind.Object ->
                    match value.TryGetProperty(segment) with
                    | true, next -> Some next
                    | _ -> None
                | JsonValueKind.Array ->
                    match Int32.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture) with
                    | true, i when i < value.GetArrayLength() -> Some value[i]
                    | _ -> None
                | _ -> None)

        path.Split('.', StringSplitOptions.RemoveEmptyEntries)
        |> Array.fold step (Some root)
        |> Option.filter (fun v -> v.ValueKind <> JsonValueKind.Null && v.ValueKind <> JsonValueKind.Undefined)

    /// The number at `path`: a number, or the finite numbers of a list reduced by mean|median|first|last (any other
    /// name is the mean); None when absent or empty.
    let aggregate (data: JsonElement) (path: string) (how: string) : float option =
        match tryPath data path with
        | Some v when v.ValueKind = JsonValueKind.Number -> Some(v.GetDouble())
        | Some v when v.ValueKind = JsonValueKind.Array ->
            let xs =
                v.EnumerateArray()
                |> Seq.filter (fun x -> x.ValueKind = JsonValueKind.Number)
                |> Seq.map (fun x -> x.GetDouble())
                |> Seq.filter Double.IsFinite
                |> Array.ofSeq

            if xs.Length = 0 then
                None
            else
                match how with
                | "first" -> Some xs[0]
                | "last" -> Some xs[xs.Length - 1]
                | "median" ->
                    let s = Array.sort xs
                    let n = s.Length

                    Some(
                        if n % 2 = 1 then
                            s[n / 2]
                        else
                            0.5 * (s[n / 2 - 1] + s[n / 2])
                    )
                | _ -> Some(Array.average xs)
        | _ -> None

    /// The `meta` path of an objective: its path with the last segment replaced by `meta`.
    let metaPath (source: ObjectiveSource) : string =
        match source.Path.LastIndexOf('.') with
        | i when i < 0 -> "meta"
        | i -> source.Path[.. i - 1] + ".meta"

    let private parametersOf (requestParameters: string -> JsonElement option) (r: ResultRecord) : JsonElement option =
        let under (parameters: JsonElement) =
            if parameters.ValueKind = JsonValueKind.Object then
                match parameters.TryGetProperty(r.Method) with
                | true, p when p.ValueKind = JsonValueKind.Object -> Some p
                | _ -> None
            else
                None

        let own =
            match r.Body.ValueKind, r.Body.ValueKind = JsonValueKind.Object with
            | _, true ->
                match r.Body.TryGetProperty("parameters") with
                | true, ps -> under ps
                | _ -> None
            | _ -> None

        own |> Option.orElse (requestParameters r.RequestId |> Option.bind under)

    let private rounded (digits: int) (fractions: (string * float) list) =
        fractions
        |> List.map (fun (k, v) -> k, Math.Round(v, digits, MidpointRounding.AwayFromZero))
        |> List.filter (fun (_, v) -> v > 0.0)

    /// The objective values of `results`, in order: for each result (not deleted) of an objective's quantity and method,
    /// the value at the objective's path, success and rating from the `meta` next to it; the point from the result's
    /// `parameters.<method>` (else its request's), the temperature falling back to the value's `temperature`. Results
    /// rated below `minRating` are left out (unrated ones are kept); a result whose formulation or temperature cannot be
    /// read, or whose successful value is not a finite number, is reported in `Unreadable` (named by its id). A result
    /// without data at the objective's path (a densimeter run without viscosity) gives no value for it.
    let extract
        (objectives: ObjectiveSource list)
        (requestParameters: string -> JsonElement option)
        (minRating: float)
        (rule: PointKeyRule)
        (results: ResultRecord seq)
        : ExtractedValues =
        let values = ResizeArray<ObservedValue>()
        let unreadable = ResizeArray<string>()
        let mutable deleted = 0
        let mutable low = 0

        for r in results do
            let mine =
                objectives
                |> List.filter (fun o -> o.Quantity = r.Quantity && o.Method = r.Method)

            if not mine.IsEmpty then
                let id = r.Id.ToString("D")

                if r.Status = "deleted" then
                    deleted <- deleted + 1
                else
                    let formulation =
                        parametersOf requestParameters r
                        |> Option.bind (fun p ->
                            match p.TryGetProperty("formulation") with
                            | true, f -> Some(p, f)
                            | _ -> None)

                    match formulation with
                    | None -> unreadable.Add $"result {id}: no parameters.{r.Method}.formulation"
                    | Some(parameters, f) ->
                        match Finales2Formulation.moleFractions SumDuplicates "formulation" f with
                        | Error errors -> unreadable.Add $"result {id}: {Finales2Formulation.message errors}"
                        | Ok fractions ->
                            for o in mine do
                                let meta = metaPath o

                                let temperature =
                                    match parameters.TryGetProperty("temperature") with
                                    | true, t when t.ValueKind = JsonValueKind.Number -> Some(t.GetDouble())
                                    | _ ->
                                        let i = o.Path.LastIndexOf('.')
                                        aggregate r.Data (o.Path[.. max 0 i - 1] + ".temperature") "first"
                                    |> Option.filter Double.IsFinite

                                match temperature with
                                | None ->
                                    let at = meta.Replace(".meta", ".temperature")

                                    unreadable.Add
                                        $"result {id}: no temperature in parameters.{r.Method} or at data.{at}"
                                | Some t ->
                                    let success =
                                        match tryPath r.Data (meta + ".success") with
                                        | Some s -> s.ValueKind <> JsonValueKind.False
                                        | None -> true

                                    let rating =
                                        match tryPath r.Data (meta + ".rating") with
                                        | Some v when v.ValueKind = JsonValueKind.Number -> Some(v.GetDouble())
                                        | _ -> None

                                    match rating with
                                    | Some x when x < minRating -> low <- low + 1
                                    | _ ->
                                        let value = aggregate r.Data o.Path o.Aggregate |> Option.filter Double.IsFinite

                                        match success, value with
                                        | true, None when (tryPath r.Data o.Path).IsNone -> ()
                                        | true, None ->
                                            unreadable.Add $"result {id}: data.{o.Path} holds no finite number"
                                        | _ ->
                                            values.Add
                                                { Objective = o.Name
                                                  PointKey = PointKey.create rule fractions t |> PointKey.value
                                                  Formulation = rounded rule.FractionDigits fractions
                                                  Temperature = PointKey.roundedTemperature rule t * 1.0<Units.K>
                                                  Value = if success then value else None
                                                  Rating = rating
                                                  Success = success
                                                  ResultId = r.Id
                                                  RequestId = r.RequestId }

        { Values = List.ofSeq values
          Deleted = deleted
          BelowMinRating = low
          Unreadable = List.ofSeq unreadable }

    /// The finest rule the optimizer's options allow (12 fraction and 6 temperature digits): values already rounded
    /// by `extract` to coarser digits keep exactly their points under it.
    let joinRule: PointKeyRule =
        { FractionDigits = 12
          TemperatureDigits = 6 }

    /// The values grouped per point (`PointKey.join` on their rounded formulation and temperature), groups sorted by
    /// the point key of their first value; every value is in exactly one group, in its given order.
    let groups (values: ObservedValue seq) : ObservedValue list list =
        values
        |> PointKey.join (fun v -> PointKey.create joinRule v.Formulation (float v.Temperature))
        |> List.map snd
        |> List.sortWith (fun a b -> String.CompareOrdinal(a.Head.PointKey, b.Head.PointKey))

    /// The joined points (see `groups`): repeated measurements of an objective averaged, any failure marks the point
    /// failed; complete when not failed and every objective (by name) has a value.
    let join (objectives: string list) (values: ObservedValue seq) : ObservedPoint list =
        groups values
        |> List.map (fun group ->
            let first = group.Head
            let failed = group |> List.exists (fun v -> not v.Success)

            let means =
                group
                |> List.choose (fun v ->
                    v.Value
                    |> Option.filter (fun _ -> v.Success)
                    |> Option.map (fun x -> v.Objective, x))
                |> List.groupBy fst
                |> List.map (fun (name, xs) -> name, xs |> List.averageBy snd)
                |> Map.ofList

            { PointKey = first.PointKey
              Formulation = first.Formulation
              Temperature = first.Temperature
              Values = means
              Failed = failed
              Complete = not failed && objectives |> List.forall means.ContainsKey })
