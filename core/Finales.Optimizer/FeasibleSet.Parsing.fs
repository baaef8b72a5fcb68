namespace Finales.Optimizer

open System
open System.Text.Json

/// Bounds of one chemical's mole fraction: either in [Lower, Upper], or (when ZeroAllowed and
/// Lower > 0) exactly 0 as well. Invariant: 0 <= Lower <= Upper <= 1.
type ComponentBound =
    { Chemical: string
      Lower: float
      Upper: float
      ZeroAllowed: bool }


/// Problems with a limitation document; each names the JSON path and the value.
type LimitationError =
    | Malformed of path: string * detail: string
    | BadFraction of path: string * value: string
    | UnsupportedFractionType of path: string * value: string
    | Infeasible of alternative: int * detail: string
    | NoFormulation
    | NoTemperature

    /// A sentence naming the field and the value.
    member this.Message =
        match this with
        | Malformed(p, d) -> sprintf "%s: %s" p d
        | BadFraction(p, v) -> sprintf "%s is %s; fractions must be numbers or {min,max} with 0 <= min <= max <= 1" p v
        | UnsupportedFractionType(p, v) -> sprintf "%s is '%s'; only molPerMol is supported" p v
        | Infeasible(i, d) -> sprintf "limitations alternative %d is infeasible: %s" i d
        | NoFormulation -> "limitations contain no formulation; expected a 'formulation' list of chemical sets"
        | NoTemperature -> "limitations contain no temperature range and none was given"

