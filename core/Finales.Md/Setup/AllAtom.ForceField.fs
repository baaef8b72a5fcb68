namespace Finales.Md.Setup

open System
open System.Globalization

/// One atom type of the force field: a name (e.g. "OCC"), the class its bonded terms are keyed by
/// (e.g. "O_2"), mass (g/mol), published charge (e), Lennard-Jones sigma (Angstrom) and epsilon (kJ/mol).
type AtomTypeParameters =
    { Name: string
      Class: string
      Mass: float
      Charge: float
      Sigma: float
      EpsilonKj: float }

/// A harmonic bond between two classes, E = k/2 (r - r0)^2 with k in kJ/mol/A^2; `Constrained` bonds
/// are held by SHAKE ("cons" in the fftool format).
type BondParameters =
    { I: string
      J: string
      Constrained: bool
      R0: float
      KKj: float }

/// A harmonic angle i-j-k, E = k/2 (theta - theta0)^2 with k in kJ/mol/rad^2 and theta0 in degrees.
type AngleParameters =
    { I: string
      J: string
      K: string
      Theta0: float
      KKj: float }

/// An OPLS torsion i-j-k-l (proper or improper; for impropers the central atom is k) with the Fourier
/// coefficients V1..V4 in kJ/mol.
type TorsionParameters =
    { I: string
      J: string
      K: string
      L: string
      VKj: float[] }

/// A force field in the fftool format (https://github.com/paduagroup/fftool): atom types, bonds, angles,
/// dihedrals and impropers, bonded terms keyed by atom class.
type ForceField =
    { Atoms: Map<string, AtomTypeParameters>
      Bonds: BondParameters list
      Angles: AngleParameters list
      Dihedrals: TorsionParameters list
      Impropers: TorsionParameters list }

