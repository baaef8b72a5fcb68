namespace Finales.Optimizer.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open System.Text.Json
open Finales.Core
open Finales.Optimizer

/// The point of a request for C# (see `RequestPoint`).
type RequestPointSpec =
    { PointKey: string
      Formulation: IReadOnlyDictionary<string, float>
      TemperatureKelvin: float }

/// A chemical the limitations offer, for C# (see `OfferedChemical`).
type OfferedChemicalSpec =
    { Key: string
      Smiles: string
      InChIKey: string }

/// The optimizer tenant's pure decisions for C# (see `TenantDecision`).
[<AbstractClass; Sealed>]
type TenantDecisions =
    /// The point of a request's `parameters.<method>` under the rule (digits 0..15); false when it has no readable
    /// formulation or no numeric temperature (then `point` is null).
    static member TryRequestPoint
        (
            parameters: JsonElement,
            methodName: string,
            fractionDigits: int,
            temperatureDigits: int,
            [<Out>] point: byref<RequestPointSpec>
        ) : bool =
        if obj.ReferenceEquals(methodName, null) then
            nullArg (nameof methodName)

        let rule =
            { FractionDigits = fractionDigits
              TemperatureDigits = temperatureDigits }

        match TenantDecision.requestPoint rule parameters methodName with
        | Some p ->
            point <-
                { PointKey = p.Key
                  Formulation =
                    FacadeCollections.ordered (p.Fractions |> List.map (fun (k, v) -> ChemicalKey.value k, v))
                  TemperatureKelvin = float p.Temperature }

            true
        | None ->
            point <- Unchecked.defaultof<_>
            false

    /// The index of the best (lowest) merit, the first of equals; -1 when there is none.
    static member BestIndex(merits: IReadOnlyList<float>) : int =
        if obj.ReferenceEquals(merits, null) then
            nullArg (nameof merits)

        TenantDecision.best merits |> Option.defaultValue -1

    /// The chemicals named in limitation documents, by canonical key (see `TenantDecision.offeredChemicals`).
    static member OfferedChemicals(limitations: JsonElement) : IReadOnlyList<OfferedChemicalSpec> =
        TenantDecision.offeredChemicals limitations
        |> List.map (fun c ->
            { OfferedChemicalSpec.Key = ChemicalKey.value c.Key
              Smiles = c.Smiles
              InChIKey = c.InChIKey })
        |> ResizeArray
        :> IReadOnlyList<_>

    /// The request parameters of a point (see `TenantDecision.parameters`); false with the chemical the offered ones
    /// lack.
    static member TryParameters
        (
            fractions: IReadOnlyDictionary<string, float>,
            temperatureKelvin: float,
            offered: IReadOnlyDictionary<string, OfferedChemicalSpec>,
            [<Out>] parameters: byref<JsonElement>,
            [<Out>] error: byref<string>
        ) : bool =
        if obj.ReferenceEquals(fractions, null) then
            nullArg (nameof fractions)

        if obj.ReferenceEquals(offered, null) then
            nullArg (nameof offered)

        let lookup (key: ChemicalKey) =
            match offered.TryGetValue(ChemicalKey.value key) with
            | true, c ->
                Some
                    { OfferedChemical.Key = ChemicalKey.create c.Key
                      Smiles = c.Smiles
                      InChIKey = c.InChIKey }
            | _ -> None

        let keyed =
            Convert.pairs fractions |> Seq.map (fun (k, v) -> ChemicalKey.create k, v)

        match TenantDecision.parameters lookup keyed (temperatureKelvin * 1.0<Units.K>) with
        | Ok o ->
            parameters <- JsonSerializer.SerializeToElement o
            error <- ""
            true
        | Error e ->
            parameters <- Unchecked.defaultof<_>
            error <- e
            false
