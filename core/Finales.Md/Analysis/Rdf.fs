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

/// How an RdfAccumulator finds the pairs within RMax: `CellList` bins the B atoms into cells at least RMax wide and
/// looks only in the 27 cells around an A atom (falling back to all pairs when an axis has fewer than 3 cells);
/// `AllPairs` looks at every pair. Both compute each distance the same way, so they give the same histogram.
type RdfSearch =
    | CellList
    | AllPairs

/// The RDF of one pair accumulated frame by frame (memory: the histogram, the index lists and per-frame scratch
/// arrays of the atom count, allocated once; nothing is allocated per frame once the cell grid has reached its
/// largest size). Distances by the minimum-image convention in an orthorhombic box: positions are wrapped into the
/// box once per frame (into structure-of-arrays copies of A and B) and a difference beyond half an edge is shifted by
/// one edge (RdfHistogram). Ordered pairs (i in A, j in B, i <> j) are counted and normalised by the number of such
/// pairs, the mean box volume and the frame count, so an ideal gas gives g = 1 and A = B is handled without counting
/// an atom with itself (the normalisation of MDAnalysis's InterRDF with `exclusion_block=(1, 1)` for identical groups).
type RdfAccumulator(pair: RdfPair, types: int[], search: RdfSearch, kernel: RdfKernel) =
    let a =
        [| for i in 0 .. types.Length - 1 do
               if Array.contains types[i] pair.TypesA then
                   i |]

    let b =
        [| for i in 0 .. types.Length - 1 do
               if Array.contains types[i] pair.TypesB then
                   i |]

    /// The position in b of each atom (-1 when not in B), so that an A atom that is also in B skips itself.
    let inB =
        let p = Array.create types.Length -1

        for jb in 0 .. b.Length - 1 do
            p[b[jb]] <- jb

        p

    let overlap = a |> Array.filter (fun i -> inB[i] >= 0) |> Array.length
    let histogram = RdfHistogram(pair.RMax, pair.Bins)
    let width = pair.RMax / float pair.Bins
    let mutable frames = 0
    let mutable volumeSum = 0.0

    /// A = B: each unordered pair once, counted twice.
    let symmetric = a = b

    // Wrapped positions of A and of B, each contiguous.
    let ax: float[] = Array.zeroCreate a.Length
    let ay: float[] = Array.zeroCreate a.Length
    let az: float[] = Array.zeroCreate a.Length
    let bx: float[] = Array.zeroCreate b.Length
    let by: float[] = Array.zeroCreate b.Length
    let bz: float[] = Array.zeroCreate b.Length
    // Cell list of B: B's wrapped positions sorted by cell (sx, sy, sz), the cell of each B atom, the first sorted
    // position of each cell (cell c holds [start[c], start[c + 1])), and the sorted position of each B atom.
    let sx: float[] = Array.zeroCreate b.Length
    let sy: float[] = Array.zeroCreate b.Length
    let sz: float[] = Array.zeroCreate b.Length
    let cellOf: int[] = Array.zeroCreate b.Length
    let sorted: int[] = Array.zeroCreate b.Length
    let mutable start: int[] = [||]

    static member private Wrap(src: float[], atoms: int[], dst: float[], lo: float, l: float) =
        for n in 0 .. atoms.Length - 1 do
            let v = src[atoms[n]] - lo
            let mutable w = v - l * floor (v / l)

            if w >= l then
                w <- w - l

            dst[n] <- w

    /// Cells a little wider than RMax, so that no rounding of a cell index can hide a pair within RMax, and not more
    /// than `most` per axis (wider cells stay correct, only slower).
    static member private CellsOn(l: float, rMax: float, most: int) =
        min most (int (l / (rMax * (1.0 + 1e-9))))

    /// An accumulator with the vectorised kernel.
    new(pair: RdfPair, types: int[], search: RdfSearch) = RdfAccumulator(pair, types, search, Vectorised)

    /// An accumulator that uses the cell list and the vectorised kernel.
    new(pair: RdfPair, types: int[]) = RdfAccumulator(pair, types, CellList, Vectorised)

    member _.Pair = pair
    member _.CountA = a.Length
    member _.CountB = b.Length

    member private _.AllPairs(lx: float, ly: float, lz: float) =
        if symmetric then
            for ia in 0 .. a.Length - 1 do
                histogram.Count(kernel, ax[ia], ay[ia], az[ia], bx, by, bz, ia + 1, b.Length, -1, lx, ly, lz, 2L)
        else
            for ia in 0 .. a.Length - 1 do
                let i = a[ia]
                histogram.Count(kernel, ax[ia], ay[ia], az[ia], bx, by, bz, 0, b.Length, inB[i], lx, ly, lz, 1L)

    /// Every A atom against the B atoms of its 27 neighbouring cells (at least 3 cells per axis, so the 27 are
    /// distinct). Each ordered pair is counted once with weight 1, also when A = B (the all-pairs path counts each
    /// unordered pair once with weight 2: the same counts, since a pair's distance is the same either way round).
    member private _.Cells(lx: float, ly: float, lz: float, nx: int, ny: int, nz: int) =
        let cells = nx * ny * nz

        if start.Length < cells + 1 then
            start <- Array.zeroCreate (cells + 1)

        System.Array.Clear(start, 0, cells + 1)
        let cx, cy, cz = float nx / lx, float ny / ly, float nz / lz

        let inline cell (v: float, scale: float, n: int) = min (n - 1) (int (v * scale))

        // Counting sort of B by cell: counts in start[c + 1], prefix sums, then each atom to its slot.
        for jb in 0 .. b.Length - 1 do
            let c =
                (cell (bx[jb], cx, nx) * ny + cell (by[jb], cy, ny)) * nz
                + cell (bz[jb], cz, nz)

            cellOf[jb] <- c
            start[c + 1] <- start[c + 1] + 1

        for c in 1..cells do
            start[c] <- start[c] + start[c - 1]

        for jb in 0 .. b.Length - 1 do
            let c = cellOf[jb]
            let p = start[c]
            start[c] <- p + 1
            sorted[jb] <- p
            sx[p] <- bx[jb]
            sy[p] <- by[jb]
            sz[p] <- bz[jb]

        // The placement moved each start to the next cell's; shift back.
        for c in cells .. -1 .. 1 do
            start[c] <- start[c - 1]

        start[0] <- 0

        for ia in 0 .. a.Length - 1 do
            let xi, yi, zi = ax[ia], ay[ia], az[ia]
            let jb = inB[a[ia]]
            let skip = if jb >= 0 then sorted[jb] else -1
            let ix, iy, iz = cell (xi, cx, nx), cell (yi, cy, ny), cell (zi, cz, nz)

            for ox in -1 .. 1 do
                let px = (ix + ox + nx) % nx

                for oy in -1 .. 1 do
                    let py = (iy + oy + ny) % ny

                    for oz in -1 .. 1 do
                        let c = (px * ny + py) * nz + (iz + oz + nz) % nz
                        histogram.Count(kernel, xi, yi, zi, sx, sy, sz, start[c], start[c + 1], skip, lx, ly, lz, 1L)

    /// Adds one frame's distances (positions in Angstrom, in atom order of `types`).
    member this.Add(x: float[], y: float[], z: float[], box: Box) =
        let lx, ly, lz = box.Hi[0] - box.Lo[0], box.Hi[1] - box.Lo[1], box.Hi[2] - box.Lo[2]
        RdfAccumulator.Wrap(x, a, ax, box.Lo[0], lx)
        RdfAccumulator.Wrap(y, a, ay, box.Lo[1], ly)
        RdfAccumulator.Wrap(z, a, az, box.Lo[2], lz)
        RdfAccumulator.Wrap(x, b, bx, box.Lo[0], lx)
        RdfAccumulator.Wrap(y, b, by, box.Lo[1], ly)
        RdfAccumulator.Wrap(z, b, bz, box.Lo[2], lz)
        // At most about twice the cube root of B's size cells per axis.
        let most = max 3 (2 * int (ceil (System.Math.Cbrt(float b.Length))))

        let nx, ny, nz =
            RdfAccumulator.CellsOn(lx, pair.RMax, most),
            RdfAccumulator.CellsOn(ly, pair.RMax, most),
            RdfAccumulator.CellsOn(lz, pair.RMax, most)

        if search = CellList && nx >= 3 && ny >= 3 && nz >= 3 then
            this.Cells(lx, ly, lz, nx, ny, nz)
        else
            this.AllPairs(lx, ly, lz)

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
                if norm > 0.0 then float histogram.Counts[k] / norm else 0.0)

        let coordination =
            let c = Array.zeroCreate pair.Bins
            let mutable s = 0.0

            for k in 0 .. pair.Bins - 1 do
                s <- s + float histogram.Counts[k]

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
