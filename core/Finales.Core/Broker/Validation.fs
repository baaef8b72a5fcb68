namespace Finales.Core

open System.Text.Json

/// One validation problem: Path = JSON path segments of the offending value relative to the validated document's root
/// (object keys as strings, array indices as decimal strings), Message = human readable naming the field and the value,
/// Kind = FastAPI-like type string ("missing", "type_error", "value_error", "limitations", "schema", ...).
type ValidationIssue =
    { Path: string list
      Message: string
      Kind: string }

/// Helpers shared by schema validation and the limitations check: rendering paths and values for messages.
[<RequireQualifiedAccess>]
module ValidationIssue =

    /// Renders a path the way a reader writes it: `formulation[2].fraction`; `<root>` for the empty path.
    let renderPath (path: string list) : string =
        match path with
        | [] -> "<root>"
        | _ ->
            let sb = System.Text.StringBuilder()

            for segment in path do
                if segment.Length > 0 && segment |> Seq.forall System.Char.IsDigit then
                    sb.Append('[').Append(segment).Append(']') |> ignore
                else
                    (if sb.Length > 0 then sb.Append('.') else sb).Append(segment) |> ignore

            sb.ToString()

    // Messages are not HTML: keep '+' (SMILES) and quotes readable.
    let private compact =
        JsonSerializerOptions(
            WriteIndented = false,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping
        )

    /// The compact JSON text of a value, shortened to `maxLength` characters so messages stay readable.
    let renderValue (value: JsonElement) : string =
        let maxLength = 80
        let text = JsonSerializer.Serialize(value, compact)

        if text.Length <= maxLength then
            text
        else
            text.Substring(0, maxLength - 3) + "..."

    /// The JSON type name of a value as JSON Schema spells it (number, integer, string, object, array, boolean, null).
    let jsonTypeName (value: JsonElement) : string =
        match value.ValueKind with
        | JsonValueKind.Object -> "object"
        | JsonValueKind.Array -> "array"
        | JsonValueKind.String -> "string"
        | JsonValueKind.Number ->
            let mutable i = 0L
            if value.TryGetInt64(&i) then "integer" else "number"
        | JsonValueKind.True
        | JsonValueKind.False -> "boolean"
        | JsonValueKind.Null -> "null"
        | _ -> "undefined"

    /// Walks `path` down from `root`; None when a segment does not exist.
    let tryResolve (root: JsonElement) (path: string list) : JsonElement option =
        let rec go (element: JsonElement) path =
            match path with
            | [] -> Some element
            | segment :: rest ->
                match element.ValueKind with
                | JsonValueKind.Object ->
                    match element.TryGetProperty(segment: string) with
                    | true, child -> go child rest
                    | _ -> None
                | JsonValueKind.Array ->
                    match System.Int32.TryParse(segment) with
                    | true, index when index >= 0 && index < element.GetArrayLength() -> go (element.[index]) rest
                    | _ -> None
                | _ -> None

        go root path
