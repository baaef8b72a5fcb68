namespace Finales.Md.Setup

open System
open System.Globalization

/// A point in Angstrom.
[<Struct>]
type Vec3 = { X: float; Y: float; Z: float }

/// One molecule (or ion) with its topology, perceived from an xyz geometry and a force field the way
/// fftool does it: bonds where the force field has a bond term and the distance is within 0.25 A of r0,
/// angles and dihedrals from the bond graph, impropers on atoms with three neighbours. Indices are
/// 0-based into `Atoms`; every term carries its parameters.
type MoleculeTopology =
    {
        Name: string
        /// Atom type names (keys of the force field's atoms) and template positions.
        Atoms: (string * Vec3)[]
        Bonds: (int * int * BondParameters)[]
        Angles: (int * int * int * AngleParameters)[]
        Dihedrals: (int * int * int * int * TorsionParameters)[]
        Impropers: (int * int * int * int * TorsionParameters)[]
    }

/// Reading xyz geometries and perceiving their topology.
[<RequireQualifiedAccess>]
module MoleculeTopology =
    /// fftool's tolerance on a bond length when deducing bonds from coordinates (Angstrom).
    [<Literal>]
    let BondTolerance = 0.25

    /// fftool's tolerance on an angle (degrees): an angle further than this from the term's theta0 is not
    /// a term of the molecule (the trans F-P-F angles of the PF6- octahedron).
    [<Literal>]
    let AngleTolerance = 15.0

    let private distance (a: Vec3) (b: Vec3) =
        sqrt ((a.X - b.X) ** 2.0 + (a.Y - b.Y) ** 2.0 + (a.Z - b.Z) ** 2.0)

    let private angleDegrees (a: Vec3) (centre: Vec3) (c: Vec3) =
        let u =
            {| X = a.X - centre.X
               Y = a.Y - centre.Y
               Z = a.Z - centre.Z |}

        let v =
            {| X = c.X - centre.X
               Y = c.Y - centre.Y
               Z = c.Z - centre.Z |}

        let dot = u.X * v.X + u.Y * v.Y + u.Z * v.Z
        let nu = sqrt (u.X * u.X + u.Y * u.Y + u.Z * u.Z)
        let nv = sqrt (v.X * v.X + v.Y * v.Y + v.Z * v.Z)
        acos (max -1.0 (min 1.0 (dot / (nu * nv)))) * 180.0 / Math.PI

    /// Parses xyz text (count, title, then `name x y z` lines); the error names the line.
    let parseXyz (text: string) : Result<(string * Vec3)[], string> =
        let lines = text.Replace("\r", "").Split('\n') |> Array.map (fun l -> l.Trim())

        let num (s: string) =
            match Double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, v when Double.IsFinite v -> Some v
            | _ -> None

        match
            lines
            |> Array.tryHead
            |> Option.bind (fun l ->
                Int32.TryParse l
                |> function
                    | true, n -> Some n
                    | _ -> None)
        with
        | None -> Error "xyz line 1: the atom count is not an integer"
        | Some n when n < 1 || lines.Length < n + 2 ->
            Error $"xyz: the count {n} does not match the {max 0 (lines.Length - 2)} lines that follow"
        | Some n ->
            let atoms =
                [| for i in 2 .. n + 1 ->
                       let tok = lines[i].Split([| ' '; '\t' |], StringSplitOptions.RemoveEmptyEntries)

                       if tok.Length < 4 then
                           Error $"xyz line {i + 1}: expected 'name x y z', found '{lines[i]}'"
                       else
                           match num tok[1], num tok[2], num tok[3] with
                           | Some x, Some y, Some z -> Ok(tok[0], { X = x; Y = y; Z = z })
                           | _ -> Error $"xyz line {i + 1}: a coordinate of '{lines[i]}' is not a number" |]

            match
                atoms
                |> Array.tryPick (function
                    | Error e -> Some e
                    | Ok _ -> None)
            with
            | Some e -> Error e
            | None ->
                Ok(
                    atoms
                    |> Array.choose (function
                        | Ok a -> Some a
                        | Error _ -> None)
                )

    /// Perceives the topology of `name` from its atoms; the error names the molecule and the first atom
    /// type or bonded term the force field lacks.
    let perceive (ff: ForceField) (name: string) (atoms: (string * Vec3)[]) : Result<MoleculeTopology, string> =
        let missingType =
            atoms
            |> Array.tryFind (fun (t, _) -> not (ff.Atoms.ContainsKey t))
            |> Option.map fst

        match missingType with
        | Some t -> Error $"{name}: atom type '{t}' has no parameters in the force field"
        | None ->
            let cls i = ff.Atoms[fst atoms[i]].Class
            let pos i = snd atoms[i]
            let n = atoms.Length

            let bonds =
                [| for i in 0 .. n - 1 do
                       for j in i + 1 .. n - 1 do
                           match ForceField.tryBond ff (cls i) (cls j) with
                           | Some b when abs (distance (pos i) (pos j) - b.R0) <= BondTolerance -> yield i, j, b
                           | _ -> () |]

            let neighbours i =
                bonds
                |> Array.choose (fun (a, b, _) ->
                    if a = i then Some b
                    elif b = i then Some a
                    else None)

            let angleCandidates =
                [| for j in 0 .. n - 1 do
                       let nb = neighbours j

                       for x in 0 .. nb.Length - 1 do
                           for y in x + 1 .. nb.Length - 1 do
                               yield nb[x], j, nb[y] |]

            let angles =
                angleCandidates
                |> Array.map (fun (i, j, k) ->
                    match ForceField.tryAngle ff (cls i) (cls j) (cls k) with
                    | None -> Error $"{name}: no angle term {cls i}-{cls j}-{cls k}"
                    | Some a when abs (angleDegrees (pos i) (pos j) (pos k) - a.Theta0) > AngleTolerance -> Ok None
                    | Some a -> Ok(Some(i, j, k, a)))

            let dihedralCandidates =
                [| for (j, k, _) in bonds do
                       for i in neighbours j do
                           for l in neighbours k do
                               if i <> k && l <> j && i <> l then
                                   yield i, j, k, l |]

            let dihedrals =
                dihedralCandidates
                |> Array.map (fun (i, j, k, l) ->
                    match ForceField.tryDihedral ff (cls i) (cls j) (cls k) (cls l) with
                    | None -> Error $"{name}: no dihedral term {cls i}-{cls j}-{cls k}-{cls l}"
                    | Some d -> Ok(i, j, k, l, d))

            let impropers =
                [| for c in 0 .. n - 1 do
                       let nb = neighbours c

                       if nb.Length = 3 then
                           let outer = nb |> Array.map (fun i -> i, cls i) |> Array.toList

                           match ForceField.tryImproper ff (cls c) outer with
                           | None -> yield Error $"{name}: no improper term around {cls c} ({fst atoms[c]})"
                           | Some(t, i, j, l) -> yield Ok(i, j, c, l, t) |]

            let firstError (xs: Result<'a, string>[]) =
                xs
                |> Array.tryPick (function
                    | Error e -> Some e
                    | Ok _ -> None)

            match firstError angles, firstError dihedrals, firstError impropers with
            | Some e, _, _
            | _, Some e, _
            | _, _, Some e -> Error e
            | None, None, None ->
                let ok xs =
                    xs
                    |> Array.choose (function
                        | Ok x -> Some x
                        | Error _ -> None)

                Ok
                    { Name = name
                      Atoms = atoms
                      Bonds = bonds
                      Angles = ok angles |> Array.choose id
                      Dihedrals = ok dihedrals
                      Impropers = ok impropers }

    /// The molecule's total published charge (before any ionic scaling).
    let charge (ff: ForceField) (m: MoleculeTopology) : float =
        m.Atoms |> Array.sumBy (fun (t, _) -> ff.Atoms[t].Charge)
