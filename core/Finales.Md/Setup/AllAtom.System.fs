namespace Finales.Md.Setup

open System
open System.Text

/// A LAMMPS atom type of the all-atom box: one force-field atom type within one species, so every
/// species owns its types and the analysis can select molecules by type.
type AllAtomType =
    {
        Id: int
        Species: AllAtomSpecies
        Parameters: AtomTypeParameters
        /// Charge written to the data file (the published one, times 0.8 for the ions).
        Charge: float
    }

/// The box's molecules and numbered LAMMPS types: what the data file and the input script are written from.
type AllAtomSystem =
    {
        /// Species, topology and count, in the order Packmol places them and the data file numbers them.
        Molecules: (AllAtomSpecies * MoleculeTopology * int) list
        BoxEdge: float
        Types: AllAtomType list
        BondTypes: BondParameters list
        AngleTypes: AngleParameters list
        DihedralTypes: TorsionParameters list
        ImproperTypes: TorsionParameters list
    }

/// Numbering the types of a box and writing its LAMMPS data file.
[<RequireQualifiedAccess>]
module AllAtomSystem =
    let private distinct (xs: 'a seq) : 'a list = xs |> Seq.distinct |> List.ofSeq

    /// Numbers atom types (per species) and bonded-term types in order of first appearance.
    let create
        (molecules: (AllAtomSpecies * MoleculeTopology * int) list)
        (boxEdge: float)
        (ff: ForceField)
        : AllAtomSystem =
        let scale s =
            if AllAtomComposition.isIon s then
                AllAtomComposition.IonChargeScale
            else
                1.0

        let types =
            molecules
            |> List.collect (fun (s, m, _) -> m.Atoms |> Array.map (fun (t, _) -> s, t) |> distinct)
            |> distinct
            |> List.mapi (fun i (s, t) ->
                { Id = i + 1
                  Species = s
                  Parameters = ff.Atoms[t]
                  Charge = ff.Atoms[t].Charge * scale s })

        let tops = molecules |> List.map (fun (_, m, _) -> m)

        { Molecules = molecules
          BoxEdge = boxEdge
          Types = types
          BondTypes =
            tops
            |> Seq.collect (fun m -> m.Bonds |> Seq.map (fun (_, _, b) -> b))
            |> distinct
          AngleTypes =
            tops
            |> Seq.collect (fun m -> m.Angles |> Seq.map (fun (_, _, _, a) -> a))
            |> distinct
          DihedralTypes =
            tops
            |> Seq.collect (fun m -> m.Dihedrals |> Seq.map (fun (_, _, _, _, d) -> d))
            |> distinct
          ImproperTypes =
            tops
            |> Seq.collect (fun m -> m.Impropers |> Seq.map (fun (_, _, _, _, d) -> d))
            |> distinct }

    /// The LAMMPS type id of force-field type `name` in species `s`.
    let typeId (sys: AllAtomSystem) (s: AllAtomSpecies) (name: string) : int =
        (sys.Types |> List.find (fun t -> t.Species = s && t.Parameters.Name = name)).Id

    /// Number of atoms, bonds, angles, dihedrals and impropers of the whole box.
    let totals (sys: AllAtomSystem) : int * int * int * int * int =
        let sum f =
            sys.Molecules |> List.sumBy (fun (_, m, n) -> n * f m)

        sum (fun m -> m.Atoms.Length),
        sum (fun m -> m.Bonds.Length),
        sum (fun m -> m.Angles.Length),
        sum (fun m -> m.Dihedrals.Length),
        sum (fun m -> m.Impropers.Length)

    /// Total charge of the box (e), with the scaled ionic charges.
    let charge (sys: AllAtomSystem) : float =
        sys.Molecules
        |> List.sumBy (fun (s, m, n) ->
            float n
            * (m.Atoms
               |> Array.sumBy (fun (t, _) ->
                   (sys.Types |> List.find (fun x -> x.Species = s && x.Parameters.Name = t)).Charge)))

    /// Template positions on a cubic grid, one molecule per cell: the data file's provisional coordinates
    /// (the input script replaces them with Packmol's placement through `read_dump`).
    let gridPositions (sys: AllAtomSystem) : Vec3[] =
        let count = sys.Molecules |> List.sumBy (fun (_, _, n) -> n)
        let perEdge = int (ceil (float count ** (1.0 / 3.0)))
        let cell = sys.BoxEdge / float perEdge

        sys.Molecules
        |> Seq.collect (fun (_, m, n) -> Seq.replicate n m)
        |> Seq.mapi (fun k m ->
            let cx = (float (k % perEdge) + 0.5) * cell
            let cy = (float (k / perEdge % perEdge) + 0.5) * cell
            let cz = (float (k / (perEdge * perEdge)) + 0.5) * cell
            let n = float m.Atoms.Length
            let mx = (m.Atoms |> Array.sumBy (fun (_, p) -> p.X)) / n
            let my = (m.Atoms |> Array.sumBy (fun (_, p) -> p.Y)) / n
            let mz = (m.Atoms |> Array.sumBy (fun (_, p) -> p.Z)) / n

            m.Atoms
            |> Array.map (fun (_, p) ->
                { X = cx + p.X - mx
                  Y = cy + p.Y - my
                  Z = cz + p.Z - mz }))
        |> Seq.concat
        |> Array.ofSeq

    let private f (x: float) =
        x.ToString("0.######", Globalization.CultureInfo.InvariantCulture)

    /// The LAMMPS data file (`atom_style full`, `units real`) of the box with atoms at `positions`
    /// (molecule by molecule in `Molecules` order). Energies in kcal/mol: harmonic K = k/2, OPLS
    /// K1..K4 = V1..V4, impropers as cvff K = V2/2, d = -1, n = 2. Fails when the positions do not match.
    let dataFile (sys: AllAtomSystem) (positions: Vec3[]) : Result<string, string> =
        let nAtoms, nBonds, nAngles, nDihedrals, nImpropers = totals sys

        if positions.Length <> nAtoms then
            Error $"positions: {positions.Length} given for a box of {nAtoms} atoms"
        else
            let kcal (x: float) = x / ForceField.KjPerKcal
            let idx (xs: 'a list) (x: 'a) = (List.findIndex ((=) x) xs) + 1
            let sb = StringBuilder()
            let line (s: string) = sb.Append(s).Append('\n') |> ignore
            line "LAMMPS data file: Finales all-atom box (OPLS-AA / CL&P, data/md/allatom)"
            line ""
            line $"{nAtoms} atoms"
            line $"{nBonds} bonds"
            line $"{nAngles} angles"
            line $"{nDihedrals} dihedrals"
            line $"{nImpropers} impropers"
            line ""
            line $"{sys.Types.Length} atom types"
            line $"{sys.BondTypes.Length} bond types"
            line $"{sys.AngleTypes.Length} angle types"
            line $"{sys.DihedralTypes.Length} dihedral types"
            line $"{sys.ImproperTypes.Length} improper types"
            line ""
            line $"0 {f sys.BoxEdge} xlo xhi"
            line $"0 {f sys.BoxEdge} ylo yhi"
            line $"0 {f sys.BoxEdge} zlo zhi"
            line ""
            line "Masses"
            line ""

            for t in sys.Types do
                line $"{t.Id} {f t.Parameters.Mass} # {AllAtomComposition.speciesName t.Species}:{t.Parameters.Name}"

            line ""
            line "Pair Coeffs # lj/cut/coul/long"
            line ""

            for t in sys.Types do
                line $"{t.Id} {f (kcal t.Parameters.EpsilonKj)} {f t.Parameters.Sigma}"

            let section (title: string) (items: string list) =
                if not items.IsEmpty then
                    line ""
                    line title
                    line ""
                    items |> List.iter line

            section
                "Bond Coeffs # harmonic"
                (sys.BondTypes
                 |> List.mapi (fun i b -> $"{i + 1} {f (kcal b.KKj / 2.0)} {f b.R0} # {b.I}-{b.J}"))

            section
                "Angle Coeffs # harmonic"
                (sys.AngleTypes
                 |> List.mapi (fun i a -> $"{i + 1} {f (kcal a.KKj / 2.0)} {f a.Theta0} # {a.I}-{a.J}-{a.K}"))

            section
                "Dihedral Coeffs # opls"
                (sys.DihedralTypes
                 |> List.mapi (fun i d ->
                     let v = d.VKj |> Array.map (kcal >> f) |> String.concat " "
                     $"{i + 1} {v} # {d.I}-{d.J}-{d.K}-{d.L}"))

            section
                "Improper Coeffs # cvff"
                (sys.ImproperTypes
                 |> List.mapi (fun i d -> $"{i + 1} {f (kcal d.VKj[1] / 2.0)} -1 2 # {d.I}-{d.J}-{d.K}-{d.L}"))

            let atoms = ResizeArray()
            let bonds = ResizeArray()
            let angles = ResizeArray()
            let dihedrals = ResizeArray()
            let impropers = ResizeArray()
            let mutable first = 0
            let mutable mol = 0

            for (s, m, n) in sys.Molecules do
                let ids =
                    m.Atoms
                    |> Array.map (fun (t, _) ->
                        sys.Types |> List.find (fun x -> x.Species = s && x.Parameters.Name = t))

                for _ in 1..n do
                    mol <- mol + 1

                    m.Atoms
                    |> Array.iteri (fun i _ ->
                        let p = positions[first + i]
                        let t = ids[i]
                        atoms.Add $"{first + i + 1} {mol} {t.Id} {f t.Charge} {f p.X} {f p.Y} {f p.Z}")

                    let a i = first + i + 1

                    for (i, j, b) in m.Bonds do
                        bonds.Add $"{bonds.Count + 1} {idx sys.BondTypes b} {a i} {a j}"

                    for (i, j, k, t) in m.Angles do
                        angles.Add $"{angles.Count + 1} {idx sys.AngleTypes t} {a i} {a j} {a k}"

                    for (i, j, k, l, t) in m.Dihedrals do
                        dihedrals.Add $"{dihedrals.Count + 1} {idx sys.DihedralTypes t} {a i} {a j} {a k} {a l}"

                    for (i, j, k, l, t) in m.Impropers do
                        impropers.Add $"{impropers.Count + 1} {idx sys.ImproperTypes t} {a i} {a j} {a k} {a l}"

                    first <- first + m.Atoms.Length

            section "Atoms # full" (List.ofSeq atoms)
            section "Bonds" (List.ofSeq bonds)
            section "Angles" (List.ofSeq angles)
            section "Dihedrals" (List.ofSeq dihedrals)
            section "Impropers" (List.ofSeq impropers)
            Ok(sb.ToString())
