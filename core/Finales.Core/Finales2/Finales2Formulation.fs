namespace Finales.Core

open System
open System.Text.Json
open System.Text.Json.Nodes
open FsToolkit.ErrorHandling

/// A chemical as a FINALES2 `chemical` object names it. Invariant (checked by `ChemicalReference.create`): at least
/// one identifier; identifiers are trimmed and non-blank. `Key` is the canonical key (`ChemicalKey.canonical`): the
/// InChIKey of a chemical the core knows by any of the identifiers, else the first identifier as written (SMILES,
/// then InChIKey, then name).
type ChemicalReference =
    { Key: string
      Smiles: string option
      InChIKey: string option
      Name: string option }

/// One entry of a FINALES2 formulation list, decoded: the chemical, its fraction (finite) and its `fraction_type` in
/// canonical form (`FractionType.canonical`; None when the entry gives none).
type Finales2Component =
    { Chemical: ChemicalReference
      Fraction: float
      FractionType: string option }

/// A refused FINALES2 formulation entry: `Path` is where (`formulation[2].fraction`), `Message` starts with the path and
/// names the value and what was expected.
type Finales2Error = { Path: string; Message: string }

/// What a mole-fraction reading does with a chemical named by two entries.
type DuplicateChemicals =
    /// Count the chemical with the sum of its fractions (the point key's rule).
    | SumDuplicates
    /// Refuse the formulation, naming the second entry.
    | RefuseDuplicates

/// How much a mole-fraction reading demands of each FINALES2 entry.
type MoleFractionReading =
    {
        /// What to do with a chemical named by two entries.
        Duplicates: DuplicateChemicals
        /// Every chemical named by an InChIKey or a SMILES (a name alone is refused) and known to the core, and every
        /// entry states its fraction type: the reading of a lab that must not guess what it doses.
        StrictReferences: bool
        /// Keep the chemicals whose fraction is 0 (else they are left out).
        KeepZeros: bool
    }

/// Chemical references: identifiers to canonical key, and the references of the core's chemicals.
[<RequireQualifiedAccess>]
module ChemicalReference =
    let private clean (text: string option) =
        text
        |> Option.filter (String.IsNullOrWhiteSpace >> not)
        |> Option.map (fun t -> t.Trim())

    /// The reference of optional identifiers; None when all are absent or blank.
    let create (smiles: string option) (inChIKey: string option) (name: string option) : ChemicalReference option =
        let smiles, inChIKey, name = clean smiles, clean inChIKey, clean name
        let identifiers = List.choose id [ smiles; inChIKey; name ]

        match identifiers with
        | [] -> None
        | first :: _ ->
            let key =
                identifiers
                |> List.tryPick Chemical.tryFind
                |> Option.map (fun c -> (Chemical.data c).InChIKey)
                |> Option.defaultValue first

            Some
                { Key = key
                  Smiles = smiles
                  InChIKey = inChIKey
                  Name = name }

    /// The full reference (SMILES, InChIKey and name from the chemicals table) of a chemical the core knows.
    let ofChemical (c: Chemical) : ChemicalReference =
        let d = Chemical.data c

        { Key = d.InChIKey
          Smiles = Some d.Smiles
          InChIKey = Some d.InChIKey
          Name = Some d.Name }

    /// The full reference of a chemical the core knows by name, SMILES or InChIKey; the error names the key.
    let ofKey (key: string) : Result<ChemicalReference, string> =
        Chemical.find key |> Result.map ofChemical

    /// The core's chemical named by the reference, if it knows it.
    let chemical (reference: ChemicalReference) : Chemical option = Chemical.tryFind reference.Key

    /// The reference completed from the chemicals table when the core knows the chemical (else unchanged).
    let completed (reference: ChemicalReference) : ChemicalReference =
        chemical reference |> Option.map ofChemical |> Option.defaultValue reference

