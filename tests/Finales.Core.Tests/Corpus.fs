/// Access to the FINALES2 compatibility corpus vendored in the repository (data/finales2-schemas, see RepoData).
module Finales.Core.Tests.Corpus

open System.IO
open System.Text.Json

let root: string = Finales.Tests.RepoData.corpus "."

let json (text: string) : JsonElement = JsonDocument.Parse(text).RootElement

/// A compiled capability schema; the test fails naming `what` when it does not compile.
let compileSchema (what: string) (schema: JsonElement) : Finales.Core.CapabilitySchema.Compiled =
    match Finales.Core.CapabilitySchema.compile schema with
    | Ok c -> c
    | Error e -> failwithf "%s does not compile: %s" what e

let load (relative: string) : JsonElement =
    json (File.ReadAllText(Path.Combine(root, relative)))

let files (folder: string) : string list =
    Directory.GetFiles(Path.Combine(root, folder), "*.json", SearchOption.AllDirectories)
    |> Array.map (fun f -> Path.GetRelativePath(root, f).Replace('\\', '/'))
    |> Array.sort
    |> List.ofArray

let str (name: string) (e: JsonElement) =
    e.GetProperty(name).GetString() |> Option.ofObj |> Option.defaultValue ""

/// (quantity, method) -> the capability registration.
let capabilities: Map<string * string, JsonElement> =
    files "serialized_quantities"
    |> List.map (fun f -> let c = load f in (str "quantity" c, str "method" c), c)
    |> Map.ofList

/// (file, quantity, method, parameters object under parameters.<method>)
let requests: (string * string * string * JsonElement) list =
    files "examples/requests"
    |> List.map (fun f ->
        let r = load f

        let m =
            r.GetProperty("methods").[0].GetString()
            |> Option.ofObj
            |> Option.defaultValue ""

        f, str "quantity" r, m, r.GetProperty("parameters").GetProperty(m))

/// (file, quantity, method, data)
let results: (string * string * string * JsonElement) list =
    files "examples/results"
    |> List.map (fun f ->
        let r = load f

        let m =
            r.GetProperty("method").[0].GetString()
            |> Option.ofObj
            |> Option.defaultValue ""

        f, str "quantity" r, m, r.GetProperty("data"))

/// Every limitation document of the corpus: (source, quantity, method, limitations), from
/// examples/limitations (an entry or a list of entries) and examples/tenants ("limitations": [entries]).
let limitations: (string * string * string * JsonElement) list =
    let entries source (e: JsonElement) =
        match e.ValueKind with
        | JsonValueKind.Array -> e.EnumerateArray() |> List.ofSeq
        | _ -> [ e ]
        |> List.map (fun x -> source, str "quantity" x, str "method" x, x.GetProperty("limitations"))

    (files "examples/limitations" |> List.collect (fun f -> entries f (load f)))
    @ (files "examples/tenants"
       |> List.collect (fun f -> entries f ((load f).GetProperty("limitations"))))
