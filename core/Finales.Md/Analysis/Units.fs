/// Physical constants and unit conversions of the trajectory analysis. LAMMPS `units real`: Angstrom, fs,
/// g/mol, charge in e.
module Finales.Md.Analysis.Units

/// Boltzmann constant, J/K (exact, SI 2019).
[<Literal>]
let Boltzmann = 1.380649e-23

/// Elementary charge, C (exact, SI 2019).
[<Literal>]
let ElementaryCharge = 1.602176634e-19

/// Avogadro constant, 1/mol (exact, SI 2019).
[<Literal>]
let Avogadro = 6.02214076e23

/// Angstrom^2/fs -> m^2/s: 1e-20 m^2 / 1e-15 s = 1e-5.
let angstrom2PerFsToM2PerS (d: float) = d * 1e-5

/// Angstrom^3 -> m^3.
let angstrom3ToM3 (v: float) = v * 1e-30
