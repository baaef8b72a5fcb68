namespace Finales.Optimizer

open System
open System.Text.Json
open System.Text.Json.Nodes
open Finales.Core
open Finales.Core.LimitationsLanguage

/// The point of one of the tenant's own requests: its key under the tenant's rule, its mole fractions (by chemical,
/// as written) and its temperature (K).
type RequestPoint =
    { Key: string
      Fractions: (ChemicalKey * float) list
      Temperature: float<Units.K> }

/// A chemical as the tenant writes it into requests: canonical key and the SMILES and InChIKey it posts.
type OfferedChemical =
    { Key: ChemicalKey
      Smiles: string
      InChIKey: string }

/// The pure decisions of the optimizer tenant around a suggestion: which of its requests are at which point (the
/// dedupe set and the open points the model conditions on), which point is best so far, which chemicals the
/// limitations offer, and the FINALES2 parameters of a point.
[<RequireQualifiedAccess>]
module TenantDecision =

    /// The point of a request's `parameters.<method>` ({formulation, temperature}); None when it has no readable
    /// formulation (the core's codec, duplicates summed) or no numeric temperature.
    let requestPoint (rule: PointKeyRule) (parameters: JsonElement) (methodName: string) : RequestPoint option =
        let under =
            if parameters.ValueKind = JsonValueKind.Object then
                match parameters.TryGetProperty(methodName) with
                | true, p when p.ValueKind = JsonValueKind.Object -> Some p
                | _ -> None
            else
                None

        under
        |> Option.bind (fun p ->
            match p.TryGetProperty("formulation"), p.TryGetProperty("temperature") with
            | (true, f), (true, t) when t.ValueKind = JsonValueKind.Number ->
                match Finales2Formulation.moleFractions SumDuplicates "formulation" f with
                | Ok fractions ->
                    Some
                        { Key = PointKey.create rule fractions (t.GetDouble()) |> PointKey.value
                          Fractions = fractions |> List.map (fun (k, v) -> ChemicalKey.create k, v)
                          Temperature = t.GetDouble() * 1.0<Units.K> }
                | Error _ -> None
            | _ -> None)

    /// The index of the best (lowest) merit, the first of equals; None for no merits.
    let best (merits: float seq) : int option =
        merits
        |> Seq.indexed
        |> Seq.fold
            (fun (found: (int * float) option) (i, m) ->
                match found with
                | Some(_, b) when not (m < b) -> found
                | _ -> Some(i, m))
            None
        |> Option.map fst

    /// The chemicals named anywhere in limitation documents (read by the core's parser), by canonical key, first
    /// mention first: a chemical the core knows with the table's SMILES and InChIKey, any other with the identifiers
    /// the limitations give (the key standing in for a missing one). Documents that do not parse name none.
    let offeredChemicals (limitations: JsonElement) : OfferedChemical list =
        let text (limit: Limit option) =
            match limit with
            | Some(AnyOf alternatives) ->
                alternatives
                |> List.tryPick (function
                    | Exactly e when e.ValueKind = JsonValueKind.String -> Option.ofObj (e.GetString())
                    | _ -> None)
            | _ -> None

        let field (name: string) (fields: (string * Limit) list) =
            fields |> List.tryFind (fun (n, _) -> n = name) |> Option.map snd

        let chemical (identifiers: (string * Limit) list) =
            ChemicalReference.create
                (text (field "SMILES" identifiers)
                 |> Option.orElse (text (field "smiles" identifiers)))
                (text (field "InChIKey" identifiers))
                (text (field "name" identifiers))
            |> Option.map (fun r ->
                match ChemicalReference.chemical r with
                | Some c ->
                    let d = Chemical.data c

                    { Key = ChemicalKey.create r.Key
                      Smiles = d.Smiles
                      InChIKey = d.InChIKey }
                | None ->
                    { Key = ChemicalKey.create r.Key
                      Smiles = r.Smiles |> Option.defaultValue r.Key
                      InChIKey = r.InChIKey |> Option.defaultValue r.Key })

        let rec ofAlternative (alternative: Alternative) : OfferedChemical list =
            match alternative with
            | Fields fields ->
                fields
                |> List.collect (fun (name, limit) ->
                    match name, limit with
                    | "chemical", AnyOf alternatives ->
                        alternatives
                        |> List.collect (function
                            | Fields identifiers -> chemical identifiers |> Option.toList
                            | other -> ofAlternative other)
                    | _, AnyOf alternatives -> alternatives |> List.collect ofAlternative
                    | _, Unconstrained -> [])
            | Elements elements -> elements |> List.collect ofAlternative
            | Exactly _
            | Within _ -> []

        match LimitationsLanguage.parseAlternatives limitations with
        | Ok alternatives -> alternatives |> List.collect ofAlternative |> List.distinctBy (fun c -> c.Key)
        | Error _ -> []

    /// The request parameters `{formulation: [{chemical: {SMILES, InChIKey}, fraction, fraction_type: molPerMol}],
    /// temperature}` of a point, entries in ordinal key order; the error names a chemical the offered ones lack.
    let parameters
        (offered: ChemicalKey -> OfferedChemical option)
        (fractions: (ChemicalKey * float) seq)
        (temperature: float<Units.K>)
        : Result<JsonObject, string> =
        let entries =
            fractions
            |> Seq.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(ChemicalKey.value a, ChemicalKey.value b))
            |> List.ofSeq
            |> List.map (fun (key, fraction) ->
                match offered key with
                | Some c ->
                    match ChemicalReference.create (Some c.Smiles) (Some c.InChIKey) None with
                    | Some reference -> Ok(Finales2Formulation.entryJson reference fraction FractionType.MolPerMol)
                    | None -> Error $"chemical {ChemicalKey.value key} has no SMILES/InChIKey in the limitations"
                | None -> Error $"chemical {ChemicalKey.value key} has no SMILES/InChIKey in the limitations")

        match
            entries
            |> List.tryPick (function
                | Error e -> Some e
                | Ok _ -> None)
        with
        | Some missing -> Error missing
        | None ->
            let list = JsonArray()

            for e in entries do
                match e with
                | Ok entry -> list.Add entry
                | Error _ -> ()

            let o = JsonObject()
            o["formulation"] <- list
            o["temperature"] <- JsonValue.Create(float temperature)
            Ok o
