namespace Finales.Md.Setup

open System
open Finales.Core

/// What an all-atom run is asked for: mole fractions (LiPF6 as one formula unit), the box size in atoms
/// and the run.
type AllAtomRequest =
    { Fractions: (Chemical * float) list
      TargetAtoms: int
      Run: AllAtomRun }

/// Everything an all-atom run needs, written before anything runs: the files of the work directory
/// (name, text), the counts, the estimated density and box, the analysis' species and RDF pairs.
type AllAtomPlan =
    { System: AllAtomSystem
      Counts: AllAtomCounts
      EstimatedDensity: float
      Files: (string * string) list
      Species: AllAtomSpeciesEntry list
      RdfPairs: AllAtomRdfPair list }

/// The all-atom setup from the vendored force field and geometries (data/md/allatom).
[<RequireQualifiedAccess>]
module AllAtomPlan =
    /// The force-field file of data/md/allatom.
    [<Literal>]
    let ForceFieldFile = "lipf6-carbonates.ff"

    /// The smallest and largest box the setup accepts (atoms).
    let TargetAtomsRange = (200, 2_000_000)

    /// The species of the model, in the order the box is built.
    let allSpecies: AllAtomSpecies list =
        Li :: PF6 :: (Chemical.all |> List.filter ((<>) LiPF6) |> List.map Solvent)

    /// The geometry file of a species (data/md/allatom/<name>.xyz).
    let geometryFile (s: AllAtomSpecies) : string =
        AllAtomComposition.speciesName s + ".xyz"

    /// Validation of the request: fractions in [0, 1] summing to 1, no chemical twice, a box size in range,
    /// the run lengths. Every error names the field and the value.
    let validate (request: AllAtomRequest) : string list =
        let lo, hi = TargetAtomsRange
        let total = request.Fractions |> List.sumBy snd

        [ for c, x in request.Fractions do
              if not (x >= 0.0 && x <= 1.0) then
                  $"mole fraction of {Chemical.name c} is {x}; fractions must be in [0, 1]"
          for c, n in request.Fractions |> List.countBy fst do
              if n > 1 then
                  $"{Chemical.name c} is given {n} times"
          if request.Fractions.IsEmpty then
              "fractions: no chemical given"
          elif not (abs (total - 1.0) <= 1e-6) then
              $"mole fractions sum to {total}; they must sum to 1"
          if request.TargetAtoms < lo || request.TargetAtoms > hi then
              $"target atoms is {request.TargetAtoms}; it must be in {lo}..{hi}"
          yield! AllAtomInput.validate request.Run ]

    /// Reads the force field and perceives every species' topology from the geometry texts (keyed by
    /// file name); the error names the file.
    let molecules
        (forceField: string)
        (geometry: string -> string option)
        : Result<ForceField * (AllAtomSpecies * MoleculeTopology) list, string> =
        ForceField.parse forceField
        |> Result.mapError (fun e -> $"{ForceFieldFile}: {e}")
        |> Result.bind (fun ff ->
            let tops =
                allSpecies
                |> List.map (fun s ->
                    let file = geometryFile s

                    match geometry file with
                    | None -> Error $"{file}: geometry not found"
                    | Some text ->
                        MoleculeTopology.parseXyz text
                        |> Result.bind (MoleculeTopology.perceive ff (AllAtomComposition.speciesName s))
                        |> Result.mapError (fun e -> $"{file}: {e}")
                        |> Result.map (fun m -> s, m))

            match
                tops
                |> List.tryPick (function
                    | Error e -> Some e
                    | Ok _ -> None)
            with
            | Some e -> Error e
            | None ->
                Ok(
                    ff,
                    tops
                    |> List.choose (function
                        | Ok t -> Some t
                        | Error _ -> None)
                ))

    /// Plans a run: counts nearest the fractions, box from the estimated density, data file (grid
    /// coordinates, replaced by Packmol's at run time), Packmol and LAMMPS inputs, species, RDF pairs.
    let create
        (forceField: string)
        (geometry: string -> string option)
        (request: AllAtomRequest)
        : Result<AllAtomPlan, string list> =
        match validate request with
        | _ :: _ as errors -> Error errors
        | [] ->
            molecules forceField geometry
            |> Result.mapError List.singleton
            |> Result.bind (fun (ff, tops) ->
                let topOf s =
                    tops |> List.find (fun (t, _) -> t = s) |> snd

                let atomsPer c =
                    AllAtomComposition.speciesOf c |> List.sumBy (fun s -> (topOf s).Atoms.Length)

                AllAtomComposition.counts atomsPer request.TargetAtoms request.Fractions
                |> Result.mapError List.singleton
                |> Result.bind (fun counts ->
                    let density = AllAtomComposition.estimatedDensity counts.Counts
                    let edge = AllAtomComposition.boxEdge counts.Counts density

                    let molecules =
                        allSpecies
                        |> List.choose (fun s ->
                            let n =
                                counts.Counts
                                |> List.sumBy (fun (c, k) ->
                                    if List.contains s (AllAtomComposition.speciesOf c) then
                                        k
                                    else
                                        0)

                            if n > 0 then Some(s, topOf s, n) else None)

                    let sys = AllAtomSystem.create molecules edge ff

                    AllAtomSystem.dataFile sys (AllAtomSystem.gridPositions sys)
                    |> Result.mapError List.singleton
                    |> Result.map (fun data ->
                        { System = sys
                          Counts = counts
                          EstimatedDensity = float density
                          Files =
                            [ AllAtomInput.DataFile, data
                              "pack.inp", AllAtomInput.packmol sys request.Run.Seed
                              "in.lammps", AllAtomInput.lammps sys request.Run
                              "in.restart.lammps", AllAtomInput.lammpsRestart sys request.Run ]
                            @ (molecules
                               |> List.choose (fun (s, _, _) ->
                                   geometry (geometryFile s) |> Option.map (fun text -> geometryFile s, text)))
                          Species = AllAtomInput.species sys
                          RdfPairs = AllAtomInput.rdfPairs sys })))
