namespace Finales.Core

open System.Text.Json.Nodes
open FsToolkit.ErrorHandling
open Finales.Core.Units

/// A closed interval of fractions. Invariant (checked by `DesignLimitations.create`): 0 <= Min <= Max <= 1.
type FractionInterval = { Min: float; Max: float }

/// One chemical of a design space and the fractions it may take (any of the intervals; `[0, 0]` admits "absent").
type DesignComponent =
    { Chemical: ChemicalReference
      Fractions: FractionInterval list }

/// A design space in the FINALES2 limitation language: one list of components (each with its admitted fractions, all
/// of one fraction type) and a temperature range. Invariant (checked by `DesignLimitations.create`): at least one
/// component, no chemical twice, every component with at least one interval, TemperatureMin <= TemperatureMax.
type DesignSpaceLimits =
    private
        { Components: DesignComponent list
          FractionType: string
          TemperatureMin: float<K>
          TemperatureMax: float<K> }

/// The design-space shape of tenant limitations, `{"formulation": [[{chemical, fraction: [{min, max}, ...],
/// fraction_type: [t]}, ...]], "temperature": [{min, max}]}`, and the tenant-level entry `{quantity, method,
/// limitations}` that carries it.
[<RequireQualifiedAccess>]
module DesignLimitations =

    /// A design space of chemicals the core knows (by name, SMILES or InChIKey) with their fraction intervals;
    /// every problem is reported, naming the chemical and the value.
    let create
        (fractionType: string)
        (components: (string * FractionInterval list) list)
        (temperatureMin: float<K>)
        (temperatureMax: float<K>)
        : Result<DesignSpaceLimits, string list> =
        let checkComponent (key: string, intervals: FractionInterval list) : Validation<DesignComponent, string> =
            validation {
                let! reference = ChemicalReference.ofKey key |> Result.mapError List.singleton

                and! () =
                    intervals
                    |> List.isEmpty
                    |> Result.requireFalse [ $"chemical {key} has no fraction interval" ]

                and! _ =
                    intervals
                    |> List.map (fun i ->
                        if 0.0 <= i.Min && i.Min <= i.Max && i.Max <= 1.0 then
                            Ok()
                        else
                            Error
                                [ $"fraction interval of {key} is {i.Min:R}..{i.Max:R}; expected 0 <= min <= max <= 1" ])
                    |> List.sequenceValidationA

                return
                    { Chemical = reference
                      Fractions = intervals }
            }

        validation {
            let! checkedComponents = components |> List.map checkComponent |> List.sequenceValidationA

            and! () =
                components
                |> List.isEmpty
                |> Result.requireFalse [ "a design space needs at least one chemical" ]

            and! () =
                (temperatureMin <= temperatureMax)
                |> Result.requireTrue
                    [ $"temperature range is {float temperatureMin:R}..{float temperatureMax:R} K; min must not exceed max" ]

            and! () =
                match
                    components
                    |> List.map fst
                    |> List.countBy ChemicalKey.canonical
                    |> List.filter (fun (_, n) -> n > 1)
                with
                | [] -> Ok()
                | twice ->
                    Error(
                        twice
                        |> List.map (fun (k, _) -> $"chemical {k} appears more than once in the design space")
                    )

            return
                { Components = checkedComponents
                  FractionType = FractionType.canonical fractionType
                  TemperatureMin = temperatureMin
                  TemperatureMax = temperatureMax }
        }

    /// The components, in the given order.
    let components (space: DesignSpaceLimits) : DesignComponent list = space.Components

    /// The temperature range (K).
    let temperatureRange (space: DesignSpaceLimits) : float<K> * float<K> =
        space.TemperatureMin, space.TemperatureMax

    let private range (lo: float) (hi: float) : JsonObject =
        let o = JsonObject()
        o["min"] <- JsonValue.Create lo
        o["max"] <- JsonValue.Create hi
        o

    /// The limitations object `{"formulation": [[...]], "temperature": [{min, max}]}`.
    let toJson (space: DesignSpaceLimits) : JsonObject =
        let entries = JsonArray()

        for c in space.Components do
            let entry = JsonObject()
            entry["chemical"] <- Finales2Formulation.chemicalJson c.Chemical

            entry["fraction"] <-
                JsonArray(c.Fractions |> List.map (fun i -> range i.Min i.Max :> JsonNode) |> Array.ofList)

            entry["fraction_type"] <- JsonArray(JsonValue.Create space.FractionType)
            entries.Add entry

        let o = JsonObject()
        o["formulation"] <- JsonArray(entries)
        o["temperature"] <- JsonArray(range (float space.TemperatureMin) (float space.TemperatureMax))
        o

    /// One entry of a tenant's limitations list: `{"quantity", "method", "limitations"}`.
    let tenantEntry (quantity: string) (methodName: string) (limitations: JsonNode) : JsonObject =
        let o = JsonObject()
        o["quantity"] <- JsonValue.Create quantity
        o["method"] <- JsonValue.Create methodName
        o["limitations"] <- limitations
        o
