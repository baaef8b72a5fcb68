namespace Finales.Md.Analysis

open System
open System.Globalization

/// A species of the analysis: the atom types that make it, its charge per molecule or ion (e), and whether
/// its unit is the molecule (centre of mass of the atoms sharing a `mol` id) or the single atom.
type Species =
    { Name: string
      AtomTypes: int[]
      Charge: float
      ByMolecule: bool }

/// The `--types` and `--rdf` texts of `./finales md analyse`.
[<RequireQualifiedAccess>]
module Species =
    let private inv = CultureInfo.InvariantCulture

    let private parseTypes (field: string) (text: string) : Result<int[], string> =
        let parts = text.Split('+', StringSplitOptions.RemoveEmptyEntries)

        let parsed =
            parts
            |> Array.map (fun p ->
                match Int32.TryParse(p.Trim(), NumberStyles.Integer, inv) with
                | true, t when t >= 1 -> Some t
                | _ -> None)

        if parts.Length = 0 || parsed |> Array.exists Option.isNone then
            Error $"{field} '{text}' is not a list of atom types >= 1 joined by '+' (e.g. 3+4+5)"
        else
            Ok(parsed |> Array.choose id |> Array.distinct)

    let private parseFloat (field: string) (text: string) : Result<float, string> =
        match Double.TryParse(text.Trim(), NumberStyles.Float, inv) with
        | true, v when Double.IsFinite v -> Ok v
        | _ -> Error $"{field} '{text}' is not a number"

    let private map2 (f: 'A -> 'B -> 'C) (a: Result<'A, string>) (b: Result<'B, string>) : Result<'C, string> =
        match a, b with
        | Ok a, Ok b -> Ok(f a b)
        | Error e, Ok _
        | Ok _, Error e -> Error e
        | Error e1, Error e2 -> Error(e1 + "; " + e2)

    let private sequence (items: Result<'T, string> list) : Result<'T list, string> =
        List.foldBack
            (fun item acc ->
                match item, acc with
                | Ok v, Ok vs -> Ok(v :: vs)
                | Error e, Ok _ -> Error e
                | Ok _, Error e -> Error e
                | Error e1, Error e2 -> Error(e1 + "; " + e2))
            items
            (Ok [])

    /// `NAME:TYPES:CHARGE[:mol]` items separated by commas, e.g. `Li:1:1,PF6:2:-1` or
    /// `Li:1:0.8,PF6:2+3:-0.8:mol,EC:4+5+6+7:0:mol`; `mol` makes the molecule (centre of mass) the unit.
    /// A type may belong to one species only.
    let parse (text: string) : Result<Species list, string> =
        let items =
            text.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
            |> List.ofArray

        if items.IsEmpty then
            Error "--types is empty; give NAME:TYPES:CHARGE[:mol] items separated by commas (e.g. Li:1:1,PF6:2:-1)"
        else
            items
            |> List.map (fun item ->
                match item.Split(':') with
                | [| name; types; charge |]
                | [| name; types; charge; "" |] ->
                    map2
                        (fun t q ->
                            { Name = name.Trim()
                              AtomTypes = t
                              Charge = q
                              ByMolecule = false })
                        (parseTypes $"types of species '{name}'" types)
                        (parseFloat $"charge of species '{name}'" charge)
                | [| name; types; charge; "mol" |] ->
                    map2
                        (fun t q ->
                            { Name = name.Trim()
                              AtomTypes = t
                              Charge = q
                              ByMolecule = true })
                        (parseTypes $"types of species '{name}'" types)
                        (parseFloat $"charge of species '{name}'" charge)
                | _ -> Error $"species '{item}' is not NAME:TYPES:CHARGE[:mol] (e.g. Li:1:1 or EC:3+4+5:0:mol)")
            |> sequence
            |> Result.bind (fun species ->
                let typeOwners =
                    species |> List.collect (fun s -> [ for t in s.AtomTypes -> t, s.Name ])

                match typeOwners |> List.countBy fst |> List.tryFind (fun (_, n) -> n > 1) with
                | Some(t, _) ->
                    let owners = typeOwners |> List.filter (fun (u, _) -> u = t) |> List.map snd
                    let names = String.Join(", ", owners)
                    Error $"atom type {t} belongs to several species ({names})"
                | None ->
                    match species |> List.countBy (fun s -> s.Name) |> List.tryFind (fun (_, n) -> n > 1) with
                    | Some(name, _) -> Error $"species name '{name}' is given twice"
                    | None -> Ok species)

    /// `NAME:TYPESA:TYPESB[:RMAX[:BINS]]` items separated by commas, e.g. `Li-P:1:2:12:240`; RMAX in
    /// Angstrom (default 12), BINS (default 240).
    let parseRdfPairs (text: string) : Result<RdfPair list, string> =
        text.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
        |> List.ofArray
        |> List.map (fun item ->
            let parts = item.Split(':')

            if parts.Length < 3 || parts.Length > 5 then
                Error $"RDF pair '{item}' is not NAME:TYPESA:TYPESB[:RMAX[:BINS]] (e.g. Li-P:1:2:12:240)"
            else
                let rmax =
                    if parts.Length >= 4 then
                        parseFloat $"RMAX of RDF pair '{parts[0]}'" parts[3]
                        |> Result.bind (fun r ->
                            if r > 0.0 then
                                Ok r
                            else
                                Error $"RMAX of RDF pair '{parts[0]}' is {r}; it must be > 0")
                    else
                        Ok 12.0

                let bins =
                    if parts.Length = 5 then
                        match Int32.TryParse(parts[4], NumberStyles.Integer, inv) with
                        | true, b when b >= 1 && b <= 100000 -> Ok b
                        | _ ->
                            Error $"BINS of RDF pair '{parts[0]}' is '{parts[4]}'; it must be an integer in 1..100000"
                    else
                        Ok 240

                match
                    parseTypes $"types A of RDF pair '{parts[0]}'" parts[1],
                    parseTypes $"types B of RDF pair '{parts[0]}'" parts[2],
                    rmax,
                    bins
                with
                | Ok a, Ok b, Ok r, Ok n ->
                    Ok
                        { Name = parts[0].Trim()
                          TypesA = a
                          TypesB = b
                          RMax = r
                          Bins = n }
                | a, b, r, n ->
                    Error(
                        String.Join(
                            "; ",
                            [ for e in
                                  [ Result.map ignore a
                                    Result.map ignore b
                                    Result.map ignore r
                                    Result.map ignore n ] do
                                  match e with
                                  | Error m -> m
                                  | Ok() -> () ]
                        )
                    ))
        |> sequence
