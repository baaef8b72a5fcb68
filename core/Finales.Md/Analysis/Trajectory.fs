namespace Finales.Md.Analysis

open System
open System.Collections.Generic

/// The units (molecules or atoms) of one species: for each unit its atom indices (in frame order) and the
/// atoms' mass fractions within the unit.
type SpeciesUnits =
    { Species: Species
      Atoms: int[][]
      Weights: float[][] }

/// Unwrapping of wrapped coordinates: each atom moves by the minimum image of its displacement since the
/// previous frame (valid while no atom moves more than half a box edge between frames).
[<RequireQualifiedAccess>]
module Unwrap =
    /// The minimum image of a displacement along an edge of length `l`.
    let minimumImage (l: float) (d: float) : float = d - l * Math.Round(d / l)

    /// The next unwrapped position from the previous unwrapped and wrapped ones and the new wrapped one.
    let step (l: float) (previousUnwrapped: float) (previousWrapped: float) (wrapped: float) : float =
        previousUnwrapped + minimumImage l (wrapped - previousWrapped)

/// Which atoms make which unit of which species, decided from the first frame.
[<RequireQualifiedAccess>]
module SpeciesUnits =
    /// The units of every species in a frame; an error names the species or type that cannot be resolved.
    /// Masses: the dump's mass column, else `typeMasses`; needed only for units of more than one atom.
    let ofFrame
        (species: Species list)
        (typeMasses: IReadOnlyDictionary<int, float>)
        (frame: Frame)
        : Result<SpeciesUnits list, string> =
        let massOf (i: int) : float option =
            match frame.Masses with
            | Some m -> Some m[i]
            | None ->
                match typeMasses.TryGetValue frame.Types[i] with
                | true, m -> Some m
                | _ -> None

        let build (s: Species) : Result<SpeciesUnits, string> =
            let atoms =
                [| for i in 0 .. frame.Types.Length - 1 do
                       if Array.contains frame.Types[i] s.AtomTypes then
                           i |]

            if atoms.Length = 0 then
                Error $"species '{s.Name}': no atom of type {String.Join('+', s.AtomTypes)} in the first frame"
            elif not s.ByMolecule then
                Ok
                    { Species = s
                      Atoms = atoms |> Array.map (fun i -> [| i |])
                      Weights = atoms |> Array.map (fun _ -> [| 1.0 |]) }
            else
                match frame.Mols with
                | None -> Error $"species '{s.Name}' is by molecule but the dump has no 'mol' column"
                | Some mols ->
                    let units = atoms |> Array.groupBy (fun i -> mols[i]) |> Array.map snd

                    let missing =
                        units
                        |> Array.filter (fun u -> u.Length > 1)
                        |> Array.collect id
                        |> Array.filter (fun i -> (massOf i).IsNone)
                        |> Array.map (fun i -> frame.Types[i])
                        |> Array.distinct

                    let missingText = String.Join(", ", missing)

                    if missing.Length > 0 then
                        Error
                            $"species '{s.Name}': no mass for atom type(s) {missingText} (give type masses or dump a 'mass' column)"
                    else
                        let weights =
                            units
                            |> Array.map (fun u ->
                                if u.Length = 1 then
                                    [| 1.0 |]
                                else
                                    let ms = u |> Array.map (fun i -> (massOf i).Value)
                                    let total = Array.sum ms
                                    ms |> Array.map (fun m -> m / total))

                        Ok
                            { Species = s
                              Atoms = units
                              Weights = weights }

        species
        |> List.map build
        |> List.fold
            (fun acc r ->
                match acc, r with
                | Ok xs, Ok x -> Ok(x :: xs)
                | Error e, Ok _ -> Error e
                | Ok _, Error e -> Error e
                | Error a, Error b -> Error(a + "; " + b))
            (Ok [])
        |> Result.map List.rev

