module Finales.Md.Tests.RdfTests

open System
open Expecto
open FsCheck
open Finales.Md.Analysis

let private box (l: float) =
    { Lo = [| 0.0; 0.0; 0.0 |]
      Hi = [| l; l; l |] }

/// A random configuration for comparing pair searches: `frames` frames of `n` atoms of types 1..3 in a box of
/// edges `l` (x), `l * 0.75 + 1` (y) and `l * 1.25` (z) with its lower corner at `lo`, positions anywhere from
/// two edges below to two edges above the box (unwrapped), on a grid of `quantum` when it is positive.
let private configuration (seed: int) (n: int) (l: float) (lo: float) (quantum: float) =
    let rng = Random seed
    let edges = [| l; l * 0.75 + 1.0; l * 1.25 |]

    let b =
        { Lo = [| lo; lo; lo |]
          Hi = edges |> Array.map (fun e -> lo + e) }

    let coordinate (e: float) =
        let v = lo + (rng.NextDouble() * 5.0 - 2.0) * e

        if quantum > 0.0 then
            quantum * Math.Round(v / quantum)
        else
            v

    let types = Array.init n (fun _ -> rng.Next(1, 4))

    let frame () =
        [| for d in 0..2 -> Array.init n (fun _ -> coordinate edges[d]) |]

    b, types, frame

/// The pair selections the comparisons run over: A = B, A and B disjoint, A and B overlapping.
let private selections =
    [| [| 1 |], [| 1 |]; [| 1 |], [| 2 |]; [| 1; 2 |], [| 2; 3 |] |]

/// The histogram of an accumulator fed `frames` frames, as counts recovered from the running coordination.
let private runWith
    (kernel: RdfKernel)
    (search: RdfSearch)
    (pair: RdfPair)
    (types: int[])
    (b: Box)
    (frames: float[][][])
    =
    let acc = RdfAccumulator(pair, types, search, kernel)

    for f in frames do
        acc.Add(f[0], f[1], f[2], b)

    acc.Result()

let private run = runWith Vectorised