/// The FINALES2 formulation codec: `[{"chemical": {"SMILES", "InChIKey"}, "fraction", "fraction_type"}]` to and from
/// entries, mole-fraction maps by canonical chemical key, and the core's `Formulation`. Reading collects every refused
/// entry, each with its JSON path; writing gives the chemical object only the identifiers the wire knows (SMILES,
/// InChIKey).
[<RequireQualifiedAccess>]
module Finales2Formulation =

    // ---------------------------------------------------------------- reading

    let private error (path: string) (message: string) : Finales2Error = { Path = path; Message = message }

    let private render (value: JsonElement) = ValidationIssue.renderValue value

    let private text (element: JsonElement) (name: string) : string option =
        if element.ValueKind = JsonValueKind.Object then
            match element.TryGetProperty(name) with
            | true, v when v.ValueKind = JsonValueKind.String -> Option.ofObj (v.GetString())
            | _ -> None
        else
            None

    /// The reference of a `chemical` object ({SMILES (or smiles), InChIKey, name}); None when it names nothing.
    let chemicalOf (chemical: JsonElement) : ChemicalReference option =
        let smiles = text chemical "SMILES" |> Option.orElse (text chemical "smiles")
        ChemicalReference.create smiles (text chemical "InChIKey") (text chemical "name")

    /// A strict reference: the chemical's SMILES and InChIKey only (a name alone names nothing), of a known chemical.
    let private strictChemical (path: string) (chemical: JsonElement) : Validation<ChemicalReference, Finales2Error> =
        let wire =
            chemicalOf chemical
            |> Option.bind (fun r -> ChemicalReference.create r.Smiles r.InChIKey None)

        match wire with
        | None ->
            Error
                [ error
                      path
                      $"{path} is {render chemical}; it names neither an InChIKey nor a SMILES (a name alone is not accepted)" ]
        | Some r ->
            match Chemical.find r.Key with
            | Ok _ -> Ok r
            | Error reason -> Error [ error path $"{path}: {reason}" ]

    let private decodeChemical
        (strict: bool)
        (at: string)
        (entry: JsonElement)
        : Validation<ChemicalReference, Finales2Error> =
        let path = at + ".chemical"

        match entry.TryGetProperty("chemical") with
        | true, chemical when strict -> strictChemical path chemical
        | _ when strict -> Error [ error path $"{path} is missing; it names neither an InChIKey nor a SMILES" ]
        | true, chemical ->
            chemicalOf chemical
            |> Result.requireSome [ error path $"{path} is {render chemical}; it names no SMILES, InChIKey or name" ]
        | _ -> Error [ error path $"{path} is missing; an entry names its chemical by SMILES, InChIKey or name" ]

    let private decodeFraction (at: string) (entry: JsonElement) : Validation<float, Finales2Error> =
        let path = at + ".fraction"

        match entry.TryGetProperty("fraction") with
        | true, x when x.ValueKind = JsonValueKind.Number && Double.IsFinite(x.GetDouble()) -> Ok(x.GetDouble())
        | true, x -> Error [ error path $"{path} is {render x}; expected a number" ]
        | _ -> Error [ error path $"{path} is missing; expected a number" ]

    let private decodeFractionType
        (strict: bool)
        (at: string)
        (entry: JsonElement)
        : Validation<string option, Finales2Error> =
        let path = at + ".fraction_type"

        match entry.TryGetProperty("fraction_type") with
        | true, t when
            t.ValueKind = JsonValueKind.String
            && not (String.IsNullOrWhiteSpace(t.GetString()))
            ->
            Ok(Some(FractionType.canonical (t.GetString())))
        | true, t when t.ValueKind = JsonValueKind.Null && not strict -> Ok None
        | true, t -> Error [ error path $"{path} is {render t}; expected a fraction type such as \"molPerMol\"" ]
        | _ when strict -> Error [ error path $"{path} is missing; expected a fraction type such as \"molPerMol\"" ]
        | _ -> Ok None

    let private decodeEntry
        (strict: bool)
        (at: string)
        (entry: JsonElement)
        : Validation<Finales2Component, Finales2Error> =
        if entry.ValueKind <> JsonValueKind.Object then
            Error [ error at $"{at} is {render entry}; expected an object {{chemical, fraction, fraction_type}}" ]
        else
            validation {
                let! chemical = decodeChemical strict at entry
                and! fraction = decodeFraction at entry
                and! fractionType = decodeFractionType strict at entry

                return
                    { Chemical = chemical
                      Fraction = fraction
                      FractionType = fractionType }
            }

    let private decodeWith
        (strict: bool)
        (root: string)
        (formulation: JsonElement)
        : Result<Finales2Component list, Finales2Error list> =
        if formulation.ValueKind <> JsonValueKind.Array then
            let shown =
                if formulation.ValueKind = JsonValueKind.Undefined then
                    "missing"
                else
                    render formulation

            Error [ error root $"{root} is {shown}; expected a list of components" ]
        else
            formulation.EnumerateArray()
            |> List.ofSeq
            |> List.mapi (fun i entry -> decodeEntry strict $"{root}[{i}]" entry)
            |> List.sequenceValidationA

    /// The entries of a FINALES2 formulation list at `root` (the path prefix of messages, e.g. "formulation"), in
    /// order; every refused entry is reported.
    let decode (root: string) (formulation: JsonElement) : Result<Finales2Component list, Finales2Error list> =
        decodeWith false root formulation

    /// Mole fractions by canonical chemical key, in the order of first mention, zeros kept or left out as `reading`
    /// says: every entry's `fraction_type` must be molPerMol (an entry without one counts as molPerMol unless the
    /// reading is strict) and its fraction 0..1; at least one fraction must be positive. Fractions need not sum to 1
    /// (the caller decides how strict to be). A strict reading also refuses chemicals named by name only or unknown to
    /// the core; its keys are then the InChIKeys of the core's chemicals.
    let moleFractionsWith
        (reading: MoleFractionReading)
        (root: string)
        (formulation: JsonElement)
        : Result<(string * float) list, Finales2Error list> =
        let duplicates = reading.Duplicates

        result {
            let! components = decodeWith reading.StrictReferences root formulation

            let checkEntry (i: int) (c: Finales2Component) : Validation<unit, Finales2Error> =
                let at = $"{root}[{i}]"

                let fractionType =
                    match c.FractionType with
                    | Some t when t <> FractionType.MolPerMol ->
                        let written = formulation.[i].GetProperty("fraction_type").GetString()

                        Error
                            [ error
                                  (at + ".fraction_type")
                                  $"{at}.fraction_type is '{written}'; only mole fractions (molPerMol) are used" ]
                    | _ -> Ok()

                let range =
                    if c.Fraction < 0.0 || c.Fraction > 1.0 then
                        Error [ error (at + ".fraction") $"{at}.fraction is {c.Fraction:R}; expected 0..1" ]
                    else
                        Ok()

                let duplicate =
                    match duplicates with
                    | RefuseDuplicates when
                        components
                        |> List.take i
                        |> List.exists (fun d -> d.Chemical.Key = c.Chemical.Key)
                        ->
                        Error [ error at $"{at}: chemical {c.Chemical.Key} appears more than once in the formulation" ]
                    | _ -> Ok()

                validation {
                    let! () = fractionType
                    and! () = range
                    and! () = duplicate
                    return ()
                }

            let! _ = components |> List.mapi checkEntry |> List.sequenceValidationA

            let fractions =
                components
                |> List.map (fun c -> c.Chemical.Key, c.Fraction)
                |> List.groupBy fst
                |> List.map (fun (key, entries) -> key, List.sumBy snd entries)
                |> List.filter (fun (_, v) -> reading.KeepZeros || v <> 0.0)

            do!
                fractions
                |> List.exists (fun (_, v) -> v > 0.0)
                |> Result.requireTrue [ error root $"{root} has no chemical with a positive fraction" ]

            return fractions
        }

    /// Mole fractions by canonical chemical key, in the order of first mention, zeros left out (`moleFractionsWith`
    /// with any identifier and an absent fraction type counting as molPerMol).
    let moleFractions
        (duplicates: DuplicateChemicals)
        (root: string)
        (formulation: JsonElement)
        : Result<(string * float) list, Finales2Error list> =
        moleFractionsWith
            { Duplicates = duplicates
              StrictReferences = false
              KeepZeros = false }
            root
            formulation

    /// The basis of a canonical fraction type; None for a type the core does not compute with.
    let basisOf (fractionType: string) : FractionBasis option =
        match FractionType.canonical fractionType with
        | FractionType.MolPerMol -> Some MolePerMole
        | FractionType.GPerG -> Some MassPerMass
        | FractionType.LPerL -> Some VolumePerVolume
        | _ -> None

    /// The canonical fraction type of a basis.
    let fractionTypeOf (basis: FractionBasis) : string =
        match basis with
        | MolePerMole -> FractionType.MolPerMol
        | MassPerMass -> FractionType.GPerG
        | VolumePerVolume -> FractionType.LPerL

    /// The core's formulation: chemicals the core knows, one fraction type for all entries (molPerMol when none is
    /// given), and the formulation's invariant (`Formulation.create`); every problem is reported.
    let toFormulation (root: string) (formulation: JsonElement) : Result<Formulation, Finales2Error list> =
        result {
            let! components = decode root formulation

            let basisTypes =
                components |> List.choose (fun c -> c.FractionType) |> List.distinct

            let! basis =
                match basisTypes with
                | [] -> Ok MolePerMole
                | [ t ] ->
                    basisOf t
                    |> Result.requireSome
                        [ error
                              root
                              $"{root} has fraction_type '{t}'; expected molPerMol, gPerG or lPerL (or a spelling of them)" ]
                | several ->
                    let shown = several |> List.map (sprintf "'%s'") |> String.concat ", "
                    Error [ error root $"{root} mixes fraction types {shown}; give every entry the same one" ]

            let! known =
                components
                |> List.mapi (fun i c ->
                    let at = $"{root}[{i}].chemical"

                    match ChemicalReference.chemical c.Chemical with
                    | Some chemical -> Ok(chemical, c.Fraction)
                    | None ->
                        let reason =
                            match Chemical.find c.Chemical.Key with
                            | Error reason -> reason
                            | Ok _ -> ""

                        Error [ error at $"{at}: {reason}" ])
                |> List.sequenceValidationA

            return!
                Formulation.create basis known
                |> Result.mapError (List.map (fun e -> error root $"{root}: {FormulationError.message e}"))
        }

    /// All messages of a refusal, joined with "; ".
    let message (errors: Finales2Error list) : string =
        errors |> List.map (fun e -> e.Message) |> String.concat "; "

    // ---------------------------------------------------------------- writing

    /// The `chemical` object of a reference: its SMILES and InChIKey, those it has.
    let chemicalJson (reference: ChemicalReference) : JsonObject =
        let o = JsonObject()

        reference.Smiles |> Option.iter (fun s -> o["SMILES"] <- JsonValue.Create s)

        reference.InChIKey |> Option.iter (fun k -> o["InChIKey"] <- JsonValue.Create k)

        o

    /// One entry `{"chemical": {...}, "fraction": x, "fraction_type": t}`.
    let entryJson (reference: ChemicalReference) (fraction: float) (fractionType: string) : JsonObject =
        let o = JsonObject()
        o["chemical"] <- chemicalJson reference
        o["fraction"] <- JsonValue.Create fraction
        o["fraction_type"] <- JsonValue.Create fractionType
        o

    /// The FINALES2 list of (reference, fraction) pairs under one fraction type, in the given order.
    let encode (fractionType: string) (entries: (ChemicalReference * float) seq) : JsonArray =
        let a = JsonArray()

        for reference, fraction in entries do
            a.Add(entryJson reference fraction fractionType)

        a

    /// The FINALES2 list of fractions of chemicals the core knows (by name, SMILES or InChIKey), in the given order;
    /// the error names every unknown key.
    let encodeKnown (basis: FractionBasis) (fractions: (string * float) seq) : Result<JsonArray, string list> =
        fractions
        |> List.ofSeq
        |> List.map (fun (key, fraction) ->
            ChemicalReference.ofKey key
            |> Result.map (fun r -> r, fraction)
            |> Result.mapError List.singleton)
        |> List.sequenceValidationA
        |> Result.map (encode (fractionTypeOf basis))

    /// The FINALES2 list of a formulation, chemicals in table order, fractions as given (zeros kept).
    let ofFormulation (formulation: Formulation) : JsonArray =
        Formulation.fractions formulation
        |> Map.toList
        |> List.map (fun (c, x) -> ChemicalReference.ofChemical c, x)
        |> encode (fractionTypeOf (Formulation.basis formulation))
