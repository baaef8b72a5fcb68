namespace Finales.Md.Analysis

open System
open System.Globalization

/// An orthorhombic simulation box from a dump's `ITEM: BOX BOUNDS` (Angstrom). Triclinic boxes are refused.
type Box =
    { Lo: float[]
      Hi: float[] }

    /// The edge lengths (x, y, z).
    member b.Lengths = [| b.Hi[0] - b.Lo[0]; b.Hi[1] - b.Lo[1]; b.Hi[2] - b.Lo[2] |]
    /// The volume, Angstrom^3.
    member b.Volume = (b.Hi[0] - b.Lo[0]) * (b.Hi[1] - b.Lo[1]) * (b.Hi[2] - b.Lo[2])

/// How the positions of a frame were written.
type Coordinates =
    /// `xu yu zu` (or `xsu ysu zsu`): already unwrapped.
    | Unwrapped
    /// `x y z` with image flags `ix iy iz`: unwrapped on reading.
    | WithImages
    /// `x y z` only: wrapped into the box; the trajectory unwraps them from frame to frame (Unwrap).
    | Wrapped

/// One frame of a LAMMPS `dump custom`, its atoms in ascending id order. Positions are Cartesian Angstrom
/// (scaled columns are converted); unwrapped unless `Coordinates = Wrapped`.
type Frame =
    {
        Timestep: int64
        Box: Box
        Ids: int[]
        Types: int[]
        /// The `mol` column, when present.
        Mols: int[] option
        /// The `q` column (e), when present.
        Charges: float[] option
        /// The `mass` column (g/mol), when present.
        Masses: float[] option
        X: float[]
        Y: float[]
        Z: float[]
        Coordinates: Coordinates
    }

/// Why a dump could not be read; every message names the line and what was wrong.
type DumpError = DumpError of string

