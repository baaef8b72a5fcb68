namespace Finales.Core

open System
open Finales.Core.Units

/// Why a mixing problem was rejected. Every case names the stock/chemical and the value.
type MixingError =
    | NoStocks
    | TooManyStocks of count: int * limit: int
    | StockNameMissing of position: int
    | DuplicateStockName of name: string
    | StockUnknownChemical of stock: string * key: string * reason: string
    | StockDuplicateChemical of stock: string * Chemical
    | MassNotFinite of stock: string * Chemical * float
    | MassNegative of stock: string * Chemical * float
    | StockWithoutMass of stock: string
    | TotalMassInvalid of stock: string * float
    | TotalMassBelowComponents of stock: string * total: float * sumOfMasses: float
    | DensityInvalid of stock: string * float
    | TargetUnknownChemical of key: string * reason: string
    | TargetDuplicateChemical of Chemical
    | TargetFractionNotFinite of Chemical * float
    | TargetFractionNegative of Chemical * float
    | TargetWithoutPositiveFraction

/// Messages for mixing errors.
[<RequireQualifiedAccess>]
module MixingError =
    /// A message naming the field and the offending value.
    let message (e: MixingError) : string =
        match e with
        | NoStocks -> "stocks is empty; give at least one stock solution"
        | TooManyStocks(n, limit) -> $"stocks has {n} entries; at most {limit} stocks are supported"
        | StockNameMissing i -> $"stocks[{i}].name is missing or blank"
        | DuplicateStockName n -> $"stock name '{n}' is used more than once"
        | StockUnknownChemical(s, _, reason) -> $"stock '{s}': {reason}"
        | StockDuplicateChemical(s, c) -> $"stock '{s}' lists {Chemical.name c} more than once"
        | MassNotFinite(s, c, v) -> $"stock '{s}': mass of {Chemical.name c} is {v}; masses must be finite"
        | MassNegative(s, c, v) -> $"stock '{s}': mass of {Chemical.name c} is {v} g; masses must be >= 0"
        | StockWithoutMass s -> $"stock '{s}' has no chemical with a positive mass"
        | TotalMassInvalid(s, v) -> $"stock '{s}': total_mass is {v}; it must be a finite number > 0"
        | TotalMassBelowComponents(s, t, m) ->
            $"stock '{s}': total_mass {t} g is below the sum of its component masses {m} g (by more than 1 %%)"
        | DensityInvalid(s, v) -> $"stock '{s}': density is {v}; it must be a finite number > 0 (g/cm3)"
        | TargetUnknownChemical(_, reason) -> $"target: {reason}"
        | TargetDuplicateChemical c -> $"target lists {Chemical.name c} more than once"
        | TargetFractionNotFinite(c, v) -> $"target fraction of {Chemical.name c} is {v}; it must be finite"
        | TargetFractionNegative(c, v) -> $"target fraction of {Chemical.name c} is {v}; it must be >= 0"
        | TargetWithoutPositiveFraction -> "target has no chemical with a positive fraction"

/// A stock solution as prepared: component masses, total mass and measured density.
/// Invariant: non-blank name; masses finite and >= 0 with at least one > 0; total mass finite,
/// > 0 and not below 99 % of the sum of the component masses; density finite and > 0.
type Stock =
    private
        { Name: string
          Masses: Map<Chemical, float<g>>
          TotalMass: float<g>
          Density: float<g / cm^3> }

