namespace Finales.Core

/// The `fraction_type` vocabulary of FINALES2 formulations: what the fractions of an entry measure.
///
/// Equivalent spellings (case-insensitive, surrounding blanks ignored):
/// | canonical   | accepted spellings                                                                  |
/// |-------------|-------------------------------------------------------------------------------------|
/// | molPerMol   | molPerMol, mol/mol, molar fraction, mole fraction, mol fraction, molar_fraction, mole_fraction, molfraction, x |
/// | gPerG       | gPerG, g/g, mass fraction, weight fraction, mass_fraction, weight_fraction, wt/wt, w/w          |
/// | lPerL       | lPerL, l/l, ml/ml, volume fraction, volume_fraction, v/v                                    |
/// Other spellings are their own canonical form (compared as written).
[<RequireQualifiedAccess>]
module FractionType =
    /// Mole fractions.
    [<Literal>]
    let MolPerMol = "molPerMol"

    /// Mass fractions.
    [<Literal>]
    let GPerG = "gPerG"

    /// Volume fractions.
    [<Literal>]
    let LPerL = "lPerL"

    let private spellings =
        [ MolPerMol,
          [ "molpermol"
            "mol/mol"
            "molar fraction"
            "mole fraction"
            "mol fraction"
            "molar_fraction"
            "mole_fraction"
            "molfraction"
            "x" ]
          GPerG,
          [ "gperg"
            "g/g"
            "mass fraction"
            "weight fraction"
            "mass_fraction"
            "weight_fraction"
            "wt/wt"
            "w/w" ]
          LPerL, [ "lperl"; "l/l"; "ml/ml"; "volume fraction"; "volume_fraction"; "v/v" ] ]

    let private canonicalBySpelling =
        spellings
        |> List.collect (fun (canonical, written) -> written |> List.map (fun s -> s, canonical))
        |> dict

    /// Every accepted spelling (lower case) with its canonical name.
    let known: (string * string) list =
        spellings
        |> List.collect (fun (canonical, written) -> written |> List.map (fun s -> s, canonical))

    /// The canonical name of a fraction type (see the table of this module); "" for null.
    let canonical (fractionType: string) : string =
        if obj.ReferenceEquals(fractionType, null) then
            ""
        else
            match canonicalBySpelling.TryGetValue(fractionType.Trim().ToLowerInvariant()) with
            | true, c -> c
            | _ -> fractionType
