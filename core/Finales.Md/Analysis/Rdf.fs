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

/// The RDF of one pair accumulated frame by frame (memory: the histogram, the two index lists and per-frame scratch
/// arrays of the atom count, allocated once). Distances by the minimum-image convention in an orthorhombic box:
/// positions are wrapped into the box once per frame and a difference beyond half an edge is shifted by one edge.
/// Ordered pairs (i in A, j in B, i <> j) are counted and normalised by the number of such pairs, the mean box
/// volume and the frame count, so an ideal gas gives g = 1 and A = B is handled without counting an atom with
/// itself (the normalisation of MDAnalysis's InterRDF with `exclusion_block=(1, 1)` for identical groups).
type RdfAccumulator(pair: RdfPair, types: int[], search: RdfSearch) =
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

    /// Bin edges as numpy.linspace(0, RMax, Bins + 1) makes them (i * step, the last exactly RMax), so that a
    /// distance falls in the bin numpy.histogram (MDAnalysis's InterRDF) would put it in.
    let edges =
        Array.init (pair.Bins + 1) (fun i -> if i = pair.Bins then pair.RMax else float i * width)

    let norm = float pair.Bins / pair.RMax
    /// A = B: each unordered pair once, counted twice.
    let symmetric = a = b
    let weight = if symmetric then 2L else 1L
    let r2max = pair.RMax * pair.RMax

    // Wrapped positions by atom index (only A and B atoms are written), and B's copied contiguously.
    let wx: float[] = Array.zeroCreate types.Length
    let wy: float[] = Array.zeroCreate types.Length
    let wz: float[] = Array.zeroCreate types.Length
    let bx: float[] = Array.zeroCreate b.Length
    let by: float[] = Array.zeroCreate b.Length
    let bz: float[] = Array.zeroCreate b.Length
    // Cell list of B: the first atom (position in b) of each cell and the next in its cell, -1 ending a chain.
    let mutable head: int[] = [||]
    let next: int[] = Array.zeroCreate b.Length

    let bin (r: float) : int =
        let mutable k = int (r * norm)

        if k >= pair.Bins then
            k <- pair.Bins - 1

        if r < edges[k] then
            k <- k - 1
        elif k <> pair.Bins - 1 && r >= edges[k + 1] then
            k <- k + 1

        k

    /// The minimum-image component of a difference of wrapped coordinates (|d| < l).
    static member inline private Image(d: float, l: float, half: float) : float =
        if d > half then d - l
        elif d < -half then d + l
        else d

    /// An accumulator that uses the cell list.
    new(pair: RdfPair, types: int[]) = RdfAccumulator(pair, types, CellList)

    member _.Pair = pair
    member _.CountA = a.Length
    member _.CountB = b.Length

    member private _.Wrap(src: float[], dst: float[], lo: float, l: float) =
        let inline put (i: int) =
            let v = src[i] - lo
            let mutable w = v - l * floor (v / l)

            if w >= l then
                w <- w - l

            dst[i] <- w

        for i in a do
            put i

        for i in b do
            put i

    member private _.AllPairs(lx: float, ly: float, lz: float) =
        let hx, hy, hz = lx / 2.0, ly / 2.0, lz / 2.0

        for jb in 0 .. b.Length - 1 do
            let j = b[jb]
            bx[jb] <- wx[j]
            by[jb] <- wy[j]
            bz[jb] <- wz[j]

        for ia in 0 .. a.Length - 1 do
            let i = a[ia]
            let xi, yi, zi = wx[i], wy[i], wz[i]

            for jb in (if symmetric then ia + 1 else 0) .. b.Length - 1 do
                let dx = RdfAccumulator.Image(bx[jb] - xi, lx, hx)
                let dy = RdfAccumulator.Image(by[jb] - yi, ly, hy)
                let dz = RdfAccumulator.Image(bz[jb] - zi, lz, hz)
                let r2 = dx * dx + dy * dy + dz * dz

                if r2 <= r2max && b[jb] <> i then
                    let k = bin (sqrt r2)
                    counts[k] <- counts[k] + weight

    member private _.Cells(lx: float, ly: float, lz: float, nx: int, ny: int, nz: int) =
        let hx, hy, hz = lx / 2.0, ly / 2.0, lz / 2.0
        let cells = nx * ny * nz

        if head.Length < cells then
            head <- Array.zeroCreate cells

        System.Array.Fill(head, -1, 0, cells)
        let cx, cy, cz = float nx / lx, float ny / ly, float nz / lz

        let inline cell (v: float, scale: float, n: int) = min (n - 1) (int (v * scale))

        for jb in 0 .. b.Length - 1 do
            let j = b[jb]

            let c =
                (cell (wx[j], cx, nx) * ny + cell (wy[j], cy, ny)) * nz + cell (wz[j], cz, nz)

            next[jb] <- head[c]
            head[c] <- jb

        for i in a do
            let xi, yi, zi = wx[i], wy[i], wz[i]
            let ix, iy, iz = cell (xi, cx, nx), cell (yi, cy, ny), cell (zi, cz, nz)

            for ox in -1 .. 1 do
                let px = (ix + ox + nx) % nx

                for oy in -1 .. 1 do
                    let py = (iy + oy + ny) % ny

                    for oz in -1 .. 1 do
                        let mutable jb = head[(px * ny + py) * nz + (iz + oz + nz) % nz]

                        while jb >= 0 do
                            let j = b[jb]

                            if (if symmetric then j > i else j <> i) then
                                let dx = RdfAccumulator.Image(wx[j] - xi, lx, hx)
                                let dy = RdfAccumulator.Image(wy[j] - yi, ly, hy)
                                let dz = RdfAccumulator.Image(wz[j] - zi, lz, hz)
                                let r2 = dx * dx + dy * dy + dz * dz

                                if r2 <= r2max then
                                    let k = bin (sqrt r2)
                                    counts[k] <- counts[k] + weight

                            jb <- next[jb]

    /// Adds one frame's distances (positions in Angstrom, in atom order of `types`).
    member this.Add(x: float[], y: float[], z: float[], box: Box) =
        let l = box.Lengths
        let lx, ly, lz = l[0], l[1], l[2]
        this.Wrap(x, wx, box.Lo[0], lx)
        this.Wrap(y, wy, box.Lo[1], ly)
        this.Wrap(z, wz, box.Lo[2], lz)
        // Cells a little wider than RMax, so that no rounding of a cell index can hide a pair within RMax, and not
        // more per axis than about twice the cube root of B's size (wider cells stay correct, only slower).
        let most = max 3 (2 * int (ceil (System.Math.Cbrt(float b.Length))))

        let cellsOn (l: float) =
            min most (int (l / (pair.RMax * (1.0 + 1e-9))))

        let nx, ny, nz = cellsOn lx, cellsOn ly, cellsOn lz

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
