namespace Finales.Core

open System
open Finales.Core.Units

/// Properties of an electrolyte at one temperature.
type ElectrolyteProperties =
    {
        Temperature: float<K>
        Density: float<g / cm^3>
        Viscosity: float<mPa s>
        Conductivity: float<S / m>
        /// Salt concentration per volume of solution.
        SaltMolarity: float<mol / L>
        /// Salt per mass of solvent.
        SaltMolality: float<mol / kg>
    }

/// Why the virtual electrolyte cannot evaluate a formulation.
type ElectrolyteError =
    | TemperatureOutOfRange of float<K>
    | NoSolvent

/// Messages for virtual-electrolyte errors.
[<RequireQualifiedAccess>]
module ElectrolyteError =
    /// A message naming the field and the value.
    let message (e: ElectrolyteError) : string =
        match e with
        | TemperatureOutOfRange t -> $"temperature is {float t} K; the virtual electrolyte is defined for 200..450 K"
        | NoSolvent -> "formulation has no solvent (EC, EMC, DMC or PC); a liquid electrolyte needs one"

/// The physics behind the simulated instruments (domain.md section 5, calibrated): density with an
/// excess-volume term, Arrhenius viscosity with a salt term, Casteel-Amis conductivity.
[<RequireQualifiedAccess>]
module VirtualElectrolyte =
    /// Reference temperature.
    let T0: float<K> = 298.15<K>

    /// Gas constant.
    let R: float<J / (mol K)> = 8.314462618<J / (mol K)>

    /// Lowest accepted temperature.
    let MinTemperature: float<K> = 200.0<K>

    /// Highest accepted temperature.
    let MaxTemperature: float<K> = 450.0<K>

    /// Excess-volume coefficient of EC mixtures (recalibrated from domain.md's -0.059, see
    /// `SaltECVolume`).
    let kE: float = -0.068

    /// Apparent molar volume of LiPF6 in an EC-free solvent (recalibrated from domain.md's 48).
    let Vphi: float<cm^3 / mol> = 45.5<cm^3 / mol>

    /// Growth of the salt's apparent molar volume with EC-solvated salt: V_phi + k x_EC m (m the
    /// molality). Added because domain.md's two-parameter model misses the 2023 stock
    /// 1.5M-LiPF6-EC-EMC by 1.2 %; with (kE, V_phi, k) = (-0.068, 45.5, 15) all eight measured
    /// stock densities of domain.md section 2 are reproduced within 0.1 %.
    let SaltECVolume: float<cm^3 / mol / (mol / kg)> = 15.0<cm^3 / mol / (mol / kg)>

    /// Viscosity salt coefficients: ln eta gains B c + D c^2 (c in mol/L).
    let B: float<L / mol> = 0.95<L / mol>

    /// See `B`.
    let D: float<(L / mol)^2> = 0.05<(L / mol)^2>

    /// Activation energy of the salt contribution, per mol/L of salt.
    let EaSalt: float<J / mol / (mol / L)> = 3000.0<J / mol / (mol / L)>

    /// Thermal expansion coefficient of a solvent.
    let alpha (c: Chemical) : float</ K> =
        match c with
        | EC -> 0.88e-3< / K>
        | PC -> 0.87e-3< / K>
        | EMC -> 1.19e-3< / K>
        | DMC -> 1.20e-3< / K>
        | LiPF6 -> 0.0< / K>

    /// Viscous-flow activation energy of a solvent.
    let activationEnergy (c: Chemical) : float<J / mol> =
        match c with
        | EC -> 15.4e3<J / mol>
        | PC -> 15.4e3<J / mol>
        | EMC -> 10.5e3<J / mol>
        | DMC -> 10.2e3<J / mol>
        | LiPF6 -> 0.0<J / mol>

    let private solvents = [ EC; EMC; DMC; PC ]

    /// Density of a pure solvent at T: rho_25 (1 - alpha (T - T0)).
    let solventDensity (c: Chemical) (t: float<K>) : float<g / cm^3> =
        Chemical.density25 c * (1.0 - alpha c * (t - T0))

    /// ln of the salt-free solvent-mixture viscosity (mPa s) for solvent mole fractions xs.
    let private lnSolventViscosity (xs: (Chemical * float) list) (t: float<K>) : float =
        xs
        |> List.sumBy (fun (c, x) ->
            let eta25 = (Chemical.data c).Viscosity25 |> Option.defaultValue 1.0<mPa s>
            x * (log (float eta25) + activationEnergy c / R * (1.0 / t - 1.0 / T0)))

    /// Density, viscosity and conductivity of a formulation (any basis; volume fractions are read
    /// with the 25 C densities) at temperature T.
    let properties (formulation: Formulation) (t: float<K>) : Result<ElectrolyteProperties, ElectrolyteError> =
        if Double.IsNaN(float t) || t < MinTemperature || t > MaxTemperature then
            Error(TemperatureOutOfRange t)
        else
            let f = Formulation.toMole formulation
            // One mole of mixture: n_i = x_i mol.
            let n c = Formulation.fraction c f * 1.0<mol>
            let nSolvent = solvents |> List.sumBy n

            if nSolvent <= 0.0<mol> then
                Error NoSolvent
            else
                let xs = solvents |> List.map (fun c -> c, n c / nSolvent)
                let xEC = n EC / nSolvent
                let mass c = n c * Chemical.molarMass c
                let solventMass = solvents |> List.sumBy mass
                let totalMass = solventMass + mass LiPF6
                let nSalt = n LiPF6

                let molality = nSalt / solventMass * gramsPerKilogram

                let volume =
                    (solvents |> List.sumBy (fun c -> mass c / solventDensity c t))
                    * (1.0 + kE * xEC * (1.0 - xEC))
                    + nSalt * (Vphi + SaltECVolume * xEC * molality) * (1.0 + 8e-4< / K> * (t - T0))

                let density = totalMass / volume
                let molarity = nSalt / volume * cm3PerLiter
                let lnEtaSolvent = lnSolventViscosity xs t
                let arrhenius = 1.0 / t - 1.0 / T0

                let lnEta =
                    lnEtaSolvent
                    + B * molarity
                    + D * molarity * molarity
                    + float (EaSalt * molarity / R * arrhenius)

                let epsS =
                    xs
                    |> List.sumBy (fun (c, x) ->
                        x * ((Chemical.data c).RelativePermittivity |> Option.defaultValue 0.0))

                let kmax = 10.5 * (1.0 - exp (-epsS / 15.0)) / exp lnEtaSolvent // mS/cm
                let mu = 0.6 + 0.01 * epsS // mol/kg
                let a, b = 1.1, -0.1
                let m = float molality

                let kappa =
                    if m <= 0.0 then
                        0.0
                    else
                        kmax * Math.Pow(m / mu, a) * exp (b * (m - mu) * (m - mu) - (a / mu) * (m - mu))

                Ok
                    { Temperature = t
                      Density = density
                      Viscosity = exp lnEta * 1.0<mPa s>
                      // 1 mS/cm = 0.1 S/m.
                      Conductivity = kappa * 0.1<S / m>
                      SaltMolarity = molarity
                      SaltMolality = molality }

    /// Noise levels (1 sigma): density absolute, viscosity and conductivity relative.
    let densityNoise: float<g / cm^3> = 1e-4<g / cm^3>

    /// See `densityNoise`.
    let viscosityRelativeNoise: float = 0.005

    /// See `densityNoise`.
    let conductivityRelativeNoise: float = 0.02

    /// A noisy "measurement": the true properties plus Gaussian noise drawn from `normal`, a
    /// standard-normal sampler supplied by the caller (the core owns no randomness).
    let measureWith
        (normal: unit -> float)
        (formulation: Formulation)
        (t: float<K>)
        : Result<ElectrolyteProperties, ElectrolyteError> =
        properties formulation t
        |> Result.map (fun p ->
            let zRho = normal ()
            let zEta = normal ()
            let zKappa = normal ()

            { p with
                Density = p.Density + zRho * densityNoise
                Viscosity = p.Viscosity * (1.0 + viscosityRelativeNoise * zEta)
                Conductivity = p.Conductivity * (1.0 + conductivityRelativeNoise * zKappa) })

    /// A seeded noisy measurement: returns the measurement and the advanced generator.
    let measure
        (rng: Rng)
        (formulation: Formulation)
        (t: float<K>)
        : Result<ElectrolyteProperties * Rng, ElectrolyteError> =
        let mutable state = rng

        let normal () =
            let z, next = Rng.nextNormal state
            state <- next
            z

        measureWith normal formulation t |> Result.map (fun p -> p, state)
