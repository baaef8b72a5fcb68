namespace Finales.Core

open System
open System.Globalization
open System.IO
open System.Collections.Generic
open System.Text
open System.Text.Json

/// A Thoth-style decoder: given the JSON path of the value (segments from the document root)
/// and the value, a typed result or the list of problems, each naming its path.
type Decoder<'T> = string list -> JsonElement -> Result<'T, ValidationIssue list>

/// Explicit decoders over System.Text.Json elements; errors carry the JSON path.
[<RequireQualifiedAccess>]
module Decode =
    let private kindName (e: JsonElement) =
        match e.ValueKind with
        | JsonValueKind.Object -> "an object"
        | JsonValueKind.Array -> "an array"
        | JsonValueKind.String -> "a string"
        | JsonValueKind.Number -> "a number"
        | JsonValueKind.True
        | JsonValueKind.False -> "a boolean"
        | JsonValueKind.Null -> "null"
        | _ -> "nothing"

    /// Shortens a raw JSON value for inclusion in an error message.
    let preview (e: JsonElement) : string =
        let raw = e.GetRawText()

        if raw.Length > 60 then
            raw.Substring(0, 57) + "..."
        else
            raw

    let fail (path: string list) (kind: string) (message: string) : Result<'T, ValidationIssue list> =
        Error
            [ { Path = path
                Message = message
                Kind = kind } ]

    let private typeError path (expected: string) (e: JsonElement) =
        let field = if List.isEmpty path then "body" else List.last path
        fail path "type_error" (sprintf "%s must be %s, got %s %s" field expected (kindName e) (preview e))

    let string: Decoder<string> =
        fun path e ->
            if e.ValueKind = JsonValueKind.String then
                Ok(e.GetString() |> Option.ofObj |> Option.defaultValue "")
            else
                typeError path "a string" e

    let float: Decoder<float> =
        fun path e ->
            if e.ValueKind = JsonValueKind.Number then
                Ok(e.GetDouble())
            else
                typeError path "a number" e

    let bool: Decoder<bool> =
        fun path e ->
            match e.ValueKind with
            | JsonValueKind.True -> Ok true
            | JsonValueKind.False -> Ok false
            | _ -> typeError path "a boolean" e

    /// Any JSON object, kept as an element (cloned, so it outlives its document).
    let object: Decoder<JsonElement> =
        fun path e ->
            if e.ValueKind = JsonValueKind.Object then
                Ok(e.Clone())
            else
                typeError path "an object" e

    let list (item: Decoder<'T>) : Decoder<'T list> =
        fun path e ->
            if e.ValueKind <> JsonValueKind.Array then
                typeError path "a list" e
            else
                let results =
                    e.EnumerateArray()
                    |> Seq.mapi (fun i x -> item (path @ [ i.ToString() ]) x)
                    |> List.ofSeq

                let errors =
                    results
                    |> List.collect (function
                        | Error es -> es
                        | Ok _ -> [])

                if errors.IsEmpty then
                    Ok(
                        results
                        |> List.choose (function
                            | Ok v -> Some v
                            | Error _ -> None)
                    )
                else
                    Error errors

    /// The members of an object, in document order, each decoded.
    let keyValuePairs (value: Decoder<'T>) : Decoder<(string * 'T) list> =
        fun path e ->
            if e.ValueKind <> JsonValueKind.Object then
                typeError path "an object" e
            else
                let results =
                    e.EnumerateObject()
                    |> Seq.map (fun p -> p.Name, value (path @ [ p.Name ]) p.Value)
                    |> List.ofSeq

                let errors =
                    results
                    |> List.collect (function
                        | _, Error es -> es
                        | _ -> [])

                if errors.IsEmpty then
                    Ok(
                        results
                        |> List.choose (function
                            | k, Ok v -> Some(k, v)
                            | _ -> None)
                    )
                else
                    Error errors

    /// A required member of an object.
    let field (name: string) (value: Decoder<'T>) : Decoder<'T> =
        fun path e ->
            if e.ValueKind <> JsonValueKind.Object then
                typeError path "an object" e
            else
                match e.TryGetProperty name with
                | true, v -> value (path @ [ name ]) v
                | _ -> fail (path @ [ name ]) "missing" (sprintf "field required: %s" name)

    /// An optional member: absent or null gives None.
    let optionalField (name: string) (value: Decoder<'T>) : Decoder<'T option> =
        fun path e ->
            if e.ValueKind <> JsonValueKind.Object then
                typeError path "an object" e
            else
                match e.TryGetProperty name with
                | true, v when v.ValueKind <> JsonValueKind.Null -> value (path @ [ name ]) v |> Result.map Some
                | _ -> Ok None

    let map (f: 'A -> 'B) (d: Decoder<'A>) : Decoder<'B> = fun path e -> d path e |> Result.map f

    let andThen (f: string list -> 'A -> Result<'B, ValidationIssue list>) (d: Decoder<'A>) : Decoder<'B> =
        fun path e -> d path e |> Result.bind (f path)

/// Collects every error of independent results (a small applicative).
[<RequireQualifiedAccess>]
module Validation =
    let combine2 (a: Result<'A, ValidationIssue list>) (b: Result<'B, ValidationIssue list>) =
        match a, b with
        | Ok a, Ok b -> Ok(a, b)
        | Error x, Ok _ -> Error x
        | Ok _, Error y -> Error y
        | Error x, Error y -> Error(x @ y)

/// Identifiers and timestamps in their FINALES2 wire forms.
[<RequireQualifiedAccess>]
module WireFormat =
    /// Parses the UUID spellings Python's uuid.UUID accepts: dashed, 32 hex digits, braces, `urn:uuid:` prefix.
    let tryParseUuid (text: string) : Guid option =
        if String.IsNullOrWhiteSpace text then
            None
        else
            let t = text.Trim()

            let t =
                if t.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase) then
                    t.Substring 9
                else
                    t

            let formats = [| "D"; "N"; "B" |]

            formats
            |> Array.tryPick (fun f ->
                match Guid.TryParseExact(t, f) with
                | true, g -> Some g
                | _ -> None)

    /// Dashed lowercase, the form every response uses.
    let uuid (g: Guid) : string = g.ToString("D")

    /// ISO-8601 UTC with microseconds and no offset suffix, e.g. 2026-11-25T11:29:20.000208.
    let ctime (t: DateTime) : string =
        t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture)

    let uuidDecoder: Decoder<Guid> =
        fun path e ->
            match Decode.string path e with
            | Error es -> Error es
            | Ok s ->
                match tryParseUuid s with
                | Some g -> Ok g
                | None ->
                    Decode.fail
                        path
                        "value_error.uuid"
                        (sprintf "%s is not a valid UUID: %s" (List.last path) (Decode.preview e))

/// The request a tenant posts (FINALES2 `Request`), plus our optional `parent_request` link.
type RequestBody =
    {
        Quantity: string
        Methods: string list
        /// Method name -> its parameters object, in document order.
        Parameters: (string * JsonElement) list
        TenantUuid: Guid
        ParentRequest: Guid option
    }

/// A result a tenant posts (FINALES2 `Result`). `RequestUuid` is None for an unsolicited result's empty id.
type ResultBody =
    { Data: JsonElement
      Quantity: string
      Method: string list
      Parameters: (string * JsonElement) list
      TenantUuid: Guid
      RequestUuid: Guid option }

/// Caps on what one body may hold, far above anything real FINALES2 payloads use (the corpus: 1-2 methods,
/// formulations of a few rows, parameter arrays of at most 500 items, tenant files of at most 23 KB);
/// exceeding one is refused with 422 naming the field and the limit. Broker options with these defaults.
type InputLimits =
    {
        /// Methods in a request's `methods` (and members of its `parameters`).
        MaxMethods: int
        /// Characters of a quantity or method name.
        MaxNameLength: int
        /// Items of any array inside a request's parameters.
        MaxParameterArrayItems: int
        /// Rows of a `formulation` array inside a request's parameters.
        MaxFormulationRows: int
        /// (quantity, method) entries in one tenant's limitations.
        MaxLimitationEntries: int
        /// Bytes of one tenant's limitations JSON.
        MaxLimitationsBytes: int
    }

[<RequireQualifiedAccess>]
module InputLimits =
    let defaults: InputLimits =
        { MaxMethods = 64
          MaxNameLength = 256
          MaxParameterArrayItems = 10000
          MaxFormulationRows = 1000
          MaxLimitationEntries = 256
          MaxLimitationsBytes = 256 * 1024 }

    /// No caps: for reading back what the broker stored itself (possibly under other limits).
    let none: InputLimits =
        { MaxMethods = Int32.MaxValue
          MaxNameLength = Int32.MaxValue
          MaxParameterArrayItems = Int32.MaxValue
          MaxFormulationRows = Int32.MaxValue
          MaxLimitationEntries = Int32.MaxValue
          MaxLimitationsBytes = Int32.MaxValue }

/// Decoders and canonical encoders of the FINALES2 bodies.
[<RequireQualifiedAccess>]
module Wire =
    let private nonEmptyString: Decoder<string> =
        Decode.string
        |> Decode.andThen (fun path s ->
            if String.IsNullOrWhiteSpace s then
                Decode.fail path "value_error" (sprintf "%s must not be empty" (List.last path))
            else
                Ok s)

    /// A name (quantity, method): a non-empty string of at most `limits.MaxNameLength` characters.
    let private name (limits: InputLimits) : Decoder<string> =
        nonEmptyString
        |> Decode.andThen (fun path s ->
            if s.Length > limits.MaxNameLength then
                Decode.fail
                    path
                    "value_error.any_str.max_length"
                    (sprintf
                        "%s is %d characters long; at most %d are allowed"
                        (List.last path)
                        s.Length
                        limits.MaxNameLength)
            else
                Ok s)

    /// `inner` on an array or object of at most `max` items (counted before anything is decoded).
    let private capped (max: int) (what: string) (inner: Decoder<'T>) : Decoder<'T> =
        fun path e ->
            let count =
                match e.ValueKind with
                | JsonValueKind.Array -> e.GetArrayLength()
                | JsonValueKind.Object ->
                    let mutable n = 0
                    let mutable members = e.EnumerateObject()

                    while n <= max && members.MoveNext() do
                        n <- n + 1

                    n
                | _ -> 0

            if count > max then
                Decode.fail
                    path
                    "value_error.list.max_items"
                    (sprintf "%s holds more than %d %s; at most %d are allowed" (List.last path) max what max)
            else
                inner path e

    /// Decodes a request body under `limits`; `path` is where the body sits (FastAPI uses ["body"]).
    let requestWithin (limits: InputLimits) : Decoder<RequestBody> =
        fun path e ->
            let quantity = Decode.field "quantity" (name limits) path e

            let methods =
                Decode.field "methods" (capped limits.MaxMethods "methods" (Decode.list (name limits))) path e

            let parameters =
                Decode.field
                    "parameters"
                    (capped limits.MaxMethods "members" (Decode.keyValuePairs Decode.object))
                    path
                    e

            let tenant = Decode.field "tenant_uuid" WireFormat.uuidDecoder path e
            let parent = Decode.optionalField "parent_request" WireFormat.uuidDecoder path e

            match
                Validation.combine2
                    (Validation.combine2 quantity methods)
                    (Validation.combine2 (Validation.combine2 parameters tenant) parent)
            with
            | Error es -> Error es
            | Ok((q, ms), ((ps, t), parent)) ->
                let methodSet = HashSet<string>(ms, StringComparer.Ordinal)
                let parameterSet = HashSet<string>(ps |> Seq.map fst, StringComparer.Ordinal)
                let seen = HashSet<string>(StringComparer.Ordinal)

                let methodIssues =
                    [ if ms.IsEmpty then
                          { Path = path @ [ "methods" ]
                            Message = "methods must name at least one method"
                            Kind = "value_error" }
                      for i, m in List.indexed ms do
                          if not (seen.Add m) then
                              { Path = path @ [ "methods"; i.ToString() ]
                                Message = sprintf "method %s is listed twice" m
                                Kind = "value_error" }

                          if not (parameterSet.Contains m) then
                              { Path = path @ [ "parameters"; m ]
                                Message = sprintf "parameters for method %s are missing" m
                                Kind = "missing" }
                      for k, _ in ps do
                          if not (methodSet.Contains k) then
                              { Path = path @ [ "parameters"; k ]
                                Message = sprintf "parameters given for method %s, which is not in methods %A" k ms
                                Kind = "value_error" } ]

                if methodIssues.IsEmpty then
                    Ok
                        { Quantity = q
                          Methods = ms
                          Parameters = ps
                          TenantUuid = t
                          ParentRequest = parent }
                else
                    Error methodIssues

    /// Decodes a request body under the default limits.
    let request: Decoder<RequestBody> =
        fun path e -> requestWithin InputLimits.defaults path e

    /// Decodes a result body. `requireRequestId` is false for unsolicited results (where "" is allowed and ignored).
    let resultWithin (limits: InputLimits) (requireRequestId: bool) : Decoder<ResultBody> =
        fun path e ->
            let data = Decode.field "data" Decode.object path e
            let quantity = Decode.field "quantity" (name limits) path e

            let methods =
                Decode.field "method" (capped limits.MaxMethods "methods" (Decode.list (name limits))) path e

            let parameters =
                Decode.field
                    "parameters"
                    (capped limits.MaxMethods "members" (Decode.keyValuePairs Decode.object))
                    path
                    e

            let tenant = Decode.field "tenant_uuid" WireFormat.uuidDecoder path e

            let requestId: Result<Guid option, ValidationIssue list> =
                if requireRequestId then
                    Decode.field "request_uuid" WireFormat.uuidDecoder path e |> Result.map Some
                else
                    Decode.field "request_uuid" Decode.string path e |> Result.map (fun _ -> None)

            match
                Validation.combine2
                    (Validation.combine2 data quantity)
                    (Validation.combine2 (Validation.combine2 methods parameters) (Validation.combine2 tenant requestId))
            with
            | Error es -> Error es
            | Ok((d, q), ((ms, ps), (t, r))) ->
                let issues =
                    [ if List.length ms <> 1 then
                          { Path = path @ [ "method" ]
                            Message = sprintf "method must name exactly one method, got %d" (List.length ms)
                            Kind = "value_error" }
                      for k, _ in ps do
                          if not (List.contains k ms) then
                              { Path = path @ [ "parameters"; k ]
                                Message = sprintf "parameters given for method %s, which is not the result's method" k
                                Kind = "value_error" } ]

                if issues.IsEmpty then
                    Ok
                        { Data = d
                          Quantity = q
                          Method = ms
                          Parameters = ps
                          TenantUuid = t
                          RequestUuid = r }
                else
                    Error issues

    /// Decodes a result body under the default limits.
    let result (requireRequestId: bool) : Decoder<ResultBody> =
        fun path e -> resultWithin InputLimits.defaults requireRequestId path e

    let private writeParameters (w: Utf8JsonWriter) (ps: (string * JsonElement) list) =
        w.WriteStartObject "parameters"

        for k, v in ps do
            w.WritePropertyName k
            v.WriteTo w

        w.WriteEndObject()

    let private render (write: Utf8JsonWriter -> unit) : string =
        use stream = new MemoryStream()
        // Relaxed escaping keeps SMILES such as [Li+] readable (the default escapes + as \u002B).
        use w =
            new Utf8JsonWriter(
                stream,
                JsonWriterOptions(Encoder = Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)
            )

        write w
        w.Flush()
        Encoding.UTF8.GetString(stream.ToArray())

    /// The canonical JSON of a request, as stored and as returned under RequestInfo.request.
    let encodeRequest (r: RequestBody) : string =
        render (fun w ->
            w.WriteStartObject()
            w.WriteString("quantity", r.Quantity)
            w.WriteStartArray "methods"

            for m in r.Methods do
                w.WriteStringValue m

            w.WriteEndArray()
            writeParameters w r.Parameters
            w.WriteString("tenant_uuid", WireFormat.uuid r.TenantUuid)

            match r.ParentRequest with
            | Some p -> w.WriteString("parent_request", WireFormat.uuid p)
            | None -> ()

            w.WriteEndObject())

    /// The canonical JSON of a result, with the request id it answers.
    let encodeResult (r: ResultBody) (requestId: Guid) : string =
        render (fun w ->
            w.WriteStartObject()
            w.WritePropertyName "data"
            r.Data.WriteTo w
            w.WriteString("quantity", r.Quantity)
            w.WriteStartArray "method"

            for m in r.Method do
                w.WriteStringValue m

            w.WriteEndArray()
            writeParameters w r.Parameters
            w.WriteString("tenant_uuid", WireFormat.uuid r.TenantUuid)
            w.WriteString("request_uuid", WireFormat.uuid requestId)
            w.WriteEndObject())
