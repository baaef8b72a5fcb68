namespace Finales.Optimizer

open System.Text.Json
open Finales.Core
open Finales.Core.LimitationsLanguage

/// Bounds of one chemical's mole fraction: either in [Lower, Upper], or (when ZeroAllowed and
/// Lower > 0) exactly 0 as well. Invariant: 0 <= Lower <= Upper <= 1.
type ComponentBound =
    {
        /// The chemical as the limitations write it (SMILES, else InChIKey, else name): the form outputs show.
        Chemical: string
        Lower: float
        Upper: float
        ZeroAllowed: bool
    }

    /// The chemical's identity in the design: its canonical key, so two spellings of one chemical (SMILES,
    /// InChIKey, name) are one chemical.
    member this.Key: ChemicalKey = ChemicalKey.create this.Chemical


/// Problems with a limitation document; each names the JSON path and the value.
type LimitationError =
    | Malformed of path: string * detail: string
    | BadFraction of path: string * value: string
    | UnsupportedFractionType of path: string * value: string
    | Infeasible of alternative: int * detail: string
    | NoFormulation
    | NoTemperature
    /// The core's limitation language refused the document (`LimitationsLanguage.parseAlternatives`); the message
    /// names the path and the value.
    | Language of message: string

    /// A sentence naming the field and the value.
    member this.Message =
        match this with
        | Malformed(p, d) -> sprintf "%s: %s" p d
        | BadFraction(p, v) -> sprintf "%s is %s; fractions must be numbers or {min,max} with 0 <= min <= max <= 1" p v
        | UnsupportedFractionType(p, v) -> sprintf "%s is '%s'; only molPerMol is supported" p v
        | Infeasible(i, d) -> sprintf "limitations alternative %d is infeasible: %s" i d
        | NoFormulation -> "limitations contain no formulation; expected a 'formulation' list of chemical sets"
        | NoTemperature -> "limitations contain no temperature range and none was given"
        | Language message -> message