/// Reading the fftool format and looking up bonded terms in either direction.
[<RequireQualifiedAccess>]
module ForceField =
    /// kJ -> kcal (thermochemical calorie), for LAMMPS `units real`.
    [<Literal>]
    let KjPerKcal = 4.184

    let private number (lineNo: int) (field: string) (text: string) : Result<float, string> =
        match Double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, v when Double.IsFinite v -> Ok v
        | _ -> Error $"force field line {lineNo}: {field} '{text}' is not a number"

    let private numbers (lineNo: int) (fields: (string * string) list) : Result<float list, string> =
        let folder (acc: Result<float list, string>) (name, text) =
            match acc, number lineNo name text with
            | Ok xs, Ok x -> Ok(x :: xs)
            | (Error _ as e), _ -> e
            | _, Error e -> Error e

        fields |> List.fold folder (Ok []) |> Result.map List.rev

    type private Section =
        | NoSection
        | AtomsSection
        | BondsSection
        | AnglesSection
        | DihedralsSection
        | ImpropersSection

    let private empty: ForceField =
        { Atoms = Map.empty
          Bonds = []
          Angles = []
          Dihedrals = []
          Impropers = [] }

    let private parseLine
        (section: Section)
        (lineNo: int)
        (tok: string[])
        (ff: ForceField)
        : Result<ForceField, string> =
        let need n what =
            if tok.Length < n then
                Error $"force field line {lineNo}: a {what} needs {n} fields, found {tok.Length}"
            else
                Ok()

        match section with
        | NoSection -> Error $"force field line {lineNo}: '{tok[0]}' outside a section"
        | AtomsSection ->
            need 7 "atom type"
            |> Result.bind (fun () ->
                if tok[4] <> "lj" then
                    Error $"force field line {lineNo}: atom potential '{tok[4]}' is not 'lj'"
                else
                    numbers lineNo [ "mass", tok[2]; "charge", tok[3]; "sigma", tok[5]; "epsilon", tok[6] ])
            |> Result.map (fun xs ->
                let a =
                    { Name = tok[0]
                      Class = tok[1]
                      Mass = xs[0]
                      Charge = xs[1]
                      Sigma = xs[2]
                      EpsilonKj = xs[3] }

                { ff with
                    Atoms = ff.Atoms.Add(a.Name, a) })
        | BondsSection ->
            need 5 "bond"
            |> Result.bind (fun () ->
                if tok[2] <> "harm" && tok[2] <> "cons" then
                    Error $"force field line {lineNo}: bond potential '{tok[2]}' is neither 'harm' nor 'cons'"
                else
                    numbers lineNo [ "r0", tok[3]; "k", tok[4] ])
            |> Result.map (fun xs ->
                let b =
                    { I = tok[0]
                      J = tok[1]
                      Constrained = (tok[2] = "cons")
                      R0 = xs[0]
                      KKj = xs[1] }

                { ff with Bonds = ff.Bonds @ [ b ] })
        | AnglesSection ->
            need 6 "angle"
            |> Result.bind (fun () ->
                if tok[3] <> "harm" then
                    Error $"force field line {lineNo}: angle potential '{tok[3]}' is not 'harm'"
                else
                    numbers lineNo [ "theta0", tok[4]; "k", tok[5] ])
            |> Result.map (fun xs ->
                let a =
                    { I = tok[0]
                      J = tok[1]
                      K = tok[2]
                      Theta0 = xs[0]
                      KKj = xs[1] }

                { ff with Angles = ff.Angles @ [ a ] })
        | DihedralsSection
        | ImpropersSection ->
            need 9 "torsion"
            |> Result.bind (fun () ->
                if tok[4] <> "opls" then
                    Error $"force field line {lineNo}: torsion potential '{tok[4]}' is not 'opls'"
                else
                    numbers lineNo [ "V1", tok[5]; "V2", tok[6]; "V3", tok[7]; "V4", tok[8] ])
            |> Result.map (fun xs ->
                let t =
                    { I = tok[0]
                      J = tok[1]
                      K = tok[2]
                      L = tok[3]
                      VKj = List.toArray xs }

                if section = DihedralsSection then
                    { ff with
                        Dihedrals = ff.Dihedrals @ [ t ] }
                else
                    { ff with
                        Impropers = ff.Impropers @ [ t ] })

    /// Parses fftool-format text: sections ATOMS, BONDS, ANGLES, DIHEDRALS, IMPROPER; '#' starts a comment.
    /// The error names the line and the field.
    let parse (text: string) : Result<ForceField, string> =
        let lines = text.Replace("\r", "").Split('\n')

        let rec go (i: int) (section: Section) (ff: ForceField) =
            if i >= lines.Length then
                Ok ff
            else
                let content =
                    match lines[i].IndexOf '#' with
                    | -1 -> lines[i]
                    | k -> lines[i].Substring(0, k)

                let tok = content.Split([| ' '; '\t' |], StringSplitOptions.RemoveEmptyEntries)

                if tok.Length = 0 then
                    go (i + 1) section ff
                else
                    match tok[0].ToUpperInvariant() with
                    | "ATOMS" when tok.Length = 1 -> go (i + 1) AtomsSection ff
                    | "BONDS" when tok.Length = 1 -> go (i + 1) BondsSection ff
                    | "ANGLES" when tok.Length = 1 -> go (i + 1) AnglesSection ff
                    | "DIHEDRALS" when tok.Length = 1 -> go (i + 1) DihedralsSection ff
                    | "IMPROPER"
                    | "IMPROPERS" when tok.Length = 1 -> go (i + 1) ImpropersSection ff
                    | _ -> parseLine section (i + 1) tok ff |> Result.bind (go (i + 1) section)

        go 0 NoSection empty

    /// The bond term between two classes, in either order.
    let tryBond (ff: ForceField) (ci: string) (cj: string) : BondParameters option =
        ff.Bonds
        |> List.tryFind (fun b -> (b.I = ci && b.J = cj) || (b.I = cj && b.J = ci))

    /// The angle term i-j-k (or k-j-i).
    let tryAngle (ff: ForceField) (ci: string) (cj: string) (ck: string) : AngleParameters option =
        ff.Angles
        |> List.tryFind (fun a -> a.J = cj && ((a.I = ci && a.K = ck) || (a.I = ck && a.K = ci)))

    /// The dihedral term i-j-k-l (or l-k-j-i).
    let tryDihedral (ff: ForceField) (ci: string) (cj: string) (ck: string) (cl: string) : TorsionParameters option =
        ff.Dihedrals
        |> List.tryFind (fun d ->
            (d.I = ci && d.J = cj && d.K = ck && d.L = cl)
            || (d.I = cl && d.J = ck && d.K = cj && d.L = ci))

    /// The improper term with central class `centre` and outer classes `outer` in any order, with the
    /// outer atoms ordered as the term lists them (fftool's convention: the central atom is the third).
    let tryImproper
        (ff: ForceField)
        (centre: string)
        (outer: (int * string) list)
        : (TorsionParameters * int * int * int) option =
        match outer with
        | [ a; b; c ] ->
            let orders = [ a, b, c; b, a, c; a, c, b; c, a, b; b, c, a; c, b, a ]

            ff.Impropers
            |> List.tryPick (fun t ->
                if t.K <> centre then
                    None
                else
                    orders
                    |> List.tryFind (fun ((_, x), (_, y), (_, z)) -> x = t.I && y = t.J && z = t.L)
                    |> Option.map (fun ((i, _), (j, _), (l, _)) -> t, i, j, l))
        | _ -> None
