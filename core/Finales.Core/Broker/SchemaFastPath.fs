namespace Finales.Core

open System
open System.Collections.Generic
open System.Text.Json

/// A direct validator for the JSON Schema 2020-12 subset pydantic 2 writes (type, properties, required,
/// additionalProperties, items, prefixItems, minItems, maxItems, allOf, anyOf, oneOf, $ref into the root `$defs`,
/// annotations such as title/description/default/unit). It answers only one question, fast: "is this document
/// certainly valid?". `false` means "invalid, or not sure" and the caller asks JsonSchema.Net, which stays the
/// authority and writes the error messages. A schema with any other keyword gets no fast path at all. Soundness
/// (fast says valid => JsonSchema.Net says valid) is a property test over the corpus schemas and mutated documents.
[<RequireQualifiedAccess>]
module SchemaFastPath =

    /// true: the instance is valid; false: invalid or undecided here.
    type Check = JsonElement -> bool

    exception private Unsupported of string

    /// Keywords with no effect on validity.
    let private annotations =
        HashSet<string>(
            [ "title"
              "description"
              "default"
              "examples"
              "unit"
              "units"
              "$comment"
              "deprecated"
              "readOnly"
              "writeOnly" ]
        )

    let private typeTest (name: string) : Check =
        match name with
        | "object" -> fun x -> x.ValueKind = JsonValueKind.Object
        | "array" -> fun x -> x.ValueKind = JsonValueKind.Array
        | "string" -> fun x -> x.ValueKind = JsonValueKind.String
        | "boolean" -> fun x -> x.ValueKind = JsonValueKind.True || x.ValueKind = JsonValueKind.False
        | "null" -> fun x -> x.ValueKind = JsonValueKind.Null
        | "number" ->
            fun x ->
                let mutable d = 0.0
                x.ValueKind = JsonValueKind.Number && x.TryGetDouble(&d) && Double.IsFinite d
        // 1.0 is an integer in 2020-12 too, but only plain integer literals are decided here.
        | "integer" ->
            fun x ->
                let mutable i = 0L
                x.ValueKind = JsonValueKind.Number && x.TryGetInt64(&i)
        | other -> raise (Unsupported(sprintf "type %s" other))

    let private nonNegativeInt (keyword: string) (v: JsonElement) : int =
        let mutable i = 0

        if v.ValueKind = JsonValueKind.Number && v.TryGetInt32(&i) && i >= 0 then
            i
        else
            raise (Unsupported keyword)

    let private all (checks: Check[]) : Check =
        match checks.Length with
        | 0 -> fun _ -> true
        | 1 -> checks.[0]
        | _ -> fun x -> Array.forall (fun (c: Check) -> c x) checks

    /// The object keywords (properties, required, additionalProperties) as one pass over the instance's members.
    /// Duplicate member names are left to JsonSchema.Net.
    let private objectCheck
        (properties: Dictionary<string, Check>)
        (required: string[])
        (additional: Check option)
        : Check =
        fun x ->
            if x.ValueKind <> JsonValueKind.Object then
                true
            else
                let mutable ok = true
                let mutable seenRequired = 0
                let seen = HashSet<string>(StringComparer.Ordinal)
                let mutable e = x.EnumerateObject()

                while ok && e.MoveNext() do
                    let p = e.Current

                    if not (seen.Add p.Name) then
                        ok <- false
                    else
                        match properties.TryGetValue p.Name with
                        | true, check -> ok <- check p.Value
                        | _ ->
                            match additional with
                            | Some check -> ok <- check p.Value
                            | None -> ()

                        if ok && Array.contains p.Name required then
                            seenRequired <- seenRequired + 1

                ok && seenRequired = required.Length

    let private arrayCheck (prefix: Check[]) (items: Check option) (minItems: int) (maxItems: int) : Check =
        fun x ->
            if x.ValueKind <> JsonValueKind.Array then
                true
            else
                let n = x.GetArrayLength()

                if n < minItems || n > maxItems then
                    false
                else
                    let mutable ok = true
                    let mutable i = 0
                    let mutable e = x.EnumerateArray()

                    while ok && e.MoveNext() do
                        ok <-
                            if i < prefix.Length then
                                prefix.[i] e.Current
                            else
                                match items with
                                | Some check -> check e.Current
                                | None -> true

                        i <- i + 1

                    ok

    /// The fast check of a schema, or None when the schema uses anything outside the subset.
    let tryCompile (root: JsonElement) : Check option =
        let defs = Dictionary<string, Lazy<Check>>(StringComparer.Ordinal)

        let rec build (isRoot: bool) (s: JsonElement) : Check =
            match s.ValueKind with
            | JsonValueKind.True -> fun _ -> true
            | JsonValueKind.False -> fun _ -> false
            | JsonValueKind.Object ->
                let checks = ResizeArray<Check>()
                let properties = Dictionary<string, Check>(StringComparer.Ordinal)
                let mutable hasObjectKeywords = false
                let mutable required: string[] = [||]
                let mutable additional: Check option = None
                let mutable prefix: Check[] = [||]
                let mutable items: Check option = None
                let mutable minItems = 0
                let mutable maxItems = Int32.MaxValue
                let mutable hasArrayKeywords = false

                for p in s.EnumerateObject() do
                    match p.Name with
                    | "type" ->
                        match p.Value.ValueKind with
                        | JsonValueKind.String -> checks.Add(typeTest (p.Value.GetString()))
                        | JsonValueKind.Array ->
                            let tests = [| for t in p.Value.EnumerateArray() -> typeTest (t.GetString()) |]
                            checks.Add(fun x -> Array.exists (fun (c: Check) -> c x) tests)
                        | _ -> raise (Unsupported "type")
                    | "properties" when p.Value.ValueKind = JsonValueKind.Object ->
                        hasObjectKeywords <- true

                        for q in p.Value.EnumerateObject() do
                            properties.[q.Name] <- build false q.Value
                    | "required" when p.Value.ValueKind = JsonValueKind.Array ->
                        hasObjectKeywords <- true

                        required <-
                            [| for r in p.Value.EnumerateArray() ->
                                   if r.ValueKind = JsonValueKind.String then
                                       r.GetString()
                                   else
                                       raise (Unsupported "required") |]
                            |> Array.distinct
                    | "additionalProperties" ->
                        hasObjectKeywords <- true
                        additional <- Some(build false p.Value)
                    | "prefixItems" when p.Value.ValueKind = JsonValueKind.Array ->
                        hasArrayKeywords <- true
                        prefix <- [| for x in p.Value.EnumerateArray() -> build false x |]
                    | "items" when p.Value.ValueKind <> JsonValueKind.Array ->
                        hasArrayKeywords <- true
                        items <- Some(build false p.Value)
                    | "minItems" ->
                        hasArrayKeywords <- true
                        minItems <- nonNegativeInt "minItems" p.Value
                    | "maxItems" ->
                        hasArrayKeywords <- true
                        maxItems <- nonNegativeInt "maxItems" p.Value
                    | "allOf" when p.Value.ValueKind = JsonValueKind.Array ->
                        checks.Add(all [| for x in p.Value.EnumerateArray() -> build false x |])
                    | "anyOf" when p.Value.ValueKind = JsonValueKind.Array ->
                        let branches = [| for x in p.Value.EnumerateArray() -> build false x |]
                        checks.Add(fun x -> Array.exists (fun (c: Check) -> c x) branches)
                    | "oneOf" when p.Value.ValueKind = JsonValueKind.Array && p.Value.GetArrayLength() = 1 ->
                        // "Exactly one of several" cannot be decided from answers that may mean "not sure".
                        checks.Add(build false p.Value.[0])
                    | "$ref" when p.Value.ValueKind = JsonValueKind.String ->
                        let reference = p.Value.GetString()

                        if not (reference.StartsWith("#/$defs/", StringComparison.Ordinal)) then
                            raise (Unsupported reference)

                        let name = reference.Substring("#/$defs/".Length)

                        if name.Contains '/' || name.Contains '~' || name.Contains '%' then
                            raise (Unsupported reference)

                        let target =
                            match defs.TryGetValue name with
                            | true, t -> t
                            | _ -> raise (Unsupported reference)

                        checks.Add(fun x -> target.Value x)
                    | "$defs" when isRoot -> ()
                    | "$schema" when isRoot && p.Value.GetString() = "https://json-schema.org/draft/2020-12/schema" ->
                        ()
                    | name when annotations.Contains name -> ()
                    | name -> raise (Unsupported name)

                if hasObjectKeywords then
                    checks.Add(objectCheck properties required additional)

                if hasArrayKeywords then
                    checks.Add(arrayCheck prefix items minItems maxItems)

                all (checks.ToArray())
            | _ -> raise (Unsupported "schema")

        try
            if root.ValueKind = JsonValueKind.Object then
                match root.TryGetProperty "$defs" with
                | true, d when d.ValueKind = JsonValueKind.Object ->
                    // Declared first, built on first use: definitions may refer to each other and to themselves.
                    for def in d.EnumerateObject() do
                        let body = def.Value
                        defs.[def.Name] <- lazy (build false body)
                | true, _ -> raise (Unsupported "$defs")
                | _ -> ()

            let check = build true root
            // Force every definition now, so an unsupported keyword inside one is found at compile time.
            for d in defs.Values do
                d.Force() |> ignore

            Some check
        with _ ->
            // Unsupported keyword, or a keyword with a value of the wrong shape: JsonSchema.Net decides alone.
            None
