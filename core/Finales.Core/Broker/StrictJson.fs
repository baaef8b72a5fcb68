namespace Finales.Core

open System
open System.Collections.Generic
open System.Text
open System.Text.Json

/// Size limits of one JSON document read by `StrictJson`.
type JsonLimits =
    {
        /// Nesting depth of objects and arrays.
        MaxDepth: int
        /// Bytes of one string or member name as written (escapes included).
        MaxStringBytes: int
    }

/// The one reader of client JSON (request, result and admin bodies, limitations, stored shared state): it accepts
/// exactly the documents whose every value means one thing, so what is validated is what is stored and served.
/// Refused, with the JSON path: a member name that appears twice in one object, a number that is not a finite
/// double (1e400, a 401-digit integer), a string or member name that is not valid UTF-8 or holds a lone surrogate
/// (raw bytes or a `\ud800` escape) or a NUL character (`\u0000`: PostgreSQL text cannot hold it), nesting deeper than the limit, an over-long string. One pass, linear in the
/// size of the document (a hash set of names per open object).
[<RequireQualifiedAccess>]
module StrictJson =

    let defaultLimits: JsonLimits =
        { MaxDepth = 64
          MaxStringBytes = 1024 * 1024 }

    /// One open object or array while reading: the names seen so far, or the index of the current element.
    [<AllowNullLiteral>]
    type private Frame(isArray: bool) =
        member val IsArray = isArray
        member val Index = -1 with get, set
        member val Name: string = null with get, set

        member val Names: HashSet<string> =
            (if isArray then
                 null
             else
                 HashSet<string>(StringComparer.Ordinal))

    let private pathOf (root: string list) (frames: List<Frame>) =
        [ yield! root
          for f in frames do
              if f.IsArray then
                  if f.Index >= 0 then
                      yield string f.Index
              elif not (isNull f.Name) then
                  yield f.Name ]

    /// The raw bytes of an invalid string for a message: invalid sequences shown as U+FFFD, at most 40 characters.
    let private previewBytes (raw: ReadOnlySpan<byte>) =
        let text = Encoding.UTF8.GetString(raw)

        if text.Length > 40 then
            text.Substring(0, 37) + "..."
        else
            text

    let private strictUtf8 = UTF8Encoding(false, true)

    let private issue path kind message =
        { Path = path
          Message = message
          Kind = kind }

    /// Reads `utf8` (a leading byte-order mark is skipped) and returns its document, or the first problem found with
    /// its path (prefixed by `root`). Malformed JSON gives kind `value_error.jsondecode` and the byte position.
    let parseBytes
        (limits: JsonLimits)
        (root: string list)
        (utf8: ReadOnlyMemory<byte>)
        : Result<JsonDocument, ValidationIssue> =
        let utf8 =
            if
                utf8.Length >= 3
                && utf8.Span.[0] = 0xEFuy
                && utf8.Span.[1] = 0xBBuy
                && utf8.Span.[2] = 0xBFuy
            then
                utf8.Slice 3
            else
                utf8

        let frames = List<Frame>()
        let mutable error: ValidationIssue option = None

        let mutable reader =
            Utf8JsonReader(utf8.Span, JsonReaderOptions(MaxDepth = limits.MaxDepth + 1))

        let render () =
            ValidationIssue.renderPath (pathOf [] frames)

        try
            while error.IsNone && reader.Read() do
                let token = reader.TokenType

                match token with
                | JsonTokenType.EndObject
                | JsonTokenType.EndArray -> frames.RemoveAt(frames.Count - 1)
                | JsonTokenType.PropertyName ->
                    let frame = frames.[frames.Count - 1]
                    frame.Name <- null

                    let name =
                        if reader.ValueSpan.Length > limits.MaxStringBytes then
                            error <-
                                Some(
                                    issue
                                        (pathOf root frames)
                                        "value_error.str.max_length"
                                        (sprintf
                                            "a member name of %s is %d bytes long; at most %d are allowed"
                                            (render ())
                                            reader.ValueSpan.Length
                                            limits.MaxStringBytes)
                                )

                            null
                        elif not reader.ValueIsEscaped && not (Unicode.Utf8.IsValid reader.ValueSpan) then
                            null
                        else
                            try
                                let text = reader.GetString()
                                if text.Contains '\000' then null else text
                            with :? InvalidOperationException ->
                                null

                    if error.IsNone then
                        if isNull name then
                            error <-
                                Some(
                                    issue
                                        (pathOf root frames)
                                        "value_error.unicode"
                                        (sprintf
                                            "a member name of %s is not text a store can keep (invalid UTF-8 bytes, a lone surrogate or a NUL character): \"%s\""
                                            (render ())
                                            (previewBytes reader.ValueSpan))
                                )
                        elif not (frame.Names.Add name) then
                            // The object's path (rendered only for the message: every member name passes here).
                            let objectPath = ValidationIssue.renderPath (pathOf [] frames)
                            frame.Name <- name

                            error <-
                                Some(
                                    issue
                                        (pathOf root frames)
                                        "value_error.duplicate_member"
                                        (sprintf
                                            "member \"%s\" appears twice in one object at %s; every member name must be unique"
                                            (if name.Length > 40 then
                                                 name.Substring(0, 37) + "..."
                                             else
                                                 name)
                                            objectPath)
                                )
                        else
                            frame.Name <- name
                | _ ->
                    // A value: the next element of an enclosing array.
                    if frames.Count > 0 && frames.[frames.Count - 1].IsArray then
                        let frame = frames.[frames.Count - 1]
                        frame.Index <- frame.Index + 1

                    match token with
                    | JsonTokenType.StartObject
                    | JsonTokenType.StartArray ->
                        if frames.Count >= limits.MaxDepth then
                            error <-
                                Some(
                                    issue
                                        (pathOf root frames)
                                        "value_error.depth"
                                        (sprintf "%s nests deeper than %d levels" (render ()) limits.MaxDepth)
                                )

                        frames.Add(Frame(isArray = (token = JsonTokenType.StartArray)))
                    | JsonTokenType.String ->
                        let span = reader.ValueSpan

                        if span.Length > limits.MaxStringBytes then
                            error <-
                                Some(
                                    issue
                                        (pathOf root frames)
                                        "value_error.str.max_length"
                                        (sprintf
                                            "%s is a string of %d bytes; at most %d are allowed"
                                            (render ())
                                            span.Length
                                            limits.MaxStringBytes)
                                )
                        else
                            let valid =
                                if reader.ValueIsEscaped then
                                    try
                                        not (reader.GetString().Contains '\000')
                                    with :? InvalidOperationException ->
                                        false
                                else
                                    Unicode.Utf8.IsValid span

                            if not valid then
                                error <-
                                    Some(
                                        issue
                                            (pathOf root frames)
                                            "value_error.unicode"
                                            (sprintf
                                                "%s is not text a store can keep (invalid UTF-8 bytes, a lone surrogate or a NUL character): \"%s\""
                                                (render ())
                                                (previewBytes span))
                                    )
                    | JsonTokenType.Number ->
                        let mutable value = 0.0

                        if not (reader.TryGetDouble(&value)) || not (Double.IsFinite value) then
                            let raw = Encoding.UTF8.GetString(reader.ValueSpan)

                            error <-
                                Some(
                                    issue
                                        (pathOf root frames)
                                        "value_error.number.not_finite"
                                        (sprintf
                                            "%s is %s, which is beyond the range of a double (about ±1.8e308)"
                                            (render ())
                                            (if raw.Length > 40 then
                                                 raw.Substring(0, 37) + "..."
                                             else
                                                 raw))
                                )
                    | _ -> ()

            match error with
            | Some e -> Error e
            | None -> Ok(JsonDocument.Parse(utf8, JsonDocumentOptions(MaxDepth = limits.MaxDepth + 1)))
        with :? JsonException as e ->
            Error(
                issue
                    (root
                     @ [ string (e.BytePositionInLine |> Option.ofNullable |> Option.defaultValue 0L) ])
                    "value_error.jsondecode"
                    (sprintf "JSON decode error: %s" e.Message)
            )

    /// `parseBytes` of a text: a lone surrogate character in the text itself is refused like one in an escape.
    let parseText (limits: JsonLimits) (root: string list) (text: string) : Result<JsonDocument, ValidationIssue> =
        let bytes =
            try
                Ok(strictUtf8.GetBytes text)
            with :? EncoderFallbackException as e ->
                Error(
                    issue root "value_error.unicode" (sprintf "the text holds a lone surrogate at character %d" e.Index)
                )

        bytes |> Result.bind (fun b -> parseBytes limits root (ReadOnlyMemory b))
