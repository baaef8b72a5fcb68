namespace Finales.OptimizerCli

open System
open System.IO
open System.Text
open System.Text.Json

/// Reading request JSON and writing response JSON (System.Text.Json); errors name the field and value.
[<RequireQualifiedAccess>]
module internal JsonKit =

    /// Indented JSON text written by `f` (non-ASCII kept as is).
    let write (f: Utf8JsonWriter -> unit) : string =
        use ms = new MemoryStream()

        (use w =
            new Utf8JsonWriter(
                ms,
                JsonWriterOptions(
                    Indented = true,
                    Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping
                )
            )

         f w)

        Encoding.UTF8.GetString(ms.ToArray())

    /// A number, or null when it is not finite.
    let num (w: Utf8JsonWriter) (name: string) (v: float) =
        if Double.IsFinite v then
            w.WriteNumber(name, v)
        else
            w.WriteNull(name)

    /// The request object of a command's stdin.
    let parse (text: string) : Result<JsonElement, string> =
        if String.IsNullOrWhiteSpace text then
            Error "stdin is empty; expected a JSON object"
        else
            try
                use doc = JsonDocument.Parse(text)
                let root = doc.RootElement.Clone()

                if root.ValueKind <> JsonValueKind.Object then
                    Error(sprintf "request is a %O; expected a JSON object" root.ValueKind)
                else
                    Ok root
            with :? JsonException as ex ->
                Error("request is not valid JSON: " + ex.Message)

    /// A member that is present and not null.
    let prop (e: JsonElement) (name: string) : JsonElement voption =
        let mutable v = Unchecked.defaultof<JsonElement>

        if
            e.ValueKind = JsonValueKind.Object
            && e.TryGetProperty(name, &v)
            && v.ValueKind <> JsonValueKind.Null
        then
            ValueSome v
        else
            ValueNone

    let number (e: JsonElement, path: string) : Result<float, string> =
        match e.ValueKind with
        | JsonValueKind.Number -> Ok(e.GetDouble())
        | JsonValueKind.String ->
            match e.GetString() with
            | "NaN" -> Ok nan
            | "Infinity" -> Ok infinity
            | "-Infinity" -> Ok -infinity
            | s -> Error(sprintf "%s is \"%s\"; expected a number" path s)
        | _ -> Error(sprintf "%s is %s; expected a number" path (e.GetRawText()))

    let array (item: JsonElement * string -> Result<'T, string>) (e: JsonElement, path: string) : Result<'T[], string> =
        if e.ValueKind <> JsonValueKind.Array then
            Error(sprintf "%s is %s; expected a list" path (e.GetRawText()))
        else
            e.EnumerateArray()
            |> Seq.mapi (fun i x -> item (x, sprintf "%s[%d]" path i))
            |> Array.ofSeq
            |> Finales.Core.Results.all
            |> Result.map Array.ofList

    let bool (e: JsonElement, path: string) : Result<bool, string> =
        match e.ValueKind with
        | JsonValueKind.True -> Ok true
        | JsonValueKind.False -> Ok false
        | _ -> Error(sprintf "%s is %s; expected true or false" path (e.GetRawText()))

    let str (e: JsonElement, path: string) : Result<string, string> =
        if e.ValueKind = JsonValueKind.String then
            Ok(string (e.GetString()))
        else
            Error(sprintf "%s is %s; expected a string" path (e.GetRawText()))

    let int (e: JsonElement, path: string) : Result<int, string> =
        let mutable i = 0

        if e.ValueKind = JsonValueKind.Number && e.TryGetInt32(&i) then
            Ok i
        else
            Error(sprintf "%s is %s; expected an integer" path (e.GetRawText()))

    /// A required top-level member; `missing` is the whole message when it is absent.
    let required (root: JsonElement) (name: string) (missing: string) : Result<JsonElement, string> =
        match prop root name with
        | ValueSome v -> Ok v
        | ValueNone -> Error missing

    /// A required member read with `read`; errors name `path.name`.
    let field (e: JsonElement) (name: string) (path: string) (read: JsonElement * string -> Result<'a, string>) =
        match prop e name with
        | ValueSome v -> read (v, path + "." + name)
        | ValueNone -> Error(sprintf "%s.%s is missing" path name)

    /// An optional member read with `read`, or `fallback` when it is absent.
    let fieldOr
        (e: JsonElement)
        (name: string)
        (path: string)
        (read: JsonElement * string -> Result<'a, string>)
        (fallback: 'a)
        =
        match prop e name with
        | ValueSome v -> read (v, path + "." + name)
        | ValueNone -> Ok fallback

    /// An optional top-level member read with `read` (errors name `name`), or `fallback`.
    let optional (root: JsonElement) (name: string) (read: JsonElement * string -> Result<'a, string>) (fallback: 'a) =
        match prop root name with
        | ValueNone -> Ok fallback
        | ValueSome v -> read (v, name)
