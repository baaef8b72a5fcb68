namespace Finales.Optimizer.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open System.Text.Json
open Finales.Core
open Finales.Optimizer

/// Where one objective's value is read from, for C# (see `ObjectiveSource`).
[<CLIMutable>]
type ObjectiveSourceSpec =
    { Name: string
      Quantity: string
      Method: string
      Path: string
      Aggregate: string }

/// One FINALES2 result for C# (see `ResultRecord`): `Body` is the whole result object, `Data` its data.
[<CLIMutable>]
type ResultSpec =
    { Id: Guid
      RequestId: string
      Quantity: string
      Method: string
      Status: string
      Body: JsonElement
      Data: JsonElement }

/// One objective value read from one result, for C#: `Value` null for a failed result, `Rating` null when unrated.
[<CLIMutable>]
type ObservedValueSpec =
    { Objective: string
      PointKey: string
      Formulation: IReadOnlyDictionary<string, float>
      TemperatureKelvin: float
      Value: Nullable<float>
      Rating: Nullable<float>
      Success: bool
      ResultId: Guid
      RequestId: string }

/// What the reading of results found, for C#: the values, and the results left out and why.
type ExtractionSpec =
    { Values: IReadOnlyList<ObservedValueSpec>
      Deleted: int
      BelowMinRating: int
      Unreadable: IReadOnlyList<string> }

/// A joined point for C# (see `ObservedPoint`).
type ObservedPointSpec =
    { PointKey: string
      Formulation: IReadOnlyDictionary<string, float>
      TemperatureKelvin: float
      Values: IReadOnlyDictionary<string, float>
      Failed: bool
      Complete: bool }

/// The optimizer tenant's reading of results into observations and their join per point, for C# (see `Observations`).
/// Nothing here fails on input: a result that cannot be read is reported in `Unreadable`.
[<AbstractClass; Sealed>]
type ObservationReader =
    static member private Nullable(v: float option) : Nullable<float> =
        match v with
        | Some x -> Nullable x
        | None -> Nullable()

    /// The element at a dotted path of `root` (array indices allowed), if present and not null.
    static member TryPath(root: JsonElement, path: string, [<Out>] value: byref<JsonElement>) : bool =
        if obj.ReferenceEquals(path, null) then
            nullArg (nameof path)

        match Observations.tryPath root path with
        | Some v ->
            value <- v
            true
        | None ->
            value <- root
            false

    /// The number at `path`: a number, or a list of numbers reduced by mean|median|first|last; null when absent or
    /// empty.
    static member Aggregate(data: JsonElement, path: string, aggregate: string) : Nullable<float> =
        if obj.ReferenceEquals(path, null) then
            nullArg (nameof path)

        ObservationReader.Nullable(Observations.aggregate data path (Convert.text aggregate))

    /// The objective values of `results` (see `Observations.extract`); `requestParameters` holds the `parameters` of
    /// the requests by request id (the fallback when a result carries none), `fractionDigits`/`temperatureDigits` are
    /// the point key's rounding (0..15).
    static member Extract
        (
            results: IEnumerable<ResultSpec>,
            objectives: IReadOnlyList<ObjectiveSourceSpec>,
            requestParameters: IReadOnlyDictionary<string, JsonElement>,
            minRating: float,
            fractionDigits: int,
            temperatureDigits: int
        ) : ExtractionSpec =
        if obj.ReferenceEquals(results, null) then
            nullArg (nameof results)

        if obj.ReferenceEquals(objectives, null) then
            nullArg (nameof objectives)

        let sources =
            objectives
            |> Seq.map (fun o ->
                { ObjectiveSource.Name = o.Name
                  Quantity = o.Quantity
                  Method = o.Method
                  Path = Convert.text o.Path
                  Aggregate = Convert.text o.Aggregate })
            |> List.ofSeq

        let lookup (id: string) =
            if obj.ReferenceEquals(requestParameters, null) || obj.ReferenceEquals(id, null) then
                None
            else
                match requestParameters.TryGetValue id with
                | true, p -> Some p
                | _ -> None

        let records =
            results
            |> Seq.map (fun r ->
                { ResultRecord.Id = r.Id
                  RequestId = r.RequestId
                  Quantity = r.Quantity
                  Method = r.Method
                  Status = r.Status
                  Body = r.Body
                  Data = r.Data })

        let extracted =
            Observations.extract
                sources
                lookup
                minRating
                { FractionDigits = fractionDigits
                  TemperatureDigits = temperatureDigits }
                records

        { Values =
            extracted.Values
            |> List.map (fun v ->
                { ObservedValueSpec.Objective = v.Objective
                  PointKey = v.PointKey
                  Formulation = FacadeCollections.ordered v.Formulation
                  TemperatureKelvin = float v.Temperature
                  Value = ObservationReader.Nullable v.Value
                  Rating = ObservationReader.Nullable v.Rating
                  Success = v.Success
                  ResultId = v.ResultId
                  RequestId = v.RequestId })
            |> ResizeArray
            :> IReadOnlyList<_>
          Deleted = extracted.Deleted
          BelowMinRating = extracted.BelowMinRating
          Unreadable = ResizeArray extracted.Unreadable :> IReadOnlyList<_> }

    /// The values joined per point, sorted by point key (see `Observations.join`); `objectives` are the names a point
    /// needs values of to be complete.
    static member Join
        (values: IReadOnlyList<ObservedValueSpec>, objectives: IReadOnlyList<string>)
        : IReadOnlyList<ObservedPointSpec> =
        if obj.ReferenceEquals(values, null) then
            nullArg (nameof values)

        if obj.ReferenceEquals(objectives, null) then
            nullArg (nameof objectives)

        values
        |> Seq.map (fun v ->
            { ObservedValue.Objective = v.Objective
              PointKey = v.PointKey
              Formulation = Convert.pairs v.Formulation |> List.ofArray
              Temperature = v.TemperatureKelvin * 1.0<Units.K>
              Value = if v.Value.HasValue then Some v.Value.Value else None
              Rating = if v.Rating.HasValue then Some v.Rating.Value else None
              Success = v.Success
              ResultId = v.ResultId
              RequestId = v.RequestId })
        |> Observations.join (List.ofSeq objectives)
        |> List.map (fun p ->
            { ObservedPointSpec.PointKey = p.PointKey
              Formulation = FacadeCollections.ordered p.Formulation
              TemperatureKelvin = float p.Temperature
              Values = FacadeCollections.ordered (Map.toSeq p.Values)
              Failed = p.Failed
              Complete = p.Complete })
        |> ResizeArray
        :> IReadOnlyList<_>
