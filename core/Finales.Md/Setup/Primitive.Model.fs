namespace Finales.Md.Setup

open System
open Finales.Core
open Finales.Core.Units

/// How long and how finely a primitive-model job runs.
type PrimitiveRun =
    {
        /// Number of Li+/PF6- pairs (the box holds twice as many ions).
        IonPairs: int
        /// Langevin equilibration before production, ps.
        EquilibrationPs: float
        /// Production run, ps.
        ProductionPs: float
        /// Integration time step, fs.
        TimestepFs: float
        /// Langevin damping time (dynamical mass / friction), fs.
        DampFs: float
        /// Interval between trajectory frames, ps.
        FrameIntervalPs: float
        /// Seed of the initial placement, the initial velocities and the Langevin noise.
        Seed: int
    }

/// A valid primitive-model request: the formulation and temperature to simulate and how long.
type PrimitiveRequest =
    { Formulation: Formulation
      Temperature: float<K>
      Run: PrimitiveRun }

/// Why the primitive model cannot simulate a request. Every case names the request field.
type PrimitiveError =
    | FormulationInvalid of FormulationError list
    | NoSalt
    | NoSolvent
    | SaltOutOfRange of molarity: float<mol / L>
    | TemperatureOutOfRange of float<K>
    | RunInvalid of field: string * value: float * rule: string

/// Messages of `PrimitiveError`.
[<RequireQualifiedAccess>]
module PrimitiveError =
    /// A message naming the field and the offending value.
    let message (e: PrimitiveError) : string =
        match e with
        | FormulationInvalid errors ->
            "formulation: "
            + (errors |> List.map FormulationError.message |> String.concat "; ")
        | NoSalt -> "formulation has no LiPF6; the primitive model simulates the salt's ions and needs some"
        | NoSolvent -> "formulation has no solvent (EC, EMC, DMC or PC); the implicit solvent needs one"
        | SaltOutOfRange c -> $"formulation gives {float c:G4} mol/L LiPF6; the primitive model covers 0.05..3 mol/L"
        | TemperatureOutOfRange t -> $"temperature is {float t} K; the primitive model covers 243.15..353.15 K"
        | RunInvalid(field, value, rule) -> $"{field} is {value}; {rule}"

/// The simulated system: everything the LAMMPS input needs, derived from the request.
type PrimitiveSystem =
    {
        Request: PrimitiveRequest
        /// Salt concentration of the solution (the core's density model).
        SaltMolarity: float<mol / L>
        /// Density of the solution (the core's density model).
        Density: float<g / cm^3>
        /// Viscosity of the solution including the salt (the core's viscosity model).
        Viscosity: float<mPa s>
        /// Solvent volume fractions used for the permittivity.
        SolventVolumeFractions: (Chemical * float) list
        /// Relative permittivity of the implicit solvent.
        Permittivity: float
        /// Edge of the cubic box, Angstrom.
        BoxLengthAngstrom: float
        /// Stokes friction of Li+ and PF6-, kg/s.
        LiFriction: float
        PF6Friction: float
        /// Dynamical masses, g/mol (see `PrimitiveParameters.dynamicalMass`).
        LiDynamicalMass: float
        PF6DynamicalMass: float
        EquilibrationSteps: int
        ProductionSteps: int
        FrameEverySteps: int
    }

