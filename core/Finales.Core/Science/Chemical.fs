namespace Finales.Core

open System
open Finales.Core.Units

/// The chemicals of the platform's table (domain.md section 1). A closed union: a formulation can
/// only name chemicals whose molar mass and density are known.
type Chemical =
    | LiPF6
    | EC
    | EMC
    | DMC
    | PC

/// One row of the chemicals table.
type ChemicalData =
    {
        Chemical: Chemical
        Name: string
        Smiles: string
        InChIKey: string
        MolarMass: float<g / mol>
        /// Density at 25 C (the crystal density for the salt).
        Density25: float<g / cm^3>
        /// Viscosity at 25 C of the pure liquid; None for the salt.
        Viscosity25: float<mPa s> option
        /// Relative permittivity; None for the salt.
        RelativePermittivity: float option
    }

/// The chemicals table and look-up by name, SMILES or InChIKey.
[<RequireQualifiedAccess>]
module Chemical =
    /// Every chemical, in table order (which is also the index order of `index`).
    let all: Chemical list = [ LiPF6; EC; EMC; DMC; PC ]

    /// Number of chemicals in the table.
    let count: int = 5

    /// Position of the chemical in `all` (0-based), for array-based numerics.
    let index (c: Chemical) : int =
        match c with
        | LiPF6 -> 0
        | EC -> 1
        | EMC -> 2
        | DMC -> 3
        | PC -> 4

    let private table: ChemicalData[] =
        [| { Chemical = LiPF6
             Name = "LiPF6"
             Smiles = "[Li+].F[P-](F)(F)(F)(F)F"
             InChIKey = "AXPLOJNSKRXQPA-UHFFFAOYSA-N"
             MolarMass = 151.905<g / mol>
             Density25 = 2.84<g / cm^3>
             Viscosity25 = None
             RelativePermittivity = None }
           { Chemical = EC
             Name = "EC"
             Smiles = "C1COC(=O)O1"
             InChIKey = "KMTRUDSVKNLOMY-UHFFFAOYSA-N"
             MolarMass = 88.062<g / mol>
             Density25 = 1.321<g / cm^3>
             Viscosity25 = Some 2.56<mPa s>
             RelativePermittivity = Some 89.8 }
           { Chemical = EMC
             Name = "EMC"
             Smiles = "CCOC(=O)OC"
             InChIKey = "JBTWLSYIZRCDFO-UHFFFAOYSA-N"
             MolarMass = 104.104<g / mol>
             Density25 = 1.006<g / cm^3>
             Viscosity25 = Some 0.65<mPa s>
             RelativePermittivity = Some 2.96 }
           { Chemical = DMC
             Name = "DMC"
             Smiles = "COC(=O)OC"
             InChIKey = "IEJIGPNLZYLLBP-UHFFFAOYSA-N"
             MolarMass = 90.078<g / mol>
             Density25 = 1.063<g / cm^3>
             Viscosity25 = Some 0.585<mPa s>
             RelativePermittivity = Some 3.1 }
           { Chemical = PC
             Name = "PC"
             Smiles = "CC1COC(=O)O1"
             InChIKey = "RUOJZAUFBMNUDX-UHFFFAOYSA-N"
             MolarMass = 102.089<g / mol>
             Density25 = 1.200<g / cm^3>
             Viscosity25 = Some 2.53<mPa s>
             RelativePermittivity = Some 64.9 } |]

    /// The table row of a chemical.
    let data (c: Chemical) : ChemicalData = table[index c]

    /// The chemical at a position of `all`; None outside 0..count-1.
    let tryOfIndex (i: int) : Chemical option =
        if i >= 0 && i < count then Some table[i].Chemical else None

    /// Short name (e.g. "EC").
    let name (c: Chemical) : string = (data c).Name

    /// Molar mass.
    let molarMass (c: Chemical) : float<g / mol> = (data c).MolarMass

    /// Density at 25 C (the default for ideal-mixing volume fractions).
    let density25 (c: Chemical) : float<g / cm^3> = (data c).Density25

    /// Look up by name (case-insensitive), SMILES (exact) or InChIKey (case-insensitive).
    /// Surrounding white space is ignored.
    let tryFind (key: string) : Chemical option =
        if obj.ReferenceEquals(key, null) then
            None
        else
            let k = key.Trim()

            table
            |> Array.tryFind (fun d ->
                String.Equals(d.Name, k, StringComparison.OrdinalIgnoreCase)
                || String.Equals(d.Smiles, k, StringComparison.Ordinal)
                || String.Equals(d.InChIKey, k, StringComparison.OrdinalIgnoreCase))
            |> Option.map (fun d -> d.Chemical)

    /// Look up by name, SMILES or InChIKey; the error names the key and lists the known names.
    let find (key: string) : Result<Chemical, string> =
        match tryFind key with
        | Some c -> Ok c
        | None ->
            let shown =
                if obj.ReferenceEquals(key, null) then
                    "null"
                else
                    $"'{key}'"

            let known = table |> Array.map (fun d -> d.Name) |> String.concat ", "
            Error $"unknown chemical {shown}; known chemicals (by name, SMILES or InChIKey): {known}"

    /// The keys of (key, value) pairs that name no known chemical, each with the reason from `find`, in order.
    let unknownKeys (items: (string * 'a) list) : (string * string) list =
        items
        |> List.choose (fun (k, _) ->
            match find k with
            | Ok _ -> None
            | Error reason -> Some(k, reason))
