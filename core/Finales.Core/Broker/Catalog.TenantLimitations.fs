namespace Finales.Core

open System.Text
open System.Text.Json

/// A tenant's limitations list as parsed: the usable (quantity, method) entries, and one problem per unusable part,
/// each naming its path ("limitations[2] (density/vibrating_tube_densimetry): ...").
type TenantLimitationsParse =
    { Usable: TenantLimitation list
      Problems: string list }

/// The tenant-level limitations list of FINALES2, `[{"quantity", "method", "limitations"}]`, read as strictly as a
/// request body: no duplicate members, finite numbers, valid text; at most `InputLimits.MaxLimitationEntries` entries
/// and `InputLimits.MaxLimitationsBytes` bytes; every `limitations` document in the core's limitation language
/// (`Limitations.parse`). A new document with any problem is refused by the broker; a stored one keeps its usable
/// entries.
[<RequireQualifiedAccess>]
module TenantLimitations =

    let private describe (issue: ValidationIssue) =
        $"{ValidationIssue.renderPath issue.Path}: {issue.Message}"

    let private refused (problem: string) = { Usable = []; Problems = [ problem ] }

    let private stringMember (entry: JsonElement) (name: string) =
        match entry.TryGetProperty(name) with
        | true, v when v.ValueKind = JsonValueKind.String -> Some(v.GetString())
        | _ -> None

    /// One entry: Ok when it is an object with string quantity and method and a limitations document in the language.
    let private entry (index: int) (strictlyChecked: bool) (element: JsonElement) : Result<TenantLimitation, string> =
        let strict =
            if strictlyChecked then
                Ok()
            else
                // The document as a whole was not strict JSON: check this entry on its own.
                StrictJson.parseText StrictJson.defaultLimits [ "limitations"; string index ] (element.GetRawText())
                |> Result.map (fun doc -> doc.Dispose())
                |> Result.mapError describe

        strict
        |> Result.bind (fun () ->
            match
                (if element.ValueKind = JsonValueKind.Object then
                     Some element
                 else
                     None)
                |> Option.bind (fun e ->
                    match stringMember e "quantity", stringMember e "method", e.TryGetProperty("limitations") with
                    | Some q, Some m, (true, l) -> Some(q, m, l)
                    | _ -> None)
            with
            | None ->
                Error $"limitations[{index}] must be an object with string quantity, string method and limitations"
            | Some(quantity, methodName, document) ->
                Limitations.parse document
                |> Result.map (fun parsed ->
                    { Quantity = quantity
                      Method = methodName
                      Document = document.Clone()
                      Parsed = parsed })
                |> Result.mapError (fun e -> $"limitations[{index}] ({quantity}/{methodName}): {e}"))

    let private entries (limits: InputLimits) (strict: Result<unit, ValidationIssue>) (root: JsonElement) =
        if root.ValueKind <> JsonValueKind.Array then
            refused $"limitations must be a list of {{quantity, method, limitations}}, got {root.ValueKind}"
        elif root.GetArrayLength() > limits.MaxLimitationEntries then
            refused
                $"limitations hold {root.GetArrayLength()} entries; at most {limits.MaxLimitationEntries} (quantity, method) entries are allowed per tenant"
        else
            let results =
                root.EnumerateArray()
                |> Seq.mapi (fun i e -> entry i (Result.isOk strict) e)
                |> List.ofSeq

            let problems =
                results
                |> List.choose (function
                    | Error e -> Some e
                    | Ok _ -> None)

            let problems =
                match strict with
                // Not strict JSON, yet every entry is: the problem lies between the entries; name it.
                | Error issue when problems.IsEmpty -> [ describe issue ]
                | _ -> problems

            { Usable =
                results
                |> List.choose (function
                    | Ok l -> Some l
                    | Error _ -> None)
              Problems = problems }

    /// Parse a tenant's limitations list under the given caps.
    let parse (limits: InputLimits) (json: string) : TenantLimitationsParse =
        let bytes = Encoding.UTF8.GetByteCount json

        if bytes > limits.MaxLimitationsBytes then
            refused
                $"limitations are {bytes} bytes of JSON; at most {limits.MaxLimitationsBytes} are allowed per tenant"
        else
            match StrictJson.parseText StrictJson.defaultLimits [ "limitations" ] json with
            | Ok doc ->
                use doc = doc
                entries limits (Ok()) doc.RootElement
            | Error issue ->
                // Keep the usable entries of a stored document (each entry is checked strictly on its own).
                let lenient =
                    try
                        Some(JsonDocument.Parse json)
                    with :? JsonException ->
                        None

                match lenient with
                | None -> refused (describe issue)
                | Some doc ->
                    use doc = doc
                    entries limits (Error issue) doc.RootElement