/// A streaming reader (and a writer, for tests and synthetic trajectories) of LAMMPS `dump custom` text.
/// Columns are found by name from the `ITEM: ATOMS` header, so any column order and extra columns work.
/// Memory: one frame at a time; the caller decides what it keeps.
[<RequireQualifiedAccess>]
module Dump =
    let private inv = CultureInfo.InvariantCulture

    /// Splits a line on blanks into at most `max` tokens (start, length) without allocating substrings.
    let private tokenize (line: string) (starts: int[]) (lengths: int[]) : int =
        let mutable n = 0
        let mutable i = 0
        let len = line.Length

        while i < len do
            while i < len && Char.IsWhiteSpace line[i] do
                i <- i + 1

            if i < len then
                let s = i

                while i < len && not (Char.IsWhiteSpace line[i]) do
                    i <- i + 1

                if n < starts.Length then
                    starts[n] <- s
                    lengths[n] <- i - s

                n <- n + 1

        n

    let private parseFloat (line: string) (s: int) (l: int) : float voption =
        match Double.TryParse(line.AsSpan(s, l), NumberStyles.Float, inv) with
        | true, v -> ValueSome v
        | _ -> ValueNone

    let private parseInt (line: string) (s: int) (l: int) : int voption =
        match Int32.TryParse(line.AsSpan(s, l), NumberStyles.Integer, inv) with
        | true, v -> ValueSome v
        | _ ->
            // LAMMPS may write integer-valued columns as floats (e.g. "3.0"); accept exact integers only.
            match Double.TryParse(line.AsSpan(s, l), NumberStyles.Float, inv) with
            | true, v when v = Math.Round v && abs v < 2e9 -> ValueSome(int v)
            | _ -> ValueNone

    /// Where the position columns are, by name.
    type private Layout =
        { Count: int
          Id: int
          Type: int
          Mol: int
          Q: int
          Mass: int
          Pos: int[]
          Images: int[]
          Scaled: bool
          Coordinates: Coordinates }

    let private layoutOf (header: string[]) (lineNo: int) : Result<Layout, DumpError> =
        let find name = Array.IndexOf(header, name)
        let triple (a, b, c) = [| find a; find b; find c |]
        let has (cols: int[]) = cols |> Array.forall (fun i -> i >= 0)
        let columns = String.Join(" ", header)

        let pos, scaled, coords =
            if has (triple ("xu", "yu", "zu")) then
                triple ("xu", "yu", "zu"), false, Unwrapped
            elif has (triple ("xsu", "ysu", "zsu")) then
                triple ("xsu", "ysu", "zsu"), true, Unwrapped
            elif has (triple ("x", "y", "z")) then
                triple ("x", "y", "z"),
                false,
                (if has (triple ("ix", "iy", "iz")) then
                     WithImages
                 else
                     Wrapped)
            elif has (triple ("xs", "ys", "zs")) then
                triple ("xs", "ys", "zs"),
                true,
                (if has (triple ("ix", "iy", "iz")) then
                     WithImages
                 else
                     Wrapped)
            else
                [||], false, Wrapped

        if find "id" < 0 then
            Error(DumpError $"line {lineNo}: ITEM: ATOMS has no 'id' column (columns: {columns})")
        elif find "type" < 0 then
            Error(DumpError $"line {lineNo}: ITEM: ATOMS has no 'type' column (columns: {columns})")
        elif pos.Length = 0 then
            Error(
                DumpError
                    $"line {lineNo}: ITEM: ATOMS has no positions (need xu yu zu, xsu ysu zsu, x y z or xs ys zs; columns: {columns})"
            )
        else
            Ok
                { Count = header.Length
                  Id = find "id"
                  Type = find "type"
                  Mol = find "mol"
                  Q = find "q"
                  Mass = find "mass"
                  Pos = pos
                  Images =
                    (if coords = WithImages then
                         triple ("ix", "iy", "iz")
                     else
                         [||])
                  Scaled = scaled
                  Coordinates = coords }

    /// A cursor over the lines, counting them for error messages.
    type private Cursor(lines: Collections.Generic.IEnumerator<string>) =
        let mutable lineNo = 0
        member _.LineNo = lineNo

        member _.Next() : string voption =
            if lines.MoveNext() then
                lineNo <- lineNo + 1
                ValueSome lines.Current
            else
                ValueNone

    let private expectItem (c: Cursor) (item: string) : Result<string, DumpError> =
        match c.Next() with
        | ValueSome l when l.StartsWith("ITEM: " + item, StringComparison.Ordinal) -> Ok l
        | ValueSome l -> Error(DumpError $"line {c.LineNo}: expected 'ITEM: {item}', found '{l}'")
        | ValueNone -> Error(DumpError $"line {c.LineNo}: the file ends before 'ITEM: {item}'")

    let private valueLine (c: Cursor) (what: string) : Result<string, DumpError> =
        match c.Next() with
        | ValueSome l -> Ok l
        | ValueNone -> Error(DumpError $"line {c.LineNo}: the file ends inside {what}")

    let private readAtoms
        (c: Cursor)
        (layout: Layout)
        (n: int)
        (timestep: int64)
        (box: Box)
        : Result<Frame, DumpError> =
        let ids = Array.zeroCreate n
        let types = Array.zeroCreate n
        let mols = if layout.Mol >= 0 then Array.zeroCreate n else [||]
        let qs = if layout.Q >= 0 then Array.zeroCreate n else [||]
        let ms = if layout.Mass >= 0 then Array.zeroCreate n else [||]
        let xyz = Array.init 3 (fun _ -> Array.zeroCreate<float> n)
        let starts = Array.zeroCreate layout.Count
        let lengths = Array.zeroCreate layout.Count
        let lengthsBox = box.Lengths
        let mutable error = None
        let mutable i = 0

        while error.IsNone && i < n do
            match c.Next() with
            | ValueNone ->
                error <- Some(DumpError $"line {c.LineNo}: the file ends after {i} of {n} atoms of timestep {timestep}")
            | ValueSome line ->
                let count = tokenize line starts lengths

                if count <> layout.Count then
                    error <-
                        Some(
                            DumpError
                                $"line {c.LineNo}: {count} values where ITEM: ATOMS names {layout.Count} columns: '{line}'"
                        )
                else
                    let bad col =
                        error <-
                            Some(
                                DumpError
                                    $"line {c.LineNo}: column {col + 1} '{line.Substring(starts[col], lengths[col])}' is not a number"
                            )

                    let int col (into: int[]) =
                        match parseInt line starts[col] lengths[col] with
                        | ValueSome v -> into[i] <- v
                        | ValueNone -> bad col

                    let flt col (into: float[]) =
                        match parseFloat line starts[col] lengths[col] with
                        | ValueSome v when Double.IsFinite v -> into[i] <- v
                        | _ -> bad col

                    int layout.Id ids
                    int layout.Type types

                    if layout.Mol >= 0 then
                        int layout.Mol mols

                    if layout.Q >= 0 then
                        flt layout.Q qs

                    if layout.Mass >= 0 then
                        flt layout.Mass ms

                    for d in 0..2 do
                        flt layout.Pos[d] xyz[d]

                        if layout.Scaled && error.IsNone then
                            xyz[d][i] <- box.Lo[d] + xyz[d][i] * lengthsBox[d]

                        if layout.Images.Length = 3 && error.IsNone then
                            match parseInt line starts[layout.Images[d]] lengths[layout.Images[d]] with
                            | ValueSome img -> xyz[d][i] <- xyz[d][i] + float img * lengthsBox[d]
                            | ValueNone -> bad layout.Images[d]

                    i <- i + 1

        match error with
        | Some e -> Error e
        | None ->
            // LAMMPS writes atoms in processor order unless `dump_modify sort id`: put them in id order.
            let sorted =
                let mutable ok = true

                for k in 1 .. n - 1 do
                    if ids[k] <= ids[k - 1] then
                        ok <- false

                ok

            let order =
                if sorted then
                    None
                else
                    let o = Array.init n id
                    Array.Sort(Array.copy ids, o)
                    Some o

            let reorder (a: 'T[]) =
                match order with
                | Some o when a.Length = n -> Array.map (fun k -> a[k]) o
                | _ -> a

            let sortedIds = reorder ids

            let duplicate =
                seq { 1 .. n - 1 } |> Seq.tryFind (fun k -> sortedIds[k] = sortedIds[k - 1])

            match duplicate with
            | Some k -> Error(DumpError $"timestep {timestep}: atom id {sortedIds[k]} appears twice")
            | None ->
                Ok
                    { Timestep = timestep
                      Box = box
                      Ids = sortedIds
                      Types = reorder types
                      Mols = (if layout.Mol >= 0 then Some(reorder mols) else None)
                      Charges = (if layout.Q >= 0 then Some(reorder qs) else None)
                      Masses = (if layout.Mass >= 0 then Some(reorder ms) else None)
                      X = reorder xyz[0]
                      Y = reorder xyz[1]
                      Z = reorder xyz[2]
                      Coordinates = layout.Coordinates }

    let private readFrame (c: Cursor) (first: string) : Result<Frame, DumpError> =
        let parseLine (what: string) (line: string) (count: int) =
            let toks = line.Split([| ' '; '\t' |], StringSplitOptions.RemoveEmptyEntries)

            if toks.Length < count then
                Error(DumpError $"line {c.LineNo}: {what} '{line}' has fewer than {count} values")
            else
                Ok toks

        if not (first.StartsWith("ITEM: TIMESTEP", StringComparison.Ordinal)) then
            Error(DumpError $"line {c.LineNo}: expected 'ITEM: TIMESTEP', found '{first}'")
        else
            valueLine c "ITEM: TIMESTEP"
            |> Result.bind (fun l ->
                match Int64.TryParse(l.Trim(), NumberStyles.Integer, inv) with
                | true, ts -> Ok ts
                | _ -> Error(DumpError $"line {c.LineNo}: timestep '{l}' is not an integer"))
            |> Result.bind (fun ts ->
                expectItem c "NUMBER OF ATOMS"
                |> Result.bind (fun _ -> valueLine c "ITEM: NUMBER OF ATOMS")
                |> Result.bind (fun l ->
                    match Int32.TryParse(l.Trim(), NumberStyles.Integer, inv) with
                    | true, n when n >= 0 -> Ok(ts, n)
                    | _ -> Error(DumpError $"line {c.LineNo}: number of atoms '{l}' is not a count")))
            |> Result.bind (fun (ts, n) ->
                expectItem c "BOX BOUNDS"
                |> Result.bind (fun header ->
                    let tokens = header.Split(' ', StringSplitOptions.RemoveEmptyEntries)

                    if tokens |> Array.exists (fun t -> t = "xy" || t = "xz" || t = "yz") then
                        Error(
                            DumpError
                                $"line {c.LineNo}: triclinic box ('{header}'); the analysis needs an orthorhombic box"
                        )
                    else
                        let bounds = Array.zeroCreate 6
                        let mutable err = None

                        for d in 0..2 do
                            if err.IsNone then
                                match
                                    valueLine c "ITEM: BOX BOUNDS"
                                    |> Result.bind (fun l -> parseLine "box bound" l 2)
                                with
                                | Error e -> err <- Some e
                                | Ok toks ->
                                    for k in 0..1 do
                                        match Double.TryParse(toks[k], NumberStyles.Float, inv) with
                                        | true, v -> bounds[2 * d + k] <- v
                                        | _ ->
                                            err <-
                                                Some(
                                                    DumpError
                                                        $"line {c.LineNo}: box bound '{toks[k]}' is not a number"
                                                )

                        match err with
                        | Some e -> Error e
                        | None ->
                            let box =
                                { Lo = [| bounds[0]; bounds[2]; bounds[4] |]
                                  Hi = [| bounds[1]; bounds[3]; bounds[5] |] }

                            let boundsText = String.Join(" ", bounds)

                            if box.Lengths |> Array.exists (fun l -> not (l > 0.0)) then
                                Error(DumpError $"line {c.LineNo}: box bounds {boundsText} give a non-positive edge")
                            else
                                Ok(ts, n, box)))
            |> Result.bind (fun (ts, n, box) ->
                expectItem c "ATOMS"
                |> Result.bind (fun header ->
                    let names = header.Substring(11).Split(' ', StringSplitOptions.RemoveEmptyEntries)

                    layoutOf names c.LineNo
                    |> Result.bind (fun layout -> readAtoms c layout n ts box)))

    /// The frames of a dump, read lazily one at a time from its lines (e.g. `File.ReadLines`). The sequence
    /// stops after the first error, which it yields.
    let frames (lines: seq<string>) : seq<Result<Frame, DumpError>> =
        seq {
            use e = lines.GetEnumerator()
            let c = Cursor e
            let mutable go = true

            while go do
                match c.Next() with
                | ValueNone -> go <- false
                | ValueSome l when String.IsNullOrWhiteSpace l -> ()
                | ValueSome l ->
                    match readFrame c l with
                    | Ok f -> yield Ok f
                    | Error e ->
                        yield Error e
                        go <- false
        }

    /// The lines of one frame as LAMMPS writes `dump custom ... id mol type q xu yu zu` (with `mass` when the
    /// frame has masses). Positions with 6 decimals.
    let write (f: Frame) : seq<string> =
        seq {
            yield "ITEM: TIMESTEP"
            yield string f.Timestep
            yield "ITEM: NUMBER OF ATOMS"
            yield string f.Ids.Length
            yield "ITEM: BOX BOUNDS pp pp pp"

            for d in 0..2 do
                yield String.Format(inv, "{0:R} {1:R}", f.Box.Lo[d], f.Box.Hi[d])

            let cols =
                [ "id"
                  if f.Mols.IsSome then
                      "mol"
                  "type"
                  if f.Charges.IsSome then
                      "q"
                  if f.Masses.IsSome then
                      "mass"
                  yield!
                      (if f.Coordinates = Unwrapped then
                           [ "xu"; "yu"; "zu" ]
                       else
                           [ "x"; "y"; "z" ]) ]

            yield "ITEM: ATOMS " + String.Join(' ', cols)

            for i in 0 .. f.Ids.Length - 1 do
                let sb = Text.StringBuilder()
                sb.Append(f.Ids[i]) |> ignore
                f.Mols |> Option.iter (fun m -> sb.Append(' ').Append(m[i]) |> ignore)
                sb.Append(' ').Append(f.Types[i]) |> ignore

                f.Charges
                |> Option.iter (fun q -> sb.Append(' ').Append(q[i].ToString("R", inv)) |> ignore)

                f.Masses
                |> Option.iter (fun m -> sb.Append(' ').Append(m[i].ToString("R", inv)) |> ignore)

                for v in [| f.X[i]; f.Y[i]; f.Z[i] |] do
                    sb.Append(' ').Append(v.ToString("F6", inv)) |> ignore

                yield sb.ToString()
        }
