namespace Finales.Md.Analysis

/// A pair of atom-type groups whose radial distribution function is wanted.
type RdfPair =
    {
        Name: string
        TypesA: int[]
        TypesB: int[]
        /// The largest distance, Angstrom; at most half the shortest box edge (minimum image).
        RMax: float
        Bins: int
    }

/// A finished RDF: bin centres, g(r) and the running coordination number n(r) = the mean number of B atoms
/// within r of an A atom (4 pi rho_B integral_0^r g(s) s^2 ds, summed bin by bin).
type RdfResult =
    { Name: string
      R: float[]
      G: float[]
      Coordination: float[]
      CountA: int
      CountB: int }

/// The RDF of one pair accumulated frame by frame (memory: the histogram and the two index lists).
/// Distances by the minimum-image convention in an orthorhombic box. Ordered pairs (i in A, j in B, i <> j)
/// are counted and normalised by the number of such pairs, the mean box volume and the frame count, so an
/// ideal gas gives g = 1 and A = B is handled without counting an atom with itself (the normalisation of
/// MDAnalysis's InterRDF with `exclusion_block=(1, 1)` for identical groups).
type RdfAccumulator(pair: RdfPair, types: int[]) =
    let a =
        [| for i in 0 .. types.Length - 1 do
               if Array.contains types[i] pair.TypesA then
                   i |]

    let b =
        [| for i in 0 .. types.Length - 1 do
               if Array.contains types[i] pair.TypesB then
                   i |]

    let bSet = System.Collections.Generic.HashSet<int>(b)
    let overlap = a |> Array.filter bSet.Contains |> Array.length
    let counts: int64[] = Array.zeroCreate pair.Bins
    let width = pair.RMax / float pair.Bins
    let mutable frames = 0
    let mutable volumeSum = 0.0

    member _.Pair = pair
    member _.CountA = a.Length
    member _.CountB = b.Length

    /// Adds one frame's distances (positions in Angstrom, in atom order of `types`).
    member _.Add(x: float[], y: float[], z: float[], box: Box) =
        let l = box.Lengths
        let lx, ly, lz = l[0], l[1], l[2]
        let r2max = pair.RMax * pair.RMax
        let inv = 1.0 / width

        for i in a do
            let xi, yi, zi = x[i], y[i], z[i]

            for j in b do
                if i <> j then
                    let mutable dx = x[j] - xi
                    let mutable dy = y[j] - yi
                    let mutable dz = z[j] - zi
                    dx <- dx - lx * System.Math.Round(dx / lx)
                    dy <- dy - ly * System.Math.Round(dy / ly)
                    dz <- dz - lz * System.Math.Round(dz / lz)
                    let r2 = dx * dx + dy * dy + dz * dz

                    if r2 <= r2max then
                        let k = min (pair.Bins - 1) (int (sqrt r2 * inv))
                        counts[k] <- counts[k] + 1L

        frames <- frames + 1
        volumeSum <- volumeSum + box.Volume

    /// g(r) and n(r) from the frames added so far.
    member _.Result() : RdfResult =
        let pairs = float a.Length * float b.Length - float overlap
        let meanVolume = if frames > 0 then volumeSum / float frames else 0.0
        let r = Array.init pair.Bins (fun k -> (float k + 0.5) * width)

        let g =
            Array.init pair.Bins (fun k ->
                let lo, hi = float k * width, float (k + 1) * width
                let shell = 4.0 / 3.0 * System.Math.PI * (hi * hi * hi - lo * lo * lo)
                let norm = float frames * shell * pairs / meanVolume
                if norm > 0.0 then float counts[k] / norm else 0.0)

        let coordination =
            let c = Array.zeroCreate pair.Bins
            let mutable s = 0.0

            for k in 0 .. pair.Bins - 1 do
                s <- s + float counts[k]

                c[k] <-
                    if frames > 0 && a.Length > 0 then
                        s / (float frames * float a.Length)
                    else
                        0.0

            c

        { Name = pair.Name
          R = r
          G = g
          Coordination = coordination
          CountA = a.Length
          CountB = b.Length }