/// Positions of every unit of one species, frame after frame, as compact 32-bit floats: O(frames x units x 3)
/// numbers, the only part of the analysis that grows with the trajectory length (4 bytes x 3 per unit and
/// frame, e.g. 2,000 frames x 1,000 units = 24 MB). 32 bits keep 7 significant digits of an unwrapped
/// coordinate (1e-4 Angstrom at 1,000 Angstrom).
type ComStore(units: int) =
    let frames = List<float32[]>()

    member _.Units = units
    member _.Frames = frames.Count
    member _.Add(positions: float32[]) = frames.Add positions

    /// The x, y, z series of one unit over all frames.
    member _.Series(u: int) : float[] * float[] * float[] =
        let n = frames.Count
        let x = Array.zeroCreate n
        let y = Array.zeroCreate n
        let z = Array.zeroCreate n

        for t in 0 .. n - 1 do
            let f = frames[t]
            x[t] <- float f[3 * u]
            y[t] <- float f[3 * u + 1]
            z[t] <- float f[3 * u + 2]

        x, y, z

    /// The same store over frames [start, start+count) (for block averages).
    member _.Slice(start: int, count: int) : ComStore =
        let s = ComStore units

        for t in start .. start + count - 1 do
            s.Add frames[t]

        s

/// The streaming state of the analysis between frames: unwrapping (for wrapped dumps), the per-species
/// centre-of-mass store and the collective charge displacement M(t) = sum_i z_i r_i(t) (e Angstrom).
type TrajectoryState(units: SpeciesUnits list, first: Frame) =
    let n = first.Ids.Length
    let wrapped = first.Coordinates = Wrapped
    let prevWrapped = Array.init 3 (fun _ -> Array.zeroCreate<float> n)
    let unwrapped = Array.init 3 (fun _ -> Array.zeroCreate<float> n)
    let stores = units |> List.map (fun u -> ComStore u.Atoms.Length) |> Array.ofList
    let unitsArr = Array.ofList units
    let collective = List<float>()
    let mutable started = false

    member _.Stores = stores
    member _.Units = unitsArr

    /// M(t) as x, y, z series.
    member _.Collective: float[] * float[] * float[] =
        let c = collective.ToArray()
        let k = c.Length / 3
        Array.init k (fun t -> c[3 * t]), Array.init k (fun t -> c[3 * t + 1]), Array.init k (fun t -> c[3 * t + 2])

    /// The unwrapped positions of the frame's atoms (the frame's own arrays when it is unwrapped already).
    member _.Positions(frame: Frame) : float[][] =
        if not wrapped then
            [| frame.X; frame.Y; frame.Z |]
        else
            let l = frame.Box.Lengths
            let w = [| frame.X; frame.Y; frame.Z |]

            if not started then
                for d in 0..2 do
                    Array.blit w[d] 0 unwrapped[d] 0 n
                // Make each molecule whole: every atom at the image nearest the molecule's first atom.
                for u in unitsArr do
                    for atoms in u.Atoms do
                        let a0 = atoms[0]

                        for i in atoms do
                            for d in 0..2 do
                                let edge = l[d]
                                let anchor = w[d][a0]
                                unwrapped[d][i] <- anchor + Unwrap.minimumImage edge (w[d][i] - anchor)
            else
                for d in 0..2 do
                    for i in 0 .. n - 1 do
                        let edge = l[d]
                        let previous = unwrapped[d][i]
                        let previousWrapped = prevWrapped[d][i]
                        let current = w[d][i]
                        unwrapped[d][i] <- Unwrap.step edge previous previousWrapped current

            for d in 0..2 do
                Array.blit w[d] 0 prevWrapped[d] 0 n

            unwrapped

    /// Adds a frame: centres of mass into the stores, M(t) into the collective series.
    member this.Add(frame: Frame) =
        let p = this.Positions frame
        started <- true
        let mutable mx, my, mz = 0.0, 0.0, 0.0

        for s in 0 .. unitsArr.Length - 1 do
            let u = unitsArr[s]
            let out = Array.zeroCreate (3 * u.Atoms.Length)
            let z = u.Species.Charge

            for k in 0 .. u.Atoms.Length - 1 do
                let atoms = u.Atoms[k]
                let w = u.Weights[k]
                let mutable cx, cy, cz = 0.0, 0.0, 0.0

                for j in 0 .. atoms.Length - 1 do
                    let i = atoms[j]
                    cx <- cx + w[j] * p[0][i]
                    cy <- cy + w[j] * p[1][i]
                    cz <- cz + w[j] * p[2][i]

                out[3 * k] <- float32 cx
                out[3 * k + 1] <- float32 cy
                out[3 * k + 2] <- float32 cz
                mx <- mx + z * cx
                my <- my + z * cy
                mz <- mz + z * cz

            stores[s].Add out

        collective.Add mx
        collective.Add my
        collective.Add mz
