namespace Finales.Md.Setup

open Finales.Core
open Finales.Core.Units

/// The stated parameters of the restricted primitive model of LiPF6 in an implicit carbonate solvent
/// (docs/md-tenant.md gives their sources). "Restricted": both ions share one contact diameter; they differ
/// in mass and in their Stokes radius, which sets their friction with the implicit solvent.
[<RequireQualifiedAccess>]
module PrimitiveParameters =
    /// Avogadro constant, 1/mol (the analysis' constant).
    let Avogadro: float = Finales.Md.Analysis.Units.Avogadro

    /// Boltzmann constant, J/K (the analysis' constant).
    let Boltzmann: float = Finales.Md.Analysis.Units.Boltzmann

    /// Molar mass of Li+ (g/mol).
    let LiMass: float<g / mol> = 6.941<g / mol>

    /// Molar mass of PF6- (g/mol): LiPF6 minus Li, from the core's chemicals table.
    let PF6Mass: float<g / mol> = Chemical.molarMass LiPF6 - LiMass

    /// Contact diameter of both ions (Angstrom): the Li-P contact-pair distance of all-atom carbonate
    /// electrolytes (3.2-3.5 A, domain.md section 7).
    let ContactDiameterAngstrom: float = 3.4

    /// Depth of the purely repulsive soft-sphere (Weeks-Chandler-Andersen) potential, kcal/mol (k_B T at 298 K).
    let SoftSphereEpsilonKcalPerMol: float = 0.5922

    /// Hydrodynamic (Stokes) radius of the solvated Li+ (Angstrom), from the Walden product of Li+ in PC:
    /// limiting ionic conductivity about 9 S cm2/mol at 2.53 mPa s gives r = 0.820 / (lambda0 eta[P]) = 3.6 A.
    let LiStokesRadiusAngstrom: float = 3.6

    /// Hydrodynamic (Stokes) radius of PF6- (Angstrom); chosen for this project (calibrated) so that the free
    /// anion diffuses about 1.4 times faster than the solvated cation, inside the ranges of domain.md section 7
    /// (D(Li+) 1-3e-10 m2/s, D(PF6-) 2-5e-10 m2/s).
    let PF6StokesRadiusAngstrom: float = 2.5

    /// Real-space cut-off of the Coulomb interaction (Angstrom); PPPM does the rest.
    let CoulombCutoffAngstrom: float = 12.0

    /// Relative accuracy of the PPPM forces.
    let PppmAccuracy: float = 1.0e-4

    /// Relative permittivity of a pure solvent (the core's chemicals table, K. Xu, Chem. Rev. 104 (2004)
    /// 4303, Table 1); None for the salt.
    let solventPermittivity (c: Chemical) : float option = (Chemical.data c).RelativePermittivity

    /// The solvents the implicit solvent can represent (every solvent of the core's table).
    let solvents: Chemical list =
        Chemical.all |> List.filter (fun c -> (solventPermittivity c).IsSome)

    /// Volume fractions of the solvents of a formulation at T (the salt left out), from the mole fractions and
    /// the pure-solvent densities at T (ideal mixing). Empty when the formulation has no solvent.
    let solventVolumeFractions (formulation: Formulation) (t: float<K>) : (Chemical * float) list =
        let f = Formulation.toMole formulation

        let volumes =
            solvents
            |> List.map (fun c ->
                c,
                Formulation.fraction c f * Chemical.molarMass c
                / VirtualElectrolyte.solventDensity c t)
            |> List.filter (fun (_, v) -> v > 0.0<cm^3 / mol>)

        let total = volumes |> List.sumBy snd

        if total <= 0.0<cm^3 / mol> then
            []
        else
            volumes |> List.map (fun (c, v) -> c, v / total)

    /// Relative permittivity of the solvent mixture: the volume-fraction-weighted mean of the pure-solvent
    /// values (the linear mixing rule of e.g. Y. Marcus, "The Properties of Solvents", 1998, ch. 4; its error
    /// for carbonate mixtures is a few units, small next to the primitive model's other approximations).
    let mixturePermittivity (volumeFractions: (Chemical * float) list) : float =
        volumeFractions
        |> List.sumBy (fun (c, phi) -> phi * (solventPermittivity c |> Option.defaultValue 0.0))

    /// Stokes friction coefficient 6 pi eta r (kg/s) of a sphere of radius r (Angstrom) in a fluid of
    /// viscosity eta.
    let stokesFriction (viscosity: float<mPa s>) (radiusAngstrom: float) : float =
        6.0 * System.Math.PI * (float viscosity * 1e-3) * (radiusAngstrom * 1e-10)

    /// The molar mass (g/mol) that gives a Langevin damping time `dampFs` (LAMMPS: gamma = m / damp) for a
    /// friction coefficient (kg/s). The ions are overdamped (their physical m / gamma is below 1 fs), where the
    /// diffusion coefficient kT / gamma and every static property do not depend on the mass; the dynamical mass
    /// is raised so that one damping time spans many time steps.
    let dynamicalMass (frictionKgPerS: float) (dampFs: float) : float =
        frictionKgPerS * dampFs * 1e-15 * Avogadro * 1000.0
