namespace Finales.Core.Interop

open System
open System.Collections.Generic
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

/// The FINALES2 limitation language for C#: design spaces and tenant-level entries.
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