/// Reading of FINALES2 limitation documents (the JSON side of `FeasibleSet.parse`): fraction intervals, chemical
/// keys, components and temperature ranges of each alternative.
[<RequireQualifiedAccess>]
module internal FeasibleSetParsing =

    let private kindName (e: JsonElement) = e.ValueKind.ToString()

    /// The bounds of a `{"min": number, "max": number}` object; None for anything else.
    let private minMax (x: JsonElement) : (float * float) option =
        let mutable mn = Unchecked.defaultof<JsonElement>
        let mutable mx = Unchecked.defaultof<JsonElement>

        if
            x.ValueKind = JsonValueKind.Object
            && x.TryGetProperty("min", &mn)
            && x.TryGetProperty("max", &mx)
            && mn.ValueKind = JsonValueKind.Number
            && mx.ValueKind = JsonValueKind.Number
        then
            Some(mn.GetDouble(), mx.GetDouble())
        else
            None

    /// Intervals of one `fraction` entry: {min,max} objects or bare numbers, a list of them or one.
    let private parseFraction (path: string) (e: JsonElement) : Result<(float * float) list, LimitationError> =
        let one (p: string) (x: JsonElement) =
            match x.ValueKind with
            | JsonValueKind.Number ->
                let v = x.GetDouble()

                if v < 0.0 || v > 1.0 then
                    Error(BadFraction(p, x.GetRawText()))
                else
                    Ok(v, v)
            | _ ->
                match minMax x with
                | Some(a, b) when a >= 0.0 && b <= 1.0 && a <= b -> Ok(a, b)
                | _ -> Error(BadFraction(p, x.GetRawText()))

        match e.ValueKind with
        | JsonValueKind.Array ->
            let items = e.EnumerateArray() |> Seq.toList

            if items.IsEmpty then
                Error(BadFraction(path, "[]"))
            else
                items
                |> List.mapi (fun i x -> one (sprintf "%s[%d]" path i) x)
                |> Finales.Core.Results.all
        | _ -> one path e |> Result.map List.singleton

    /// The chemical's key: its SMILES, else its InChIKey, else its name (strings or one-element lists).
    let private chemicalKey (path: string) (e: JsonElement) : Result<string, LimitationError> =
        let str (x: JsonElement) =
            match x.ValueKind with
            | JsonValueKind.String -> Some(string (x.GetString()))
            | JsonValueKind.Array when x.GetArrayLength() > 0 && x[0].ValueKind = JsonValueKind.String ->
                Some(string (x[0].GetString()))
            | _ -> None

        match e.ValueKind with
        | JsonValueKind.String -> Ok(string (e.GetString()))
        | JsonValueKind.Object ->
            [ "SMILES"; "smiles"; "InChIKey"; "name" ]
            |> List.tryPick (fun k ->
                let mutable v = Unchecked.defaultof<JsonElement>
                if e.TryGetProperty(k, &v) then str v else None)
            |> function
                | Some s when not (String.IsNullOrWhiteSpace s) -> Ok s
                | _ -> Error(Malformed(path, "chemical has no SMILES, InChIKey or name"))
        | _ -> Error(Malformed(path, sprintf "chemical is a %s; expected an object" (kindName e)))

    let private parseComponent (path: string) (e: JsonElement) : Result<ComponentBound, LimitationError> =
        if e.ValueKind <> JsonValueKind.Object then
            Error(Malformed(path, sprintf "component is a %s; expected an object" (kindName e)))
        else
            let mutable chem = Unchecked.defaultof<JsonElement>
            let mutable frac = Unchecked.defaultof<JsonElement>
            let mutable ftype = Unchecked.defaultof<JsonElement>

            if not (e.TryGetProperty("chemical", &chem)) then
                Error(Malformed(path + ".chemical", "missing"))
            elif not (e.TryGetProperty("fraction", &frac)) then
                Error(Malformed(path + ".fraction", "missing"))
            else
                let typeError =
                    if e.TryGetProperty("fraction_type", &ftype) then
                        let values =
                            match ftype.ValueKind with
                            | JsonValueKind.String -> [ string (ftype.GetString()) ]
                            | JsonValueKind.Array ->
                                ftype.EnumerateArray() |> Seq.map (fun x -> x.ToString()) |> Seq.toList
                            | _ -> [ ftype.GetRawText() ]

                        values
                        |> List.tryFind (fun v -> v <> "molPerMol")
                        |> Option.map (fun v -> UnsupportedFractionType(path + ".fraction_type", v))
                    else
                        None

                match typeError with
                | Some err -> Error err
                | None ->
                    match chemicalKey (path + ".chemical") chem, parseFraction (path + ".fraction") frac with
                    | Error err, _
                    | _, Error err -> Error err
                    | Ok name, Ok intervals ->
                        let zero, nonZero = intervals |> List.partition (fun (_, b) -> b = 0.0)

                        match nonZero with
                        | [] ->
                            Ok
                                { Chemical = name
                                  Lower = 0.0
                                  Upper = 0.0
                                  ZeroAllowed = true }
                        | _ ->
                            // several nonzero ranges are merged into their hull
                            let lo = nonZero |> List.map fst |> List.min
                            let hi = nonZero |> List.map snd |> List.max

                            Ok
                                { Chemical = name
                                  Lower = lo
                                  Upper = hi
                                  ZeroAllowed = not zero.IsEmpty || lo = 0.0 }

    let private temperatureRanges (path: string) (e: JsonElement) : Result<(float * float) list, LimitationError> =
        let one p (x: JsonElement) =
            match x.ValueKind with
            | JsonValueKind.Number -> Ok(x.GetDouble(), x.GetDouble())
            | JsonValueKind.Object ->
                match minMax x with
                | Some(a, b) when a <= b && a > 0.0 -> Ok(a, b)
                | _ ->
                    Error(
                        Malformed(
                            p,
                            sprintf
                                "temperature is %s; expected {min,max} in kelvin with 0 < min <= max"
                                (x.GetRawText())
                        )
                    )
            | _ -> Error(Malformed(p, sprintf "temperature is %s" (x.GetRawText())))

        match e.ValueKind with
        | JsonValueKind.Array ->
            e.EnumerateArray()
            |> Seq.toList
            |> List.mapi (fun i x -> one (sprintf "%s[%d]" path i) x)
            |> Finales.Core.Results.all
        | _ -> one path e |> Result.map List.singleton

    /// The alternatives of a limitation document (see `FeasibleSet.parse`): the components of each chemical set
    /// with each temperature range (kelvin), in document order.
    let alternatives
        (defaultTemperature: (float * float) option)
        (root: JsonElement)
        : Result<(ComponentBound[] * float * float) list, LimitationError> =
        let rec walk
            (path: string)
            (e: JsonElement)
            : Result<(ComponentBound[] * float * float) list, LimitationError> =
            match e.ValueKind with
            | JsonValueKind.Array ->
                e.EnumerateArray()
                |> Seq.toList
                |> List.mapi (fun i x -> walk (sprintf "%s[%d]" path i) x)
                |> Finales.Core.Results.all
                |> Result.map List.concat
            | JsonValueKind.Object ->
                let mutable v = Unchecked.defaultof<JsonElement>

                if e.TryGetProperty("formulation", &v) then
                    body path e
                elif e.TryGetProperty("anyOf", &v) then
                    walk (path + ".anyOf") v
                elif e.TryGetProperty("limitations", &v) then
                    walk (path + ".limitations") v
                else
                    Ok []
            | _ -> Ok []

        and body (path: string) (e: JsonElement) =
            let formulation = e.GetProperty("formulation")

            let temps =
                let mutable t = Unchecked.defaultof<JsonElement>

                if e.TryGetProperty("temperature", &t) then
                    temperatureRanges (path + ".temperature") t
                else
                    match defaultTemperature with
                    | Some r -> Ok [ r ]
                    | None -> Error NoTemperature

            let sets =
                if formulation.ValueKind <> JsonValueKind.Array then
                    Error(
                        Malformed(
                            path + ".formulation",
                            sprintf "is a %s; expected a list of chemical sets" (kindName formulation)
                        )
                    )
                else
                    let items = formulation.EnumerateArray() |> Seq.toList
                    // a list of lists (alternatives) or one flat list of components
                    let groups =
                        if items |> List.forall (fun x -> x.ValueKind = JsonValueKind.Array) then
                            items
                            |> List.mapi (fun i g ->
                                sprintf "%s.formulation[%d]" path i, g.EnumerateArray() |> Seq.toList)
                        else
                            [ path + ".formulation", items ]

                    groups
                    |> List.map (fun (p, comps) ->
                        comps
                        |> List.mapi (fun i c -> parseComponent (sprintf "%s[%d]" p i) c)
                        |> Finales.Core.Results.all)
                    |> Finales.Core.Results.all

            match sets, temps with
            | Error err, _
            | _, Error err -> Error err
            | Ok sets, Ok temps ->
                Ok
                    [ for comps in sets do
                          for (lo, hi) in temps do
                              yield Array.ofList comps, lo, hi ]

        walk "$" root