[<Tests>]
let tests =
    testList
        "md.rdf"
        [ testPropertyWithConfig
              { FsCheckConfig.defaultConfig with
                  maxTest = 20 }
              "a uniform random gas gives g(r) = 1 within its counting noise"
          <| fun (seed: int) (same: bool) ->
              let rng = Random seed
              let l = 20.0
              let n = 200
              let types = Array.init n (fun i -> i % 2 + 1)

              let pair =
                  { Name = "p"
                    TypesA = [| 1 |]
                    TypesB = (if same then [| 1 |] else [| 2 |])
                    RMax = 9.0
                    Bins = 30 }

              let acc = RdfAccumulator(pair, types)
              let frames = 20

              for _ in 1..frames do
                  let pos () =
                      Array.init n (fun _ -> rng.NextDouble() * l)

                  acc.Add(pos (), pos (), pos (), box l)

              let r = acc.Result()
              let nA = 100.0
              let pairs = if same then nA * (nA - 1.0) else nA * nA
              let width = 9.0 / 30.0

              // Each bin count is a sum of pair indicators: Poisson-like with mean frames * pairs * shell / V; an
              // ordered pair is counted twice when A = B, doubling the variance. 6 standard deviations.
              r.G
              |> Array.mapi (fun k g ->
                  let shell =
                      4.0 / 3.0 * Math.PI * (float (k + 1) ** 3.0 - float k ** 3.0) * width ** 3.0

                  let expected = float frames * pairs * shell / (l * l * l)
                  let sd = sqrt ((if same then 2.0 else 1.0) / expected)
                  abs (g - 1.0) <= 6.0 * sd)
              |> Array.forall id

          testCase "coordination counts the B atoms within r of an A atom"
          <| fun () ->
              // Two atoms 1.5 A apart across the periodic boundary, one far away.
              let types = [| 1; 2; 2 |]

              let pair =
                  { Name = "A-B"
                    TypesA = [| 1 |]
                    TypesB = [| 2 |]
                    RMax = 4.0
                    Bins = 8 }

              let acc = RdfAccumulator(pair, types)
              acc.Add([| 0.5; 9.0; 5.0 |], [| 1.0; 1.0; 5.0 |], [| 1.0; 1.0; 5.0 |], box 10.0)
              let r = acc.Result()
              Expect.floatClose Accuracy.high r.Coordination[2] 0.0 "none below 1.5 A"
              Expect.floatClose Accuracy.high r.Coordination[3] 1.0 "the minimum image at 1.5 A"
              Expect.floatClose Accuracy.high r.Coordination[7] 1.0 "the far atom is beyond 4 A"
              Expect.floatClose Accuracy.high r.R[3] 1.75 "bin centre"
          testCase "a distance on a bin edge falls in the upper bin and RMAX in the last (numpy.histogram's rule)"
          <| fun () ->
              let pair =
                  { Name = "A-B"
                    TypesA = [| 1 |]
                    TypesB = [| 2 |]
                    RMax = 0.3
                    Bins = 3 }

              // 0.1 and 0.2 are edges that 0.3 / 3 * k does not give exactly in binary; 0.3 is RMAX.
              let acc = RdfAccumulator(pair, [| 1; 2; 2; 2 |])
              acc.Add([| 0.0; 0.1; 0.0; 0.0 |], [| 0.0; 0.0; 0.2; 0.0 |], [| 0.0; 0.0; 0.0; 0.3 |], box 10.0)
              let n = acc.Result().Coordination
              Expect.equal n [| 0.0; 1.0; 3.0 |] "0.1 in bin 1, 0.2 in bin 2, 0.3 in bin 2"

          testPropertyWithConfig
              { FsCheckConfig.defaultConfig with
                  maxTest = 200 }
              "the cell list gives the all-pairs histogram bin for bin (small boxes, RMAX up to half the shortest edge)"
          <| fun (seed: int) (size: byte) (reach: byte) (atoms: byte) (selection: byte) (onGrid: bool) ->
              // Edges from 1 to 65 A, RMAX from a 64th of half the shortest edge up to exactly half: small boxes and
              // RMAX near L/2 degenerate to all pairs, large boxes with small RMAX use 3 or more cells per axis.
              let l = 1.0 + float (size % 65uy)
              let shortest = min l (l * 0.75 + 1.0)
              let rMax = shortest / 2.0 * float (reach % 64uy + 1uy) / 64.0

              let b, types, frame =
                  configuration seed (2 + int atoms % 120) l -3.5 (if onGrid then 1.0 / 64.0 else 0.0)

              let typesA, typesB = selections[int selection % selections.Length]

              let pair =
                  { Name = "p"
                    TypesA = typesA
                    TypesB = typesB
                    RMax = rMax
                    Bins = 1 + abs (seed % 40) }

              let frames = Array.init 3 (fun _ -> frame ())
              let cells = run CellList pair types b frames
              let all = run AllPairs pair types b frames
              // Same integer counts through the same arithmetic: the results are identical, not merely close.
              Expect.equal cells.Coordination all.Coordination "running coordination, bin for bin"
              Expect.equal cells.G all.G "g(r), bin for bin"

          testPropertyWithConfig
              { FsCheckConfig.defaultConfig with
                  maxTest = 200 }
              "the vectorised kernel gives the scalar reference kernel's histogram bin for bin (both searches)"
          <| fun (seed: int) (size: byte) (reach: byte) (atoms: byte) (selection: byte) (onGrid: bool) (cells: bool) ->
              let l = 1.0 + float (size % 65uy)
              let rMax = (l * 0.75 + 1.0 |> min l) / 2.0 * float (reach % 64uy + 1uy) / 64.0

              let b, types, frame =
                  configuration seed (2 + int atoms % 150) l 2.75 (if onGrid then 1.0 / 64.0 else 0.0)

              let typesA, typesB = selections[int selection % selections.Length]

              let pair =
                  { Name = "p"
                    TypesA = typesA
                    TypesB = typesB
                    RMax = rMax
                    Bins = 1 + abs (seed % 50) }

              let search = if cells then CellList else AllPairs
              let frames = Array.init 3 (fun _ -> frame ())
              let vector = runWith Vectorised search pair types b frames
              let scalar = runWith Scalar search pair types b frames
              // The same operations on the same numbers: identical integer counts, not merely close.
              Expect.equal vector.Coordination scalar.Coordination "running coordination, bin for bin"
              Expect.equal vector.G scalar.G "g(r), bin for bin"

          testPropertyWithConfig
              { FsCheckConfig.defaultConfig with
                  maxTest = 300 }
              "the vectorised kernel counts a range like the scalar kernel (any start, end and skipped position)"
          <| fun (seed: int) (n: byte) (from: byte) (count: byte) (skip: int) ->
              let rng = Random seed
              let n = int n % 40
              let lx, ly, lz = 9.0 + rng.NextDouble(), 7.5, 11.0 + rng.NextDouble()

              let coords (l: float) =
                  Array.init n (fun _ -> rng.NextDouble() * l)

              let bx, by, bz = coords lx, coords ly, coords lz
              let xi, yi, zi = rng.NextDouble() * lx, rng.NextDouble() * ly, rng.NextDouble() * lz
              let start = if n = 0 then 0 else int from % (n + 1)
              let stop = start + int count % (n - start + 1)
              let skip = if n = 0 then -1 else abs skip % (n + 1) - 1
              let vector = RdfHistogram(3.7, 17)
              let scalar = RdfHistogram(3.7, 17)
              vector.CountVector(xi, yi, zi, bx, by, bz, start, stop, skip, lx, ly, lz, 2L)
              scalar.CountScalar(xi, yi, zi, bx, by, bz, start, stop, skip, lx, ly, lz, 2L)
              Expect.equal vector.Counts scalar.Counts "counts, bin for bin"

          testPropertyWithConfig
              { FsCheckConfig.defaultConfig with
                  maxTest = 100 }
              "on a 1/64 A grid the histogram equals a direct count with Math.Round minimum image and numpy's bin edges"
          <| fun (seed: int) (size: byte) (reach: byte) (selection: byte) ->
              let l = 1.0 + float (size % 40uy)
              let rMax = (l * 0.75 + 1.0 |> min l) / 2.0 * float (reach % 16uy + 1uy) / 16.0
              let b, types, frame = configuration seed 60 l 1.25 (1.0 / 64.0)
              let typesA, typesB = selections[int selection % selections.Length]
              let bins = 7

              let pair =
                  { Name = "p"
                    TypesA = typesA
                    TypesB = typesB
                    RMax = rMax
                    Bins = bins }

              let frames = Array.init 2 (fun _ -> frame ())
              let result = run CellList pair types b frames

              let edges =
                  Array.init (bins + 1) (fun k -> if k = bins then rMax else float k * rMax / float bins)

              let lengths = b.Lengths
              let counts = Array.zeroCreate bins
              let inA = Array.map (fun t -> Array.contains t typesA) types
              let inB = Array.map (fun t -> Array.contains t typesB) types

              // Every ordered pair i in A, j in B, i <> j, with the coordinates as given (not wrapped).
              for f in frames do
                  for i in 0 .. types.Length - 1 do
                      for j in 0 .. types.Length - 1 do
                          if inA[i] && inB[j] && i <> j then
                              let r =
                                  [| 0..2 |]
                                  |> Array.sumBy (fun d ->
                                      let v = f[d][j] - f[d][i]
                                      let m = v - lengths[d] * Math.Round(v / lengths[d])
                                      m * m)
                                  |> sqrt

                              if r <= rMax then
                                  let k = [| 0 .. bins - 1 |] |> Array.findBack (fun k -> edges[k] <= r)

                                  counts[k] <- counts[k] + 1.0

              let countA = inA |> Array.filter id |> Array.length |> float

              let expected =
                  counts
                  |> Array.scan (+) 0.0
                  |> Array.tail
                  |> Array.map (fun c -> if countA > 0.0 then c / (2.0 * countA) else 0.0)

              Expect.equal result.Coordination expected "running coordination from the direct count" ]
