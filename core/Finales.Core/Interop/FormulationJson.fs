namespace Finales.Core.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open System.Text.Json
open System.Text.Json.Nodes
open Finales.Core

/// How a mole-fraction reading treats a chemical named by two entries.
type DuplicateChemicalPolicy =
    /// Count the chemical with the sum of its fractions (the point key's rule).
    | Sum = 0
    /// Refuse the formulation, naming the second entry.
    | Refuse = 1

/// What a mole-fraction reading demands beyond the default (flags; combine with `|`).
[<Flags>]
type MoleFractionOptions =
    /// Any identifier (SMILES, InChIKey or name); an entry without a fraction type counts as molPerMol; zeros left out.
    | Default = 0
    /// Every chemical named by an InChIKey or a SMILES (a name alone is refused) and known to the core, keyed by its
    /// InChIKey; every entry states its fraction type.
    | StrictReferences = 1
    /// Keep the chemicals whose fraction is 0.
    | KeepZeros = 2

/// One FINALES2 formulation entry as C# sees it. `Key` is the canonical chemical key (the InChIKey of a chemical the
/// core knows, else the first identifier as written); `Smiles`, `InChIKey`, `Name` and `FractionType` (canonical) are
/// null when the entry gives none.
[<Sealed>]
type Finales2Entry(key: string, smiles: string, inChIKey: string, name: string, fraction: float, fractionType: string) =
    /// The canonical chemical key.
    member _.Key = key
    /// The SMILES as written, or null.
    member _.Smiles = smiles
    /// The InChIKey as written, or null.
    member _.InChIKey = inChIKey
    /// The name as written, or null.
    member _.Name = name
    /// The fraction (finite).
    member _.Fraction = fraction
    /// The canonical fraction type, or null.
    member _.FractionType = fractionType

/// The FINALES2 formulation codec for C#: `[{"chemical": {"SMILES", "InChIKey"}, "fraction", "fraction_type"}]` to and
/// from mole fractions by chemical key. Refusals follow the Try pattern; the error names every refused entry by its
/// JSON path ("formulation[1].fraction is -0.1; expected 0..1").
[<AbstractClass; Sealed>]
type FormulationJson =
    static member private Root = "formulation"

    /// The canonical `fraction_type` of a spelling ("mole fraction" -> "molPerMol"); other spellings as written.
    static member CanonicalFractionType(fractionType: string) : string = FractionType.canonical fractionType

    /// The canonical chemical key of a `chemical` object ({SMILES, InChIKey, name}); null when it names nothing.
    static member ChemicalKey(chemical: JsonElement) : string =
        match Finales2Formulation.chemicalOf chemical with
        | Some r -> r.Key
        | None -> null

    /// The FINALES2 list of mole fractions of chemicals the core knows (keyed by name, SMILES or InChIKey), in the
    /// given order, zeros kept. Throws ArgumentException naming the keys the core does not know (callers pass the
    /// chemicals of their own configuration).
    static member Encode(moleFractions: IEnumerable<KeyValuePair<string, float>>) : JsonArray =
        if obj.ReferenceEquals(moleFractions, null) then
            nullArg "moleFractions"

        match Finales2Formulation.encodeKnown MolePerMole (moleFractions |> Seq.map (fun kv -> kv.Key, kv.Value)) with
        | Ok array -> array
        | Error reasons -> invalidArg "moleFractions" (String.Join("; ", reasons))

    /// One entry for a chemical given by its identifiers (null when absent; at least one is required), e.g. a
    /// chemical the core does not know, with the fraction type written as given.
    static member Entry(smiles: string, inChIKey: string, fraction: float, fractionType: string) : JsonObject =
        match ChemicalReference.create (Option.ofObj smiles) (Option.ofObj inChIKey) None with
        | Some r -> Finales2Formulation.entryJson r fraction fractionType
        | None -> invalidArg "smiles" "a chemical needs a SMILES or an InChIKey"

    /// The entries of a FINALES2 formulation list, in order. False with every refused entry named in `error`.
    static member TryDecode
        (formulation: JsonElement, [<Out>] entries: byref<IReadOnlyList<Finales2Entry>>, [<Out>] error: byref<string>)
        : bool =
        match Finales2Formulation.decode FormulationJson.Root formulation with
        | Ok components ->
            entries <-
                components
                |> List.map (fun c ->
                    Finales2Entry(
                        c.Chemical.Key,
                        Option.toObj c.Chemical.Smiles,
                        Option.toObj c.Chemical.InChIKey,
                        Option.toObj c.Chemical.Name,
                        c.Fraction,
                        Option.toObj c.FractionType
                    ))
                |> ResizeArray
                :> IReadOnlyList<_>

            error <- ""
            true
        | Error errors ->
            entries <- Array.empty
            error <- Finales2Formulation.message errors
            false

    /// Mole fractions by canonical chemical key (order of first mention, zeros left out): every entry molPerMol (or
    /// without a fraction type) with a fraction 0..1, at least one positive; a chemical named twice per `duplicates`.
    /// False with every refused entry named in `error`.
    static member TryDecodeMoleFractions
        (
            formulation: JsonElement,
            duplicates: DuplicateChemicalPolicy,
            [<Out>] moleFractions: byref<IReadOnlyDictionary<string, float>>,
            [<Out>] error: byref<string>
        ) : bool =
        FormulationJson.TryDecodeMoleFractionsWith(
            formulation,
            duplicates,
            MoleFractionOptions.Default,
            &moleFractions,
            &error
        )

    /// Mole fractions by canonical chemical key (order of first mention) as `options` demand: every entry molPerMol
    /// with a fraction 0..1, at least one positive; a chemical named twice per `duplicates`. False with every refused
    /// entry named in `error`.
    static member TryDecodeMoleFractionsWith
        (
            formulation: JsonElement,
            duplicates: DuplicateChemicalPolicy,
            options: MoleFractionOptions,
            [<Out>] moleFractions: byref<IReadOnlyDictionary<string, float>>,
            [<Out>] error: byref<string>
        ) : bool =
        let policy =
            match duplicates with
            | DuplicateChemicalPolicy.Sum -> SumDuplicates
            | DuplicateChemicalPolicy.Refuse -> RefuseDuplicates
            | other -> invalidArg "duplicates" $"unknown DuplicateChemicalPolicy {int other}"

        let reading =
            { Duplicates = policy
              StrictReferences = options.HasFlag MoleFractionOptions.StrictReferences
              KeepZeros = options.HasFlag MoleFractionOptions.KeepZeros }

        match Finales2Formulation.moleFractionsWith reading FormulationJson.Root formulation with
        | Ok fractions ->
            let d = Dictionary<string, float>(StringComparer.Ordinal)

            for key, x in fractions do
                d[key] <- x

            moleFractions <- d
            error <- ""
            true
        | Error errors ->
            moleFractions <- Dictionary<string, float>()
            error <- Finales2Formulation.message errors
            false
