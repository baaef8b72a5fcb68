namespace Finales.Core.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open System.Text.Json
open System.Text.Json.Nodes
open Finales.Core
open Finales.Core.Units

/// One chemical of a design space (by name, SMILES or InChIKey of a chemical the core knows) with the fraction
/// intervals it may take (any of them; `new FractionInterval(0, 0)` admits "absent").
[<Sealed>]
type DesignComponentSpec(chemical: string, [<ParamArray>] fractions: FractionInterval[]) =
    /// The chemical's name, SMILES or InChIKey.
    member _.Chemical = chemical
    /// The admitted fraction intervals.
    member _.Fractions: IReadOnlyList<FractionInterval> = fractions

/// A chemical that tenants' limitations name (an object with a string SMILES and a string InChIKey):
/// the identifiers as the limitations give them; `Name` is the limitation's string `name`, else the core's table name,
/// else null.
[<Sealed>]
type LimitationChemical(smiles: string, inChIKey: string, name: string) =
    /// The SMILES as the limitations give it.
    member _.Smiles = smiles
    /// The InChIKey as the limitations give it (the identity the pickers deduplicate by).
    member _.InChIKey = inChIKey
    /// The chemical's name, or null when neither the limitations nor the core's table name it.
    member _.Name: string = name

/// The chemicals named in limitation documents the core's parser (`LimitationsLanguage`) reads.
[<RequireQualifiedAccess>]
module LimitationChemicals =

    let private text (e: JsonElement) (name: string) : string option =
        match e.TryGetProperty(name) with
        | true, v when v.ValueKind = JsonValueKind.String -> Option.ofObj (v.GetString())
        | _ -> None

    /// Every object with a string SMILES and a string InChIKey, depth first in document order (an object before what it
    /// holds). Identifiers given as a list (`"SMILES": ["[C]"]`, the corpus's electrode materials) are a limit of
    /// choices, not a chemical's identity: the form's pickers never offered them.
    let rec private walk (e: JsonElement) : LimitationChemical list =
        match e.ValueKind with
        | JsonValueKind.Object ->
            let here =
                match text e "SMILES", text e "InChIKey" with
                | Some smiles, Some key ->
                    let name =
                        text e "name"
                        |> Option.orElse (Chemical.tryFind key |> Option.map (fun c -> (Chemical.data c).Name))

                    [ LimitationChemical(smiles, key, Option.toObj name) ]
                | _ -> []

            here
            @ (e.EnumerateObject() |> Seq.collect (fun p -> walk p.Value) |> List.ofSeq)
        | JsonValueKind.Array -> e.EnumerateArray() |> Seq.collect walk |> List.ofSeq
        | _ -> []

    /// The chemicals of one tenant's limitations list `[{quantity, method, limitations}]` for (quantity, method), in
    /// document order; a list that is not JSON, not a list, or an entry the language cannot read names none.
    let ofTenantList (quantity: string) (methodName: string) (json: string) : LimitationChemical list =
        let document =
            try
                Some(JsonDocument.Parse json)
            with :? JsonException ->
                None

        match document with
        | None -> []
        | Some document ->
            use document = document

            if document.RootElement.ValueKind <> JsonValueKind.Array then
                []
            else
                document.RootElement.EnumerateArray()
                |> Seq.filter (fun entry ->
                    let text (name: string) =
                        match entry.TryGetProperty(name) with
                        | true, v when v.ValueKind = JsonValueKind.String -> Some(v.GetString())
                        | _ -> None

                    entry.ValueKind = JsonValueKind.Object
                    && text "quantity" = Some quantity
                    && text "method" = Some methodName)
                |> Seq.collect (fun entry ->
                    match entry.TryGetProperty("limitations") with
                    | true, limitations ->
                        match LimitationsLanguage.parseAlternatives limitations with
                        | Ok _ -> walk limitations
                        | Error _ -> []
                    | _ -> [])
                |> List.ofSeq

    /// The chemicals of several tenants' limitations lists for (quantity, method): first mention first, one per
    /// InChIKey.
    let ofTenantLists (quantity: string) (methodName: string) (lists: string seq) : LimitationChemical list =
        lists
        |> Seq.collect (ofTenantList quantity methodName)
        |> Seq.distinctBy (fun c -> c.InChIKey)
        |> List.ofSeq