/// The optimizer's projection of FINALES2 limitation documents (the JSON side of `FeasibleSet.parse`): the document is
/// read by the core's one parser of the limitation language (`LimitationsLanguage.parseAlternatives`), and this module
/// only projects the parsed alternatives onto design boxes: fraction intervals to component bounds, chemical sets to
/// alternatives, temperature ranges to kelvin intervals. Paths are written as the core writes them
/// (`limitations.formulation[0][1].fraction[0]`).
[<RequireQualifiedAccess>]
module internal FeasibleSetParsing =

    let private field (name: string) (fields: (string * Limit) list) : Limit option =
        fields |> List.tryFind (fun (n, _) -> n = name) |> Option.map snd

    let private alternativesOf (limit: Limit) : Alternative list =
        match limit with
        | AnyOf alternatives -> alternatives
        | Unconstrained -> []

    let private kindName (alternative: Alternative) =
        match alternative with
        | Exactly e -> e.ValueKind.ToString()
        | Within _ -> "Number range"
        | Fields _ -> "Object"
        | Elements _ -> "Array"

    /// The intervals of one `fraction` limit: exact numbers or closed ranges within [0, 1].
    let private fractionIntervals (path: string) (limit: Limit) : Result<(float * float) list, LimitationError> =
        let one (p: string) (alternative: Alternative) =
            match alternative with
            | Exactly e when e.ValueKind = JsonValueKind.Number ->
                let v = e.GetDouble()

                if v < 0.0 || v > 1.0 then
                    Error(BadFraction(p, ValidationIssue.renderValue e))
                else
                    Ok(v, v)
            | Within { Min = Some a
                       Max = Some b
                       Step = None } when a >= 0.0 && b <= 1.0 && a <= b -> Ok(a, b)
            | Within range -> Error(BadFraction(p, describeRange range))
            | other -> Error(BadFraction(p, describe other))

        match alternativesOf limit with
        | [] -> Error(BadFraction(path, "[]"))
        | alternatives ->
            alternatives
            |> List.mapi (fun i a -> one (sprintf "%s[%d]" path i) a)
            |> Results.all

    /// The first string an identifier limit admits ("x" or ["x", ...]).
    let private firstText (limit: Limit option) : string option =
        limit
        |> Option.map alternativesOf
        |> Option.bind (
            List.tryPick (function
                | Exactly e when e.ValueKind = JsonValueKind.String -> Option.ofObj (e.GetString())
                | _ -> None)
        )

    /// The chemical's key: its SMILES, else its InChIKey, else its name, as the core's `ChemicalReference` reads them.
    let private chemicalKey (path: string) (limit: Limit) : Result<string, LimitationError> =
        let reference =
            match alternativesOf limit with
            | Fields identifiers :: _ ->
                ChemicalReference.create
                    (firstText (field "SMILES" identifiers)
                     |> Option.orElse (firstText (field "smiles" identifiers)))
                    (firstText (field "InChIKey" identifiers))
                    (firstText (field "name" identifiers))
                |> Ok
            | Exactly e :: _ when e.ValueKind = JsonValueKind.String ->
                Ok(ChemicalReference.create (Option.ofObj (e.GetString())) None None)
            | other :: _ -> Error(Malformed(path, sprintf "chemical is a %s; expected an object" (kindName other)))
            | [] -> Ok None

        reference
        |> Result.bind (fun r ->
            match
                r
                |> Option.bind (fun r -> r.Smiles |> Option.orElse r.InChIKey |> Option.orElse r.Name)
            with
            | Some key -> Ok key
            | None -> Error(Malformed(path, "chemical has no SMILES, InChIKey or name")))

    /// Fraction types other than mole fractions (compared by the core's canonical name) are refused.
    let private checkFractionType (path: string) (limit: Limit option) : Result<unit, LimitationError> =
        match limit with
        | None -> Ok()
        | Some limit ->
            alternativesOf limit
            |> List.tryPick (function
                | Exactly e when e.ValueKind = JsonValueKind.String ->
                    let written = string (e.GetString())

                    if FractionType.canonical written = FractionType.MolPerMol then
                        None
                    else
                        Some written
                | other -> Some(describe other))
            |> function
                | Some written -> Error(UnsupportedFractionType(path, written))
                | None -> Ok()

    let private bound (name: string) (intervals: (float * float) list) : ComponentBound =
        let zero, nonZero = intervals |> List.partition (fun (_, b) -> b = 0.0)

        match nonZero with
        | [] ->
            { Chemical = name
              Lower = 0.0
              Upper = 0.0
              ZeroAllowed = true }
        | _ ->
            // several nonzero ranges are merged into their hull
            let lo = nonZero |> List.map fst |> List.min
            let hi = nonZero |> List.map snd |> List.max

            { Chemical = name
              Lower = lo
              Upper = hi
              ZeroAllowed = not zero.IsEmpty || lo = 0.0 }

    let private parseComponent (path: string) (alternative: Alternative) : Result<ComponentBound, LimitationError> =
        match alternative with
        | Fields fields ->
            match field "chemical" fields, field "fraction" fields with
            | None, _ -> Error(Malformed(path + ".chemical", "missing"))
            | _, None -> Error(Malformed(path + ".fraction", "missing"))
            | Some chemical, Some fraction ->
                checkFractionType (path + ".fraction_type") (field "fraction_type" fields)
                |> Result.bind (fun () -> chemicalKey (path + ".chemical") chemical)
                |> Result.bind (fun name -> fractionIntervals (path + ".fraction") fraction |> Result.map (bound name))
        | other -> Error(Malformed(path, sprintf "component is a %s; expected an object" (kindName other)))

    let private temperatureRanges (path: string) (limit: Limit) : Result<(float * float) list, LimitationError> =
        let one (p: string) (alternative: Alternative) =
            match alternative with
            | Exactly e when e.ValueKind = JsonValueKind.Number -> Ok(e.GetDouble(), e.GetDouble())
            | Within { Min = Some a; Max = Some b } when a <= b && a > 0.0 -> Ok(a, b)
            | Within range ->
                Error(
                    Malformed(
                        p,
                        sprintf
                            "temperature is %s; expected {min,max} in kelvin with 0 < min <= max"
                            (describeRange range)
                    )
                )
            | other -> Error(Malformed(p, sprintf "temperature is %s" (describe other)))

        alternativesOf limit
        |> List.mapi (fun i a -> one (sprintf "%s[%d]" path i) a)
        |> Results.all

    /// The chemical sets of a `formulation` limit: a list of lists (alternatives) or one flat list of components.
    let private chemicalSets (path: string) (limit: Limit) : Result<ComponentBound list list, LimitationError> =
        let alternatives = alternativesOf limit

        let groups =
            if
                alternatives
                |> List.forall (function
                    | Elements _ -> true
                    | _ -> false)
            then
                alternatives
                |> List.mapi (fun i g ->
                    sprintf "%s[%d]" path i,
                    (match g with
                     | Elements components -> components
                     | _ -> []))
            else
                [ path, alternatives ]

        groups
        |> List.map (fun (p, components) ->
            components
            |> List.mapi (fun i c -> parseComponent (sprintf "%s[%d]" p i) c)
            |> Results.all)
        |> Results.all

    let private body
        (defaultTemperature: (float * float) option)
        (path: string)
        (fields: (string * Limit) list)
        (formulation: Limit)
        =
        let temperatures =
            match field "temperature" fields with
            | Some limit -> temperatureRanges (path + ".temperature") limit
            | None ->
                match defaultTemperature with
                | Some r -> Ok [ r ]
                | None -> Error NoTemperature

        match chemicalSets (path + ".formulation") formulation, temperatures with
        | Error err, _
        | _, Error err -> Error err
        | Ok sets, Ok temperatures ->
            Ok
                [ for components in sets do
                      for (lo, hi) in temperatures do
                          yield Array.ofList components, lo, hi ]

    /// The alternatives of a limitation document (see `FeasibleSet.parse`): the components of each chemical set
    /// with each temperature range (kelvin), in document order. Parameter objects with a `formulation` are design
    /// boxes; tenant entries (`limitations`) and `anyOf` wrappers are looked into; anything else is not a design box.
    let alternatives
        (defaultTemperature: (float * float) option)
        (root: JsonElement)
        : Result<(ComponentBound[] * float * float) list, LimitationError> =
        let rec walk (path: string) (alternative: Alternative) =
            match alternative with
            | Fields fields ->
                match field "formulation" fields, field "anyOf" fields, field "limitations" fields with
                | Some formulation, _, _ -> body defaultTemperature path fields formulation
                | None, Some inner, _ -> walkLimit (path + ".anyOf") inner
                | None, None, Some inner -> walkLimit (path + ".limitations") inner
                | None, None, None -> Ok []
            | Elements elements -> walkAll path elements
            | Exactly _
            | Within _ -> Ok []

        and walkLimit (path: string) (limit: Limit) = walkAll path (alternativesOf limit)

        and walkAll (path: string) (alternatives: Alternative list) =
            alternatives
            |> List.mapi (fun i a -> walk (sprintf "%s[%d]" path i) a)
            |> Results.all
            |> Result.map List.concat

        match LimitationsLanguage.parseAlternatives root with
        | Error message -> Error(Language message)
        | Ok [ single ] -> walk "limitations" single
        | Ok alternatives -> walkAll "limitations" alternatives
