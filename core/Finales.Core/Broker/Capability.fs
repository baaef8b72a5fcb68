namespace Finales.Core

open System
open System.Text.Json
open Json.Schema

/// Capability schemas (JSON Schema 2020-12 as pydantic 2 writes it) compiled once and evaluated per request.
/// Evaluation is done by JsonSchema.Net with a dialect that tolerates unknown keywords (pydantic's `unit`); the
/// library's hierarchical output is turned into FastAPI-like issues: only failing branches are followed, a missing
/// required property gets the property's path (like FastAPI's `loc`), type errors at one location from several
/// `anyOf` branches are merged ("expected number or null"), and the type error of a `{"type":"null"}` branch is
/// dropped when another branch of the same value failed deeper (the value had the right type, a field inside is wrong).
[<RequireQualifiedAccess>]
module CapabilitySchema =

    /// A compiled schema; immutable, so one instance serves many concurrent requests.
    type Compiled =
        private
            {
                Schema: JsonSchema
                Raw: JsonElement
                /// The fast "certainly valid" check, when the schema stays inside its subset.
                Fast: SchemaFastPath.Check option
            }

    let private dialect =
        DialectExtensions.With(Dialect.Draft202012, Seq.empty, null, Nullable(), Nullable(true))

    let private flagOptions =
        EvaluationOptions(OutputFormat = OutputFormat.Flag, Culture = Globalization.CultureInfo.InvariantCulture)

    let private detailOptions =
        EvaluationOptions(
            OutputFormat = OutputFormat.Hierarchical,
            Culture = Globalization.CultureInfo.InvariantCulture
        )

    let private parsePointer (pointer: string) : string list =
        if String.IsNullOrEmpty pointer then
            []
        else
            pointer.TrimStart('#').Split('/')
            |> Array.skip 1
            |> Array.map (fun s -> Uri.UnescapeDataString(s).Replace("~1", "/").Replace("~0", "~"))
            |> List.ofArray



    /// Subschemas that apply at the same place of the document as their parent (they do not step into it).
    let private inPlaceKeywords =
        [ "allOf"; "anyOf"; "oneOf"; "not"; "if"; "then"; "else"; "dependentSchemas" ]

    /// The local `$ref` targets a schema reaches without stepping into the document.
    let rec private inPlaceRefs (schema: JsonElement) : string list =
        if schema.ValueKind <> JsonValueKind.Object then
            []
        else
            [ match schema.TryGetProperty "$ref" with
              | true, r when r.ValueKind = JsonValueKind.String && (r.GetString() |> nonNull).StartsWith "#" ->
                  yield (r.GetString() |> nonNull).Substring 1
              | _ -> ()
              for keyword in inPlaceKeywords do
                  match schema.TryGetProperty keyword with
                  | true, v when v.ValueKind = JsonValueKind.Array ->
                      for x in v.EnumerateArray() do
                          yield! inPlaceRefs x
                  | true, v when v.ValueKind = JsonValueKind.Object && keyword = "dependentSchemas" ->
                      for p in v.EnumerateObject() do
                          yield! inPlaceRefs p.Value
                  | true, v -> yield! inPlaceRefs v
                  | _ -> () ]

    /// A chain of `$ref`s that comes back to where it started without stepping into the document (evaluating it
    /// would never end: JsonSchema.Net overflows the stack), as "#/$defs/A -> #/$defs/A"; None when there is none.
    let private refCycle (root: JsonElement) : string option =
        let resolve (pointer: string) =
            if pointer = "" then
                Some root
            elif pointer.StartsWith "/" then
                ValidationIssue.tryResolve root (parsePointer ("#" + pointer))
            else
                None // an anchor or an id-relative reference: not followed here

        let finished = Collections.Generic.HashSet<string>()

        let rec visit (path: string list) (pointer: string) : string list option =
            if List.contains pointer path then
                Some(pointer :: path |> List.rev |> List.skipWhile ((<>) pointer))
            elif finished.Contains pointer then
                None
            else
                let found =
                    match resolve pointer with
                    | Some target -> inPlaceRefs target |> List.tryPick (visit (pointer :: path))
                    | None -> None

                finished.Add pointer |> ignore
                found

        let rec allRefs (e: JsonElement) : string list =
            match e.ValueKind with
            | JsonValueKind.Object ->
                [ for p in e.EnumerateObject() do
                      if p.Name = "$ref" && p.Value.ValueKind = JsonValueKind.String then
                          let r = p.Value.GetString() |> nonNull

                          if r.StartsWith "#" then
                              yield r.Substring 1
                      else
                          yield! allRefs p.Value ]
            | JsonValueKind.Array ->
                [ for x in e.EnumerateArray() do
                      yield! allRefs x ]
            | _ -> []

        "" :: allRefs root
        |> List.distinct
        |> List.tryPick (visit [])
        |> Option.map (fun chain -> chain |> List.map (fun p -> "#" + p) |> String.concat " -> ")

    /// Compiles a schema; Error names what is wrong with it. Every compile gets its own schema registry, so two
    /// capabilities with the same `$id` or `$defs` names never see each other.
    let compile (schema: JsonElement) : Result<Compiled, string> =
        if
            schema.ValueKind <> JsonValueKind.Object
            && schema.ValueKind <> JsonValueKind.True
            && schema.ValueKind <> JsonValueKind.False
        then
            Error(
                sprintf
                    "the schema is %s (%s); a JSON Schema must be an object or a boolean"
                    (ValidationIssue.renderValue schema)
                    (ValidationIssue.jsonTypeName schema)
            )
        else
            let raw = schema.Clone()

            match refCycle raw with
            | Some chain ->
                Error(
                    sprintf
                        "the schema refers to itself without stepping into the document (%s): evaluating it would never end"
                        chain
                )
            | None ->

                try
                    let built =
                        JsonSchema.Build(raw, BuildOptions(SchemaRegistry = SchemaRegistry(), Dialect = dialect))
                    // Evaluating once surfaces unresolvable $refs now rather than on the first request.
                    use probe = JsonDocument.Parse("null")
                    built.Evaluate(probe.RootElement, flagOptions) |> ignore

                    Ok
                        { Schema = built
                          Raw = raw
                          Fast = SchemaFastPath.tryCompile raw }
                with e ->
                    // The schema comes from an administrator: whatever the library rejects is a registration error.
                    Error(sprintf "the schema is not usable JSON Schema: %s" e.Message)

    /// The schema object a result node evaluated (from the fragment of its absolute schema location).
    let private schemaNode (compiled: Compiled) (location: Uri) : JsonElement option =
        let fragment = location.Fragment

        if String.IsNullOrEmpty fragment || fragment = "#" then
            Some compiled.Raw
        else
            ValidationIssue.tryResolve compiled.Raw (parsePointer (fragment.Substring 1))

    let private stringsOf (element: JsonElement) : string list =
        match element.ValueKind with
        | JsonValueKind.String -> [ element.GetString() |> Option.ofObj |> Option.defaultValue "" ]
        | JsonValueKind.Array ->
            element.EnumerateArray()
            |> Seq.choose (fun e ->
                if e.ValueKind = JsonValueKind.String then
                    e.GetString() |> Option.ofObj
                else
                    None)
            |> List.ofSeq
        | _ -> []

    /// Quoted names inside a library message such as `Required properties ["a","b"] are not present`.
    let private quotedNames (message: string) : string list =
        Text.RegularExpressions.Regex.Matches(message, "\"((?:[^\"\\\\]|\\\\.)*)\"")
        |> Seq.map (fun m -> m.Groups.[1].Value)
        |> List.ofSeq

    type private RawIssue =
        | Missing of path: string list * field: string
        | TypeMismatch of path: string list * expected: string list
        | Other of path: string list * keyword: string * message: string

    let private collect (compiled: Compiled) (instance: JsonElement) (results: EvaluationResults) : RawIssue list =
        let issues = Collections.Generic.List<RawIssue>()

        let rec visit (node: EvaluationResults) =
            if not node.IsValid then
                let path = parsePointer (string node.InstanceLocation)

                if not (isNull node.Errors) then
                    for KeyValue(keyword, message) in node.Errors do
                        match keyword with
                        | "required" ->
                            let present (name: string) =
                                match ValidationIssue.tryResolve instance path with
                                | Some o when o.ValueKind = JsonValueKind.Object ->
                                    match o.TryGetProperty(name) with
                                    | true, _ -> true
                                    | _ -> false
                                | _ -> false

                            let declared =
                                schemaNode compiled node.SchemaLocation
                                |> Option.bind (fun s ->
                                    match s.TryGetProperty("required") with
                                    | true, r -> Some(stringsOf r)
                                    | _ -> None)
                                |> Option.defaultWith (fun () -> quotedNames message)

                            match declared |> List.filter (present >> not) with
                            | [] -> issues.Add(Other(path, keyword, message))
                            | missing ->
                                for field in missing do
                                    issues.Add(Missing(path @ [ field ], field))
                        | "type" ->
                            let expected =
                                schemaNode compiled node.SchemaLocation
                                |> Option.bind (fun s ->
                                    match s.TryGetProperty("type") with
                                    | true, t -> Some(stringsOf t)
                                    | _ -> None)
                                |> Option.defaultWith (fun () -> quotedNames message |> List.skip 1)

                            issues.Add(TypeMismatch(path, expected))
                        | _ -> issues.Add(Other(path, keyword, message))

                if not (isNull node.Details) then
                    for child in node.Details do
                        visit child

        visit results
        List.ofSeq issues

    let rec private isPrefix (prefix: string list) (path: string list) =
        match prefix, path with
        | [], _ -> true
        | p :: ps, q :: qs when p = q -> isPrefix ps qs
        | _ -> false

    let private aggregators =
        set
            [ "anyOf"
              "allOf"
              "oneOf"
              "$ref"
              "$dynamicRef"
              "properties"
              "items"
              "prefixItems"
              "additionalProperties"
              "patternProperties"
              "unevaluatedItems"
              "unevaluatedProperties"
              "then"
              "else"
              "dependentSchemas"
              "contains"
              "propertyNames" ]

    let private toIssues (instance: JsonElement) (raw: RawIssue list) : ValidationIssue list =
        let pathOf =
            function
            | Missing(p, _)
            | TypeMismatch(p, _)
            | Other(p, _, _) -> p

        let deeperExists (path: string list) =
            raw
            |> List.exists (fun r -> let q = pathOf r in q.Length > path.Length && isPrefix path q)

        let valueText (path: string list) =
            match ValidationIssue.tryResolve instance path with
            | Some v -> sprintf "%s (%s)" (ValidationIssue.renderValue v) (ValidationIssue.jsonTypeName v)
            | None -> "absent"

        let typeIssues =
            raw
            |> List.choose (function
                | TypeMismatch(p, expected) -> Some(p, expected)
                | _ -> None)
            |> List.groupBy fst
            |> List.choose (fun (path, group) ->
                let expected = group |> List.collect snd |> List.distinct
                // A value of the right type for one anyOf branch that failed deeper: the type errors of the
                // other branches (typically {"type":"null"}) are noise.
                if deeperExists path then
                    None
                else
                    Some
                        { Path = path
                          Kind = "type_error"
                          Message =
                            sprintf
                                "'%s' is %s; expected %s"
                                (ValidationIssue.renderPath path)
                                (valueText path)
                                (String.concat " or " expected) })

        let otherIssues =
            raw
            |> List.choose (function
                | Missing(path, field) ->
                    Some
                        { Path = path
                          Kind = "missing"
                          Message =
                            sprintf "field '%s' is required but missing at '%s'" field (ValidationIssue.renderPath path) }
                | Other(path, keyword, _) when aggregators.Contains keyword && (deeperExists path || raw.Length > 1) ->
                    None
                | Other(path, keyword, message) ->
                    let kind =
                        match keyword with
                        | "enum"
                        | "const"
                        | "minimum"
                        | "maximum"
                        | "exclusiveMinimum"
                        | "exclusiveMaximum"
                        | "multipleOf"
                        | "minLength"
                        | "maxLength"
                        | "pattern"
                        | "format"
                        | "minItems"
                        | "maxItems"
                        | "uniqueItems"
                        | "minProperties"
                        | "maxProperties" -> "value_error"
                        | "false" -> "extra_forbidden"
                        | _ -> "schema"

                    Some
                        { Path = path
                          Kind = kind
                          Message =
                            sprintf
                                "'%s' is %s: %s (%s)"
                                (ValidationIssue.renderPath path)
                                (valueText path)
                                message
                                keyword }
                | TypeMismatch _ -> None)

        (otherIssues @ typeIssues) |> List.distinct

    /// The fast "certainly valid" check of the schema, if it stays inside SchemaFastPath's subset.
    let fastPath (compiled: Compiled) : SchemaFastPath.Check option = compiled.Fast

    /// JsonSchema.Net's verdict alone (the authority the fast path must never contradict when it says valid).
    let isValidByLibrary (compiled: Compiled) (instance: JsonElement) : bool =
        compiled.Schema.Evaluate(instance, flagOptions).IsValid

    /// All problems (empty list = valid). Must handle pydantic-2 output: $defs/$ref, allOf wrappers, anyOf [.., {"type":"null"}], prefixItems, and the non-standard "unit" keyword (tolerated, ignored).
    let validate (compiled: Compiled) (instance: JsonElement) : ValidationIssue list =
        let certainlyValid =
            match compiled.Fast with
            | Some check -> check instance
            | None -> false

        if certainlyValid || compiled.Schema.Evaluate(instance, flagOptions).IsValid then
            []
        else
            let detailed = compiled.Schema.Evaluate(instance, detailOptions)
            let raw = collect compiled instance detailed

            match toIssues instance raw with
            | [] ->
                [ { Path = []
                    Kind = "schema"
                    Message = sprintf "the document %s does not match the schema" (ValidationIssue.renderValue instance) } ]
            | issues -> issues

    /// The FINALES2 template of route GET /capabilities/templates/: leaves read "required, float" / "optional, str" etc.
    let template (schema: JsonElement) : System.Text.Json.Nodes.JsonNode = Templates.ofSchema schema
