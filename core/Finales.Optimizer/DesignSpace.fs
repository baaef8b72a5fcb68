namespace Finales.Optimizer

open System
open System.IO
open System.Text
open System.Text.Json
open Finales.Core

/// The design space of a requester that asks several capabilities about the same formulations:
/// the intersection of their feasible sets, restricted to a chemical subset and a temperature range.
/// Chemicals are keyed canonically (`ChemicalKey`): the InChIKey of a chemical the core knows (found by name,
/// SMILES or InChIKey), else the key as written (SMILES first, as FeasibleSet reads it); the space writes each
/// chemical as its canonical key, since the capabilities may write one chemical differently.
[<RequireQualifiedAccess>]
module DesignSpace =

    /// The canonical key of a chemical key (name, SMILES or InChIKey).
    let canonicalKey (key: string) : string = ChemicalKey.canonical key

    let private canonicalise (s: FeasibleSet) : FeasibleSet =
        { s with
            Components =
                s.Components
                |> Array.map (fun c ->
                    { c with
                        Chemical = ChemicalKey.value c.Key }) }

    let private absent (chemical: string) =
        { Chemical = chemical
          Lower = 0.0
          Upper = 0.0
          ZeroAllowed = true }

    let private admitsZero (b: ComponentBound) = b.ZeroAllowed || b.Lower <= 0.0

    /// {0 if allowed} u [L, U] intersected with the same for b; None when nothing is left.
    let private intersectBound (a: ComponentBound) (b: ComponentBound) : ComponentBound option =
        let lo, hi = max a.Lower b.Lower, min a.Upper b.Upper
        let zero = admitsZero a && admitsZero b

        if lo <= hi + 1e-12 then
            Some
                { Chemical = a.Chemical
                  Lower = lo
                  Upper = max lo hi
                  ZeroAllowed = zero || lo <= 0.0 }
        elif zero then
            Some(absent a.Chemical)
        else
            None

    let private feasible (s: FeasibleSet) =
        Option.isNone (FeasibleSet.infeasibility s)
        && s.TemperatureMin <= s.TemperatureMax

    let private intersectSets (a: FeasibleSet) (b: FeasibleSet) : FeasibleSet option =
        let chems =
            Array.append a.Components b.Components
            |> Array.distinctBy (fun c -> c.Key)
            |> Array.map (fun c -> c.Key, c.Chemical)

        let find (s: FeasibleSet) (key: ChemicalKey, written: string) =
            s.Components
            |> Array.tryFind (fun k -> k.Key = key)
            |> Option.defaultValue (absent written)

        let bounds = chems |> Array.map (fun c -> intersectBound (find a c) (find b c))

        if bounds |> Array.exists Option.isNone then
            None
        else
            let s =
                { Components = bounds |> Array.choose id |> Array.filter (fun c -> c.Upper > 0.0)
                  TemperatureMin = max a.TemperatureMin b.TemperatureMin
                  TemperatureMax = min a.TemperatureMax b.TemperatureMax }

            if feasible s then Some s else None

    /// Intersects the feasible sets of several capabilities (every alternative of one with every
    /// alternative of the next), then restricts chemicals to `subset` (canonical keys; empty = all)
    /// and temperature to [tmin, tmax] (NaN = unrestricted). Error names what made it empty.
    let intersect
        (perCapability: FeasibleSet[][])
        (subset: string[])
        (tmin: float)
        (tmax: float)
        : Result<FeasibleSet[], string> =
        if perCapability.Length = 0 then
            Error "no capability limitations to intersect"
        else
            let all = perCapability |> Array.map (Array.map canonicalise)
            let subset = subset |> Array.map ChemicalKey.create

            let restrict (s: FeasibleSet) =
                let comps =
                    if subset.Length = 0 then
                        Some s.Components
                    else
                        let kept =
                            s.Components
                            |> Array.map (fun c ->
                                if Array.contains c.Key subset then
                                    Some c
                                else
                                    intersectBound c (absent c.Chemical))

                        if kept |> Array.exists Option.isNone then
                            None
                        else
                            Some(kept |> Array.choose id |> Array.filter (fun c -> c.Upper > 0.0))

                comps
                |> Option.map (fun cs ->
                    { Components = cs
                      TemperatureMin =
                        (if Double.IsNaN tmin then
                             s.TemperatureMin
                         else
                             max (tmin * 1.0<Finales.Core.Units.K>) s.TemperatureMin)
                      TemperatureMax =
                        (if Double.IsNaN tmax then
                             s.TemperatureMax
                         else
                             min (tmax * 1.0<Finales.Core.Units.K>) s.TemperatureMax) })
                |> Option.filter feasible

            let joined =
                all[1..]
                |> Array.fold
                    (fun acc next ->
                        [| for a in acc do
                               for b in next do
                                   match intersectSets a b with
                                   | Some s -> yield s
                                   | None -> () |])
                    all[0]

            let sets = joined |> Array.choose restrict

            if joined.Length = 0 then
                Error "the limitations of the requested capabilities have no formulation and temperature in common"
            elif sets.Length = 0 then
                Error(
                    sprintf
                        "no feasible formulation is left after restricting to chemicals [%s] and temperature %g..%g K"
                        (String.Join(", ", subset |> Array.map ChemicalKey.value))
                        tmin
                        tmax
                )
            else
                Ok sets

    /// FINALES2 limitations text for the sets (one {formulation: [[...]], temperature: [{min,max}]}
    /// per set; chemicals written as {"InChIKey": key}), readable by FeasibleSet.parseText.
    let toJson (sets: FeasibleSet[]) : string =
        use ms = new MemoryStream()

        (use w = new Utf8JsonWriter(ms)
         w.WriteStartArray()

         for s in sets do
             w.WriteStartObject()
             w.WriteStartArray("formulation")
             w.WriteStartArray()

             for c in s.Components do
                 w.WriteStartObject()
                 w.WriteStartObject("chemical")
                 w.WriteString("InChIKey", c.Chemical)
                 w.WriteEndObject()
                 w.WriteStartArray("fraction")

                 if c.ZeroAllowed && c.Lower > 0.0 then
                     w.WriteStartObject()
                     w.WriteNumber("min", 0.0)
                     w.WriteNumber("max", 0.0)
                     w.WriteEndObject()

                 w.WriteStartObject()
                 w.WriteNumber("min", c.Lower)
                 w.WriteNumber("max", c.Upper)
                 w.WriteEndObject()
                 w.WriteEndArray()
                 w.WriteString("fraction_type", "molPerMol")
                 w.WriteEndObject()

             w.WriteEndArray()
             w.WriteEndArray()
             w.WriteStartArray("temperature")
             w.WriteStartObject()
             w.WriteNumber("min", float s.TemperatureMin)
             w.WriteNumber("max", float s.TemperatureMax)
             w.WriteEndObject()
             w.WriteEndArray()
             w.WriteEndObject()

         w.WriteEndArray())

        Encoding.UTF8.GetString(ms.ToArray())