/// The FINALES2 limitation language for C#: design spaces, tenant-level entries and lists, and the check of request
/// parameters against them.
[<AbstractClass; Sealed>]
type LimitationsJson =
    /// The design-space limitations `{"formulation": [[...]], "temperature": [{min, max}]}` in mole fractions, components
    /// in the given order. Throws ArgumentException naming every problem (unknown chemical, interval outside 0..1,
    /// min above max): a tenant describes its own, configured space.
    static member DesignSpace
        (components: IEnumerable<DesignComponentSpec>, temperatureMinKelvin: float, temperatureMaxKelvin: float)
        : JsonObject =
        if obj.ReferenceEquals(components, null) then
            nullArg "components"

        match
            DesignLimitations.create
                FractionType.MolPerMol
                [ for c in components -> c.Chemical, List.ofSeq c.Fractions ]
                (temperatureMinKelvin * 1.0<K>)
                (temperatureMaxKelvin * 1.0<K>)
        with
        | Ok space -> DesignLimitations.toJson space
        | Error problems -> invalidArg "components" (String.Join("; ", problems))

    /// One entry `{"quantity", "method", "limitations"}` of a tenant's limitations list.
    static member TenantEntry(quantity: string, methodName: string, limitations: JsonNode) : JsonObject =
        DesignLimitations.tenantEntry quantity methodName limitations

    /// Parse a tenant's limitations list `[{quantity, method, limitations}]` under the given caps: the usable entries;
    /// `problems` names each unusable part by its path (empty when the whole list is usable).
    static member ParseTenantLimitations
        (json: string, limits: InputLimits, [<Out>] problems: byref<IReadOnlyList<string>>)
        : IReadOnlyList<TenantLimitation> =
        if obj.ReferenceEquals(json, null) then
            nullArg "json"

        let parsed = TenantLimitations.parse limits json
        problems <- ResizeArray parsed.Problems
        ResizeArray parsed.Usable

    /// Parse a tenant's limitations list under the broker's default caps (see the overload).
    static member ParseTenantLimitations
        (json: string, [<Out>] problems: byref<IReadOnlyList<string>>)
        : IReadOnlyList<TenantLimitation> =
        LimitationsJson.ParseTenantLimitations(json, InputLimits.defaults, &problems)

    /// Whether the limitations of any of the entries admit the request parameters (the object under
    /// `parameters.<method>`); otherwise `refusal` names each violated limit of the closest alternative
    /// ("formulation[0].fraction: ..."), joined with "; ". No entries admit everything.
    static member TryAdmit
        (limitations: IEnumerable<TenantLimitation>, parameters: JsonElement, [<Out>] refusal: byref<string>)
        : bool =
        if obj.ReferenceEquals(limitations, null) then
            nullArg "limitations"

        match Limitations.check [ for l in limitations -> l.Parsed ] parameters with
        | Ok() ->
            refusal <- ""
            true
        | Error issues ->
            refusal <-
                issues
                |> List.map (fun i -> $"{ValidationIssue.renderPath i.Path}: {i.Message}")
                |> String.concat "; "

            false

    /// The chemicals the tenants' limitations lists name for (quantity, method), for a form's pickers: every object
    /// with a string SMILES and a string InChIKey, first mention first, one per InChIKey. A list that is not JSON or
    /// not a list, and an entry the language cannot read, name none (they are skipped, not refused).
    static member Chemicals
        (limitationsJsons: IEnumerable<string>, quantity: string, methodName: string)
        : IReadOnlyList<LimitationChemical> =
        if obj.ReferenceEquals(limitationsJsons, null) then
            nullArg "limitationsJsons"

        LimitationChemicals.ofTenantLists quantity methodName (limitationsJsons |> Seq.filter (isNull >> not))
        |> ResizeArray
        :> IReadOnlyList<_>
