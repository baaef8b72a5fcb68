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
