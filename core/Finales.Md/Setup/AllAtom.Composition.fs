namespace Finales.Md.Setup

open Finales.Core
open Finales.Core.Units

/// A molecule kind of the all-atom model: the salt LiPF6 dissociates into Li+ and PF6-.
type AllAtomSpecies =
    | Li
    | PF6
    | Solvent of Chemical

/// How many formula units of each chemical the box holds, and the mole fractions they achieve.
type AllAtomCounts =
    {
        Counts: (Chemical * int) list
        Achieved: (Chemical * float) list
        /// Atoms in the box.
        Atoms: int
    }

/// Molecule counts from mole fractions and the box edge from an estimated density.
[<RequireQualifiedAccess>]
module AllAtomComposition =
    /// The CL&P/OPLS-AA practice for ions in carbonates: charges scaled by 0.8 to mimic polarisation.
    [<Literal>]
    let IonChargeScale = 0.8

    /// The molecule file (data/md/allatom/<name>.xyz) and display name of a species.
    let speciesName (s: AllAtomSpecies) : string =
        match s with
        | Li -> "Li"
        | PF6 -> "PF6"
        | Solvent c -> Chemical.name c

    /// The species one formula unit of a chemical contributes.
    let speciesOf (c: Chemical) : AllAtomSpecies list =
        match c with
        | LiPF6 -> [ Li; PF6 ]
        | other -> [ Solvent other ]

    /// True for the ions (whose charges are scaled by `IonChargeScale`).
    let isIon (s: AllAtomSpecies) : bool =
        match s with
        | Li
        | PF6 -> true
        | Solvent _ -> false

    /// Integer counts whose fractions are nearest the requested ones: the total N is the target atoms over
    /// the mean atoms per formula unit, and the counts are x_i N apportioned by largest remainder, so each
    /// achieved fraction is within 1/N of the request. `atomsPer` gives the atoms of one formula unit.
    /// Fails (naming the chemical) when a requested component would get no molecule at all.
    let counts
        (atomsPer: Chemical -> int)
        (targetAtoms: int)
        (fractions: (Chemical * float) list)
        : Result<AllAtomCounts, string> =
        let perUnit = fractions |> List.sumBy (fun (c, x) -> x * float (atomsPer c))

        if targetAtoms < 1 then
            Error $"target atoms is {targetAtoms}; it must be >= 1"
        elif perUnit <= 0.0 then
            Error "the mole fractions name no molecule"
        else
            let total = max 1 (int (round (float targetAtoms / perUnit)))
            let exact = fractions |> List.map (fun (c, x) -> c, x * float total)
            let floors = exact |> List.map (fun (c, v) -> c, int (floor v))
            let missing = total - (floors |> List.sumBy snd)

            // Largest remainder first; ties by table order so the result is deterministic.
            let bonus =
                exact
                |> List.sortBy (fun (c, v) -> -(v - floor v), Chemical.index c)
                |> List.truncate missing
                |> List.map fst
                |> Set.ofList

            let n =
                floors |> List.map (fun (c, k) -> c, (if bonus.Contains c then k + 1 else k))

            match
                fractions
                |> List.tryFind (fun (c, x) -> x > 0.0 && (n |> List.find (fun (d, _) -> d = c) |> snd) = 0)
            with
            | Some(c, x) ->
                Error
                    $"mole fraction of {Chemical.name c} is {x}, which gives no molecule in a box of about {targetAtoms} atoms; raise the target atoms"
            | None ->
                Ok
                    { Counts = n |> List.filter (fun (_, k) -> k > 0)
                      Achieved = n |> List.map (fun (c, k) -> c, float k / float total)
                      Atoms = n |> List.sumBy (fun (c, k) -> k * atomsPer c) }

    /// Density estimated by ideal mixing of the chemicals' 25 C densities (the salt at its crystal
    /// density): total mass over the sum of the component volumes. NPT equilibration corrects it.
    let estimatedDensity (counts: (Chemical * int) list) : float<g / cm^3> =
        let mass = counts |> List.sumBy (fun (c, k) -> float k * Chemical.molarMass c)

        let volume =
            counts
            |> List.sumBy (fun (c, k) -> float k * Chemical.molarMass c / Chemical.density25 c)

        mass / volume

    /// Edge of the cubic box (Angstrom) holding `counts` at `density`.
    let boxEdge (counts: (Chemical * int) list) (density: float<g / cm^3>) : float =
        let massGrams =
            (counts |> List.sumBy (fun (c, k) -> float k * float (Chemical.molarMass c)))
            / 6.02214076e23

        let volumeCm3 = massGrams / float density
        (volumeCm3 * 1e24) ** (1.0 / 3.0)
