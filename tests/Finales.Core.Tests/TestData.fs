/// Test fixtures of the repository and reading simple CSV files (vendored reference data: RepoData.reference).
module Finales.Core.Tests.TestData

open System
open System.IO
open System.Globalization

/// A path relative to the repository root (e.g. "tests/fixtures/asab-graph").
let fromRoot (relative: string) : string =
    Path.GetFullPath(Path.Combine(Finales.Tests.RepoData.root, relative))

/// The ASAB-like graph fixture.
let fixtureGraphDir: string =
    fromRoot (Path.Combine("tests", "fixtures", "asab-graph"))

/// Split a comma-separated line honouring double quotes.
let splitCsv (line: string) : string list =
    let fields = Collections.Generic.List<string>()
    let sb = Text.StringBuilder()
    let mutable q = false

    for ch in line do
        if ch = '"' then
            q <- not q
        elif ch = ',' && not q then
            fields.Add(sb.ToString())
            sb.Clear() |> ignore
        else
            sb.Append ch |> ignore

    fields.Add(sb.ToString())
    List.ofSeq fields

/// Rows of a comma-separated file with a header, as column -> value maps.
let readCsv (path: string) : Map<string, string> list =
    let lines = File.ReadAllLines path |> Array.filter (fun l -> l.Trim() <> "")
    let header = splitCsv lines[0]

    lines[1..]
    |> Array.map (fun l -> List.zip header (splitCsv l) |> Map.ofList)
    |> List.ofArray

/// Parse an invariant-culture float.
let num (s: string) : float =
    Double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)

/// Unwrap a Result in a test (fails the test with the error).
let okOr (label: string) (r: Result<'a, 'e>) : 'a =
    match r with
    | Ok v -> v
    | Error e -> failwithf "%s: unexpected error %A" label e
