namespace Finales.Core

open System.Text.Json
open System.Text.Json.Nodes

/// The FINALES2 capability template (route GET /capabilities/templates/), reproducing the reference server's
/// `parse_schema_for_template` (FINALES2 engine/server_manager.py): for every property of an object schema a leaf
/// `"<required|optional>, <type>"` with types float/int/str/bool; nested objects (`allOf [$ref]`, `$ref` items,
/// `type: object`) recursively; arrays as a list of item templates; `anyOf` alternatives joined with " or ", where a
/// `{"type":"null"}` branch makes the field "optional" and a referenced object or tuple is rendered the way Python's
/// `str()` renders the dict or tuple (`"optional, {'address': 'required, str'}"`, `"optional, ('float', 'float')"`).
/// Where the reference crashes or drops a field (a bare `$ref` property, an `anyOf` array without `prefixItems`,
/// `type` given as a list) we render the natural extension of the same format instead.
[<RequireQualifiedAccess>]
module Templates =

    let private leaf (text: string) : JsonNode =
        nonNull (JsonValue.Create(text)) :> JsonNode

    let private typeName (jsonType: string) : string option =
        match jsonType with
        | "number" -> Some "float"
        | "integer" -> Some "int"
        | "string" -> Some "str"
        | "boolean" -> Some "bool"
        | _ -> None

    let private tryProp (name: string) (element: JsonElement) : JsonElement option =
        if element.ValueKind = JsonValueKind.Object then
            match element.TryGetProperty(name) with
            | true, value -> Some value
            | _ -> None
        else
            None

    let private tryString (name: string) (element: JsonElement) : string option =
        match tryProp name element with
        | Some value when value.ValueKind = JsonValueKind.String -> value.GetString() |> Option.ofObj
        | _ -> None

    /// Python's repr of a str: single quotes unless the text holds a single quote and no double quote.
    let private pythonStr (text: string) : string =
        let quote =
            if text.Contains('\'') && not (text.Contains('"')) then
                '"'
            else
                '\''

        let sb = System.Text.StringBuilder()
        sb.Append(quote) |> ignore

        for c in text do
            match c with
            | '\\' -> sb.Append("\\\\") |> ignore
            | '\n' -> sb.Append("\\n") |> ignore
            | '\r' -> sb.Append("\\r") |> ignore
            | '\t' -> sb.Append("\\t") |> ignore
            | c when c = quote -> sb.Append('\\').Append(c) |> ignore
            | c -> sb.Append(c) |> ignore

        sb.Append(quote).ToString()

    /// Python's `str()` of the dict/list/str a template node stands for.
    let rec private pythonRepr (node: JsonNode | null) : string =
        match node with
        | Null -> "None"
        | NonNull(:? JsonObject as o) ->
            o
            |> Seq.map (fun kv -> pythonStr kv.Key + ": " + pythonRepr kv.Value)
            |> String.concat ", "
            |> sprintf "{%s}"
        | NonNull(:? JsonArray as a) -> a |> Seq.map pythonRepr |> String.concat ", " |> sprintf "[%s]"
        | NonNull value ->
            match value.GetValueKind() with
            | JsonValueKind.String -> pythonStr (value.GetValue<string>())
            | _ -> value.ToJsonString()

    /// Resolves a local `$ref` ("#/$defs/Name", "#/definitions/Name") against the root schema.
    let private resolveRef (root: JsonElement) (reference: string) : JsonElement option =
        if reference.StartsWith("#/") then
            let segments =
                reference.Substring(2).Split('/')
                |> Array.map (fun s -> s.Replace("~1", "/").Replace("~0", "~"))
                |> List.ofArray

            ValidationIssue.tryResolve root segments
        else
            None

    let rec private objectTemplate (root: JsonElement) (depth: int) (schema: JsonElement) : JsonObject =
        let template = JsonObject()

        let required =
            match tryProp "required" schema with
            | Some r when r.ValueKind = JsonValueKind.Array ->
                r.EnumerateArray()
                |> Seq.choose (fun e ->
                    if e.ValueKind = JsonValueKind.String then
                        e.GetString() |> Option.ofObj
                    else
                        None)
                |> Set.ofSeq
            | _ -> Set.empty

        let isObject =
            match tryProp "type" schema with
            | Some t when t.ValueKind = JsonValueKind.String -> t.GetString() = "object"
            | _ -> false

        match tryProp "properties" schema with
        | Some properties when isObject && properties.ValueKind = JsonValueKind.Object && depth < 32 ->
            for property in properties.EnumerateObject() do
                let requirement =
                    if required.Contains property.Name then
                        "required"
                    else
                        "optional"

                match propertyTemplate root depth requirement property.Value with
                | Some node -> template.[property.Name] <- node
                | None -> ()
        | _ -> ()

        template

    /// The template of the schema a `$ref` points to (an empty object when it cannot be resolved).
    and private refTemplate (root: JsonElement) (depth: int) (reference: string) : JsonObject =
        match resolveRef root reference with
        | Some target -> objectTemplate root (depth + 1) target
        | None -> JsonObject()

    and private itemTemplate
        (root: JsonElement)
        (depth: int)
        (requirement: string)
        (item: JsonElement)
        : JsonNode option =
        match tryString "$ref" item, tryProp "type" item with
        | Some reference, _ -> Some(refTemplate root depth reference :> JsonNode)
        | None, Some t when t.ValueKind = JsonValueKind.String ->
            match typeName (t.GetString() |> Option.ofObj |> Option.defaultValue "") with
            | Some name -> Some(leaf (requirement + ", " + name))
            | None when t.GetString() = "object" -> Some(objectTemplate root (depth + 1) item :> JsonNode)
            | None -> None
        | _ -> None

    /// The text one `anyOf` alternative contributes, and whether it is the null alternative.
    and private alternativeText
        (root: JsonElement)
        (depth: int)
        (requirement: string)
        (alternative: JsonElement)
        : string option * bool =
        match
            tryString "$ref" alternative, tryProp "additionalProperties" alternative, tryString "type" alternative
        with
        | Some reference, _, _ -> Some(pythonRepr (refTemplate root depth reference)), false
        | None, Some additional, _ when additional.ValueKind = JsonValueKind.Object ->
            let inner =
                match tryString "$ref" additional with
                | Some reference -> refTemplate root depth reference :> JsonNode
                | None ->
                    match itemTemplate root depth requirement additional with
                    | Some node -> node
                    | None -> JsonObject() :> JsonNode

            let wrapper = JsonObject()
            wrapper.[requirement + ", str"] <- inner
            Some(pythonRepr wrapper), false
        | None, _, Some "null" -> None, true
        | None, _, Some "array" ->
            match tryProp "prefixItems" alternative with
            | Some prefix when prefix.ValueKind = JsonValueKind.Array ->
                let names =
                    prefix.EnumerateArray()
                    |> Seq.map (fun p -> tryString "type" p |> Option.bind typeName |> Option.defaultValue "Any")
                    |> Seq.map pythonStr
                    |> List.ofSeq

                let fixedLength =
                    match tryProp "minItems" alternative, tryProp "maxItems" alternative with
                    | Some lo, Some hi -> lo.GetRawText() = hi.GetRawText()
                    | _ -> false

                if fixedLength then
                    let body = String.concat ", " names

                    Some(
                        if names.Length = 1 then
                            sprintf "(%s,)" body
                        else
                            sprintf "(%s)" body
                    ),
                    false
                else
                    Some(sprintf "[%s]" (String.concat ", " names)), false
            | _ ->
                let inner =
                    match tryProp "items" alternative with
                    | Some items ->
                        match tryString "type" items |> Option.bind typeName with
                        | Some name -> pythonStr name
                        | None ->
                            match tryString "$ref" items with
                            | Some reference -> pythonRepr (refTemplate root depth reference)
                            | None -> ""
                    | None -> ""

                Some(sprintf "[%s]" inner), false
        | None, _, Some other -> typeName other, false
        | None, _, None -> None, false

    and private propertyTemplate
        (root: JsonElement)
        (depth: int)
        (requirement: string)
        (property: JsonElement)
        : JsonNode option =
        match tryProp "type" property with
        | Some t when t.ValueKind = JsonValueKind.String ->
            let jsonType = t.GetString() |> Option.ofObj |> Option.defaultValue ""

            match typeName jsonType with
            | Some name -> Some(leaf (requirement + ", " + name))
            | None when jsonType = "array" ->
                let list = JsonArray()

                let items =
                    match tryProp "items" property with
                    | Some items when items.ValueKind = JsonValueKind.Array -> items.EnumerateArray() |> List.ofSeq
                    | Some items when items.ValueKind = JsonValueKind.Object -> [ items ]
                    | _ ->
                        match tryProp "prefixItems" property with
                        | Some prefix when prefix.ValueKind = JsonValueKind.Array ->
                            prefix.EnumerateArray() |> List.ofSeq
                        | _ -> []

                for item in items do
                    match itemTemplate root depth requirement item with
                    | Some node -> list.Add(node)
                    | None -> ()

                Some(list :> JsonNode)
            | None when jsonType = "object" -> Some(objectTemplate root (depth + 1) property :> JsonNode)
            | None -> None
        | Some t when t.ValueKind = JsonValueKind.Array ->
            // A type list (["number", "null"]) is the anyOf of its members.
            let names =
                t.EnumerateArray()
                |> Seq.choose (fun e -> e.GetString() |> Option.ofObj)
                |> List.ofSeq

            let optional = names |> List.contains "null"
            let texts = names |> List.choose typeName
            let req = if optional then "optional" else requirement
            Some(leaf (req + ", " + String.concat " or " texts))
        | _ ->
            match tryProp "allOf" property, tryProp "anyOf" property, tryString "$ref" property with
            | Some allOf, _, _ when allOf.ValueKind = JsonValueKind.Array ->
                // The reference keeps the template of the last $ref in the allOf.
                allOf.EnumerateArray()
                |> Seq.choose (tryString "$ref")
                |> Seq.tryLast
                |> Option.map (fun reference -> refTemplate root depth reference :> JsonNode)
            | _, Some anyOf, _ when anyOf.ValueKind = JsonValueKind.Array ->
                let parts =
                    anyOf.EnumerateArray()
                    |> Seq.map (alternativeText root depth requirement)
                    |> List.ofSeq

                let optional = parts |> List.exists snd
                let texts = parts |> List.choose fst
                let req = if optional then "optional" else requirement
                Some(leaf (req + ", " + String.concat " or " texts))
            | _, _, Some reference -> Some(refTemplate root depth reference :> JsonNode)
            | _ -> None

    /// The template of a capability schema (parameters or result output): an object keyed like the schema's properties.
    let ofSchema (schema: JsonElement) : JsonNode =
        objectTemplate schema 0 schema :> JsonNode