/// Creation and properties of stock solutions.
[<RequireQualifiedAccess>]
module Stock =
    let private isFinite (v: float) =
        not (Double.IsNaN v || Double.IsInfinity v)

    /// Validate a stock; `totalMass` defaults to the sum of the component masses.
    let create
        (name: string)
        (masses: (Chemical * float<g>) seq)
        (totalMass: float<g> option)
        (density: float<g / cm^3>)
        : Result<Stock, MixingError list> =
        let items = List.ofSeq masses
        let label = if String.IsNullOrWhiteSpace name then "?" else name
        let sum = items |> List.sumBy snd

        let errors =
            [ if String.IsNullOrWhiteSpace name then
                  StockNameMissing 0
              yield!
                  items
                  |> List.countBy fst
                  |> List.filter (fun (_, n) -> n > 1)
                  |> List.map (fun (c, _) -> StockDuplicateChemical(label, c))
              for (c, m) in items do
                  if not (isFinite (float m)) then
                      MassNotFinite(label, c, float m)
                  elif m < 0.0<g> then
                      MassNegative(label, c, float m)
              if items |> List.forall (fun (_, m) -> not (m > 0.0<g>)) then
                  StockWithoutMass label
              match totalMass with
              | Some t when not (isFinite (float t)) || t <= 0.0<g> -> TotalMassInvalid(label, float t)
              | Some t when isFinite (float sum) && float t < 0.99 * float sum ->
                  TotalMassBelowComponents(label, float t, float sum)
              | _ -> ()
              if not (isFinite (float density)) || density <= 0.0<g / cm^3> then
                  DensityInvalid(label, float density) ]

        if List.isEmpty errors then
            Ok
                { Name = name
                  Masses = Map.ofList items
                  TotalMass = defaultArg totalMass sum
                  Density = density }
        else
            Error errors

    /// Validate a stock whose chemicals are given by name, SMILES or InChIKey.
    let parse
        (name: string)
        (masses: (string * float) seq)
        (totalMass: float option)
        (density: float)
        : Result<Stock, MixingError list> =
        let items = List.ofSeq masses
        let label = if String.IsNullOrWhiteSpace name then "?" else name

        let unknown =
            Chemical.unknownKeys items
            |> List.map (fun (k, reason) -> StockUnknownChemical(label, k, reason))

        if not (List.isEmpty unknown) then
            Error unknown
        else
            create
                name
                (items
                 |> List.choose (fun (k, m) -> Chemical.tryFind k |> Option.map (fun c -> c, m * 1.0<g>)))
                (totalMass |> Option.map (fun t -> t * 1.0<g>))
                (density * 1.0<g / cm^3>)

    /// Name of the stock.
    let name (s: Stock) : string = s.Name

    /// Component masses as given.
    let masses (s: Stock) : Map<Chemical, float<g>> = s.Masses

    /// Total mass (the sum of the component masses unless given).
    let totalMass (s: Stock) : float<g> = s.TotalMass

    /// Measured density.
    let density (s: Stock) : float<g / cm^3> = s.Density

    /// Amount of substance per volume of stock: c_i = (m_i / M_i) / (m / rho).
    let concentrations (s: Stock) : Map<Chemical, float<mol / L>> =
        let volume = s.TotalMass / s.Density

        s.Masses |> Map.map (fun c m -> m / Chemical.molarMass c / volume * cm3PerLiter)

    /// Mole fractions of the stock's own composition.
    let moleFractions (s: Stock) : Map<Chemical, float> =
        let moles = s.Masses |> Map.map (fun c m -> float (m / Chemical.molarMass c))
        let total = moles |> Map.fold (fun acc _ v -> acc + v) 0.0
        moles |> Map.map (fun _ v -> v / total)

/// A requested composition for mixing. It need not sum to 1 (the published reference cases include
/// requests summing to 0.999 and 1.001); the deviation is measured against it as given.
/// Invariant: fractions finite and >= 0, at least one > 0, no chemical twice.
type MixingTarget =
    private
        { Fractions: Map<Chemical, float> }

/// Creation of mixing targets.
[<RequireQualifiedAccess>]
module MixingTarget =
    /// Validate a target.
    let create (fractions: (Chemical * float) seq) : Result<MixingTarget, MixingError list> =
        let items = List.ofSeq fractions

        let errors =
            [ yield!
                  items
                  |> List.countBy fst
                  |> List.filter (fun (_, n) -> n > 1)
                  |> List.map (fst >> TargetDuplicateChemical)
              for (c, v) in items do
                  if Double.IsNaN v || Double.IsInfinity v then
                      TargetFractionNotFinite(c, v)
                  elif v < 0.0 then
                      TargetFractionNegative(c, v)
              if items |> List.forall (fun (_, v) -> not (v > 0.0)) then
                  TargetWithoutPositiveFraction ]

        if List.isEmpty errors then
            Ok { Fractions = Map.ofList items }
        else
            Error errors

    /// Validate a target whose chemicals are given by name, SMILES or InChIKey.
    let parse (fractions: (string * float) seq) : Result<MixingTarget, MixingError list> =
        let items = List.ofSeq fractions

        let unknown =
            Chemical.unknownKeys items
            |> List.map (fun (k, reason) -> TargetUnknownChemical(k, reason))

        if List.isEmpty unknown then
            items
            |> List.choose (fun (k, v) -> Chemical.tryFind k |> Option.map (fun c -> c, v))
            |> create
        else
            Error unknown

    /// A valid formulation is always a valid target (converted to mole fractions).
    let ofFormulation (f: Formulation) : MixingTarget =
        { Fractions = Formulation.toMole f |> Formulation.fractions }

    /// The requested fractions.
    let fractions (t: MixingTarget) : Map<Chemical, float> = t.Fractions

    /// A target of fractions already known to be valid (for the solver in Mixing.fs, which asks for pure chemicals).
    let internal ofValidFractions (fractions: Map<Chemical, float>) : MixingTarget = { Fractions = fractions }

/// The outcome of mixing: what was asked, how to mix, what results, and how far that is.
type MixingResult =
    {
        /// The target as given.
        Requested: Map<Chemical, float>
        /// Volume fraction of each stock, in the order the stocks were given; >= 0, summing to 1.
        VolumeFractions: (string * float) list
        /// Mole fractions of the mixture; over every chemical of the stocks and the target.
        Achieved: Map<Chemical, float>
        /// Euclidean norm of achieved - requested (the published tool's objective).
        Deviation: float
    }
