/// Locating shared test data: walk up from the test assembly to the repository root (Finales.sln).
module Finales.Optimizer.Tests.TestData

open System.IO

/// The repository root: the first ancestor of the test assembly's directory holding Finales.sln.
let repoRoot =
    let rec up (d: DirectoryInfo | null) =
        match d with
        | null -> failwith "Finales.sln not found above the test assembly"
        | d when File.Exists(Path.Combine(d.FullName, "Finales.sln")) -> d.FullName
        | d -> up d.Parent

    up (DirectoryInfo(System.AppContext.BaseDirectory))

/// A path under ../shared relative to the repository root.
let shared (relative: string) =
    Path.GetFullPath(Path.Combine(repoRoot, "..", "shared", relative))