/// The primitive model's decisions: validation and the derived system.
[<RequireQualifiedAccess>]
module PrimitiveModel =
    /// Temperatures the model accepts (the liquid range of carbonate electrolytes).
    let MinTemperature: float<K> = 243.15<K>

    /// See `MinTemperature`.
    let MaxTemperature: float<K> = 353.15<K>

    /// Salt concentrations the model accepts: below, 400 ions need a box so large that a short run sees few
    /// encounters; above, the implicit solvent no longer stands for a liquid.
    let MinMolarity: float<mol / L> = 0.05<mol / L>

    /// See `MinMolarity`.
    let MaxMolarity: float<mol / L> = 3.0<mol / L>

    /// The default run: 200 ion pairs, 100 ps equilibration, 1 ns production at 20 fs, frames every 2 ps.
    let defaultRun: PrimitiveRun =
        { IonPairs = 200
          EquilibrationPs = 100.0
          ProductionPs = 1000.0
          TimestepFs = 20.0
          DampFs = 200.0
          FrameIntervalPs = 2.0
          Seed = 1 }

    let private runErrors (r: PrimitiveRun) : PrimitiveError list =
        let positive field (v: float) =
            if Double.IsFinite v && v > 0.0 then
                []
            else
                [ RunInvalid(field, v, "it must be a finite number > 0") ]

        [ if r.IonPairs < 2 || r.IonPairs > 5000 then
              RunInvalid("ion_pairs", float r.IonPairs, "it must be 2..5000")
          yield! positive "equilibration_ps" r.EquilibrationPs
          yield! positive "production_ps" r.ProductionPs
          yield! positive "timestep_fs" r.TimestepFs
          yield! positive "damp_fs" r.DampFs
          yield! positive "frame_interval_ps" r.FrameIntervalPs
          if
              Double.IsFinite r.TimestepFs
              && r.TimestepFs > 0.0
              && r.DampFs < 5.0 * r.TimestepFs
          then
              RunInvalid("damp_fs", r.DampFs, $"it must be at least 5 time steps ({5.0 * r.TimestepFs} fs)")
          if r.FrameIntervalPs * 1000.0 < r.TimestepFs then
              RunInvalid("frame_interval_ps", r.FrameIntervalPs, "it must be at least one time step")
          if r.ProductionPs < 10.0 * r.FrameIntervalPs then
              RunInvalid("production_ps", r.ProductionPs, "it must hold at least 10 frames") ]

    /// A request from mole fractions (any identifiers the core's table knows), a temperature and a run.
    /// Collects every error.
    let request
        (fractions: (string * float) seq)
        (t: float<K>)
        (run: PrimitiveRun)
        : Result<PrimitiveRequest, PrimitiveError list> =
        let formulation = Formulation.parse MolePerMole fractions

        let temperatureErrors =
            if Double.IsFinite(float t) && t >= MinTemperature && t <= MaxTemperature then
                []
            else
                [ TemperatureOutOfRange t ]

        match formulation with
        | Error es -> Error(FormulationInvalid es :: temperatureErrors @ runErrors run)
        | Ok f ->
            let composition =
                [ if Formulation.fraction LiPF6 f <= 0.0 then
                      NoSalt
                  if
                      PrimitiveParameters.solvents
                      |> List.forall (fun c -> Formulation.fraction c f <= 0.0)
                  then
                      NoSolvent ]

            match composition @ temperatureErrors @ runErrors run with
            | [] ->
                Ok
                    { Formulation = f
                      Temperature = t
                      Run = run }
            | es -> Error es

    let private steps (ps: float) (dtFs: float) : int =
        max 1 (int (Math.Round(ps * 1000.0 / dtFs)))

    /// The simulated system of a valid request: density, salt molarity and viscosity from the core's virtual
    /// electrolyte, the permittivity from the solvent mixture, the box from the ion count and the molarity.
    let system (r: PrimitiveRequest) : Result<PrimitiveSystem, PrimitiveError list> =
        match VirtualElectrolyte.properties r.Formulation r.Temperature with
        | Error(ElectrolyteError.TemperatureOutOfRange t) -> Error [ TemperatureOutOfRange t ]
        | Error ElectrolyteError.NoSolvent -> Error [ NoSolvent ]
        | Ok p when p.SaltMolarity < MinMolarity || p.SaltMolarity > MaxMolarity ->
            Error [ SaltOutOfRange p.SaltMolarity ]
        | Ok p ->
            let phis = PrimitiveParameters.solventVolumeFractions r.Formulation r.Temperature
            // N pairs at c mol/L: V = N / (c N_A) L = N 1e27 / (c N_A) A^3.
            let volume =
                float r.Run.IonPairs * 1e27
                / (float p.SaltMolarity * PrimitiveParameters.Avogadro)

            let liFriction =
                PrimitiveParameters.stokesFriction p.Viscosity PrimitiveParameters.LiStokesRadiusAngstrom

            let pf6Friction =
                PrimitiveParameters.stokesFriction p.Viscosity PrimitiveParameters.PF6StokesRadiusAngstrom

            let dt = r.Run.TimestepFs
            let frameEvery = steps r.Run.FrameIntervalPs dt
            let production = steps r.Run.ProductionPs dt

            Ok
                { Request = r
                  SaltMolarity = p.SaltMolarity
                  Density = p.Density
                  Viscosity = p.Viscosity
                  SolventVolumeFractions = phis
                  Permittivity = PrimitiveParameters.mixturePermittivity phis
                  BoxLengthAngstrom = Math.Cbrt volume
                  LiFriction = liFriction
                  PF6Friction = pf6Friction
                  LiDynamicalMass = PrimitiveParameters.dynamicalMass liFriction r.Run.DampFs
                  PF6DynamicalMass = PrimitiveParameters.dynamicalMass pf6Friction r.Run.DampFs
                  EquilibrationSteps = steps r.Run.EquilibrationPs dt
                  // A whole number of frames, so the last step writes one.
                  ProductionSteps = (production + frameEvery - 1) / frameEvery * frameEvery
                  FrameEverySteps = frameEvery }

    /// Validation and derivation in one step.
    let build
        (fractions: (string * float) seq)
        (t: float<K>)
        (run: PrimitiveRun)
        : Result<PrimitiveSystem, PrimitiveError list> =
        request fractions t run |> Result.bind system

    /// Stokes-Einstein diffusion coefficient kT / gamma (m^2/s) of a free ion of the system: the dilute limit
    /// the simulated coefficients approach as the salt vanishes.
    let stokesEinstein (s: PrimitiveSystem) (frictionKgPerS: float) : float =
        PrimitiveParameters.Boltzmann * float s.Request.Temperature / frictionKgPerS
