/// The data vendored into the repository (data/README.md), found from the repository root: the FINALES2
/// capability corpus (data/finales2-schemas) and the reference cases (data/reference). Every test project
/// links this one file; nothing outside the repository is read.
module Finales.Tests.RepoData

open System
open System.IO

/// The repository root: the nearest directory above the test assembly holding Finales.sln.
let root: string =
    let rec up (d: DirectoryInfo | null) =
        match d with
        | null -> failwith $"Finales.sln not found above {AppContext.BaseDirectory}"
        | d when File.Exists(Path.Combine(d.FullName, "Finales.sln")) -> d.FullName
        | d -> up d.Parent

    up (DirectoryInfo AppContext.BaseDirectory)

/// A file or folder of the vendored FINALES2 corpus, e.g. `corpus "serialized_quantities"`.
let corpus (relative: string) : string =
    Path.GetFullPath(Path.Combine(root, "data", "finales2-schemas", relative))

/// The text of a corpus file, e.g. `readCorpus "examples/requests/conductivity/polynomial_interpolation.json"`.
let readCorpus (relative: string) : string = File.ReadAllText(corpus relative)

/// A reference data file, e.g. `reference "chimera-vectors.json"`.
let reference (file: string) : string =
    Path.GetFullPath(Path.Combine(root, "data", "reference", file))
