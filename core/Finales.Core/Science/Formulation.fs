namespace Finales.Core

open Finales.Core.Units

/// What the fractions of a formulation measure.
type FractionBasis =
    /// Mole fractions (`molPerMol` on the wire).
    | MolePerMole
    /// Mass fractions.
    | MassPerMass
    /// Volume fractions under ideal mixing (volumes of the pure components add up).
    | VolumePerVolume

/// Why a formulation was rejected. Every case names the chemical (or key) and the value.
type FormulationError =
    | EmptyFormulation
    | UnknownChemical of key: string * reason: string
    | DuplicateChemical of Chemical
    | FractionNotFinite of Chemical * float
    | FractionNegative of Chemical * float
    | FractionsDoNotSumToOne of sum: float

/// Human-readable messages for formulation errors.
[<RequireQualifiedAccess>]
module FormulationError =
    /// A message that names the offending chemical and value.
    let message (e: FormulationError) : string =
        match e with
        | EmptyFormulation -> "formulation is empty; give at least one chemical with a fraction"
        | UnknownChemical(_, reason) -> reason
        | DuplicateChemical c -> $"chemical {Chemical.name c} appears more than once in the formulation"
        | FractionNotFinite(c, v) -> $"fraction of {Chemical.name c} is {v}; fractions must be finite numbers"
        | FractionNegative(c, v) -> $"fraction of {Chemical.name c} is {v}; fractions must be >= 0"
        | FractionsDoNotSumToOne s -> $"fractions sum to {s:R}; they must sum to 1 within 1e-6"

/// A composition that cannot be invalid. Invariant (checked by `Formulation.create`): at least one
/// chemical, no chemical twice, every fraction finite and >= 0, fractions summing to 1 within 1e-6.
/// Chemicals given with fraction 0 are kept (they are part of what was requested).
type Formulation =
    private
        { Basis: FractionBasis
          Fractions: Map<Chemical, float> }

/// Creation, access and conversion between mole, mass and volume fractions.
[<RequireQualifiedAccess>]
module Formulation =
    /// Largest accepted |sum of fractions - 1|.
    [<Literal>]
    let SumTolerance = 1e-6

    /// Validate fractions; all errors are collected.
    let create (basis: FractionBasis) (fractions: (Chemical * float) seq) : Result<Formulation, FormulationError list> =
        let items = List.ofSeq fractions

        let errors =
            [ if List.isEmpty items then
                  EmptyFormulation
              yield!
                  items
                  |> List.countBy fst
                  |> List.filter (fun (_, n) -> n > 1)
                  |> List.map (fst >> DuplicateChemical)
              for (c, v) in items do
                  if System.Double.IsNaN v || System.Double.IsInfinity v then
                      FractionNotFinite(c, v)
                  elif v < 0.0 then
                      FractionNegative(c, v) ]

        if not (List.isEmpty errors) then
            Error errors
        else
            let sum = items |> List.sumBy snd

            if abs (sum - 1.0) > SumTolerance then
                Error [ FractionsDoNotSumToOne sum ]
            else
                Ok
                    { Basis = basis
                      Fractions = Map.ofList items }

    /// Validate fractions keyed by chemical name, SMILES or InChIKey; unknown keys are errors too.
    let parse (basis: FractionBasis) (fractions: (string * float) seq) : Result<Formulation, FormulationError list> =
        let items = List.ofSeq fractions

        let unknown =
            Chemical.unknownKeys items
            |> List.map (fun (k, reason) -> UnknownChemical(k, reason))

        if not (List.isEmpty unknown) then
            Error unknown
        else
            items
            |> List.choose (fun (k, v) -> Chemical.tryFind k |> Option.map (fun c -> c, v))
            |> create basis

    /// What the fractions measure.
    let basis (f: Formulation) : FractionBasis = f.Basis

    /// The fractions as given (including chemicals given with 0).
    let fractions (f: Formulation) : Map<Chemical, float> = f.Fractions

    /// Fraction of one chemical (0 when absent).
    let fraction (c: Chemical) (f: Formulation) : float =
        f.Fractions |> Map.tryFind c |> Option.defaultValue 0.0

    /// Chemicals named in the formulation.
    let chemicals (f: Formulation) : Chemical list =
        f.Fractions |> Map.toList |> List.map fst

    /// Amount of each basis quantity per mole of a chemical: 1 mol, M g, or M/rho cm^3.
    let private perMole (densityOf: Chemical -> float<g / cm^3>) (basis: FractionBasis) (c: Chemical) : float =
        match basis with
        | MolePerMole -> 1.0
        | MassPerMass -> float (Chemical.molarMass c)
        | VolumePerVolume -> float (Chemical.molarMass c / densityOf c)

    /// Convert to another basis: x_b,i ~ x_a,i * q_b,i / q_a,i with q = 1 (mole), M (mass) or
    /// M / rho (volume, ideal mixing with the given densities). Renormalises exactly; a
    /// formulation whose fractions sum to 1 - 1e-7 comes back summing to 1 within rounding.
    let convertWith (densityOf: Chemical -> float<g / cm^3>) (target: FractionBasis) (f: Formulation) : Formulation =
        if target = f.Basis then
            f
        else
            let q = perMole densityOf

            let raw = f.Fractions |> Map.map (fun c v -> v * q target c / q f.Basis c)

            let total = raw |> Map.fold (fun acc _ v -> acc + v) 0.0
            // total > 0: at least one fraction is positive because they sum to ~1.
            { Basis = target
              Fractions = raw |> Map.map (fun _ v -> v / total) }

    /// Convert with the 25 C densities of the chemicals table.
    let convert (target: FractionBasis) (f: Formulation) : Formulation = convertWith Chemical.density25 target f

    /// Mole fractions (25 C densities for a volume basis).
    let toMole (f: Formulation) : Formulation = convert MolePerMole f

    /// Mass fractions (25 C densities for a volume basis).
    let toMass (f: Formulation) : Formulation = convert MassPerMass f

    /// Ideal-mixing volume fractions with the 25 C densities.
    let toVolume (f: Formulation) : Formulation = convert VolumePerVolume f
