namespace Finales.Md.Analysis

open Finales.Core

/// A synthetic trajectory with known answers: independent Gaussian random walkers (a uniform ideal gas at
/// every frame when they start uniformly), for the tests and `./finales bench md-analysis`.
type RandomWalk =
    {
        Seed: uint64
        Atoms: int
        Frames: int
        /// Cubic box edge, Angstrom.
        BoxA: float
        /// Standard deviation of each Cartesian step per frame, Angstrom.
        StepA: float
        /// Timesteps between frames (the dump's TIMESTEP advances by this much).
        Stride: int
        /// Atom types cycle through 1..TypeCount; atom i has type (i mod TypeCount) + 1.
        TypeCount: int
        /// Charge of each type (index type-1), e.
        TypeCharges: float[]
        /// Write positions wrapped into the box (`x y z`) instead of unwrapped (`xu yu zu`).
        Wrapped: bool
        /// Positions are written rounded to multiples of this (Angstrom; 0 = not rounded beyond the dump's 6
        /// decimals). A power of two down to 1/64 makes every written coordinate exact in 6 decimals and in 32-bit
        /// floats, so that another program reading the file sees the very same numbers (bench md-analysis uses 1/8).
        QuantumA: float
    }

/// Generating synthetic frames.
[<RequireQualifiedAccess>]
module Synthetic =
    /// The exact self-diffusion coefficient of a walk, Angstrom^2/fs: D = step^2 / (2 dt), dt the time
    /// between frames in fs.
    let diffusionA2PerFs (walk: RandomWalk) (timestepFs: float) : float =
        walk.StepA * walk.StepA / (2.0 * float walk.Stride * timestepFs)

    /// The frames of the walk, generated lazily one at a time (same seed, same frames). Molecule ids are the
    /// atom ids (every atom its own molecule); masses are not written.
    let frames (walk: RandomWalk) : seq<Frame> =
        seq {
            let n = walk.Atoms
            let mutable rng = Rng.create walk.Seed

            let draw () =
                let v, next = Rng.nextFloat rng
                rng <- next
                v

            let normal () =
                let v, next = Rng.nextNormal rng
                rng <- next
                v

            let x = Array.init n (fun _ -> draw () * walk.BoxA)
            let y = Array.init n (fun _ -> draw () * walk.BoxA)
            let z = Array.init n (fun _ -> draw () * walk.BoxA)
            let types = Array.init n (fun i -> i % walk.TypeCount + 1)
            let charges = types |> Array.map (fun t -> walk.TypeCharges[t - 1])
            let ids = Array.init n (fun i -> i + 1)

            let box =
                { Lo = [| 0.0; 0.0; 0.0 |]
                  Hi = [| walk.BoxA; walk.BoxA; walk.BoxA |] }

            let wrap (v: float) =
                let w = v - walk.BoxA * floor (v / walk.BoxA)
                if w >= walk.BoxA then 0.0 else w

            for t in 0 .. walk.Frames - 1 do
                if t > 0 then
                    for i in 0 .. n - 1 do
                        x[i] <- x[i] + walk.StepA * normal ()
                        y[i] <- y[i] + walk.StepA * normal ()
                        z[i] <- z[i] + walk.StepA * normal ()

                let quantise (v: float) =
                    if walk.QuantumA > 0.0 then
                        walk.QuantumA * System.Math.Round(v / walk.QuantumA)
                    else
                        v

                let out (a: float[]) =
                    Array.map (fun v -> quantise (if walk.Wrapped then wrap v else v)) a

                yield
                    { Timestep = int64 t * int64 walk.Stride
                      Box = box
                      Ids = ids
                      Types = types
                      Mols = Some ids
                      Charges = Some charges
                      Masses = None
                      X = out x
                      Y = out y
                      Z = out z
                      Coordinates = (if walk.Wrapped then Wrapped else Unwrapped) }
        }

    /// The dump text of the walk, line by line (lazily).
    let dumpLines (walk: RandomWalk) : seq<string> = frames walk |> Seq.collect Dump.write
