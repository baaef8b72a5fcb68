namespace Finales.Core

open System
open System.Text.Json

/// The syntax of the FINALES2 tenant limitations language (see `Limitations` for its meaning): a limitation document
/// read into alternatives of limits. `Limitations` checks request parameters against them.
module LimitationsLanguage =

    /// A closed numeric interval; an absent bound is open. With a step only `min + k * step` (k integer) is admitted.
    type Range =
        { Min: float option
          Max: float option
          Step: float option }

    /// The limit on one field: anything, or any of a non-empty list of alternatives.
    type Limit =
        | Unconstrained
        | AnyOf of Alternative list

    /// One admitted shape of a value.
    and Alternative =
        /// Exactly this scalar (string, number, boolean or null).
        | Exactly of JsonElement
        /// A number in this range.
        | Within of Range
        /// An object whose listed fields obey their limits.
        | Fields of (string * Limit) list
        /// An array admitted element by element (formulation semantics when the elements name a chemical).
        | Elements of Alternative list


    let private rangeKeys = set [ "min"; "max"; "step"; "minimum"; "maximum" ]

    let private isRange (element: JsonElement) =
        let names = element.EnumerateObject() |> Seq.map (fun p -> p.Name) |> List.ofSeq

        not names.IsEmpty
        && names |> List.forall rangeKeys.Contains
        && names |> List.exists (fun n -> n <> "step")

    let private where (path: string list) =
        ValidationIssue.renderPath ("limitations" :: path)

    let private parseRange (path: string list) (element: JsonElement) : Result<Alternative, string> =
        let bound (names: string list) =
            names
            |> List.tryPick (fun name ->
                match element.TryGetProperty(name: string) with
                | true, value -> Some(name, value)
                | _ -> None)
            |> function
                | None -> Ok None
                | Some(_, value) when value.ValueKind = JsonValueKind.Null -> Ok None
                | Some(_, value) when value.ValueKind = JsonValueKind.Number && Double.IsFinite(value.GetDouble()) ->
                    Ok(Some(value.GetDouble()))
                | Some(name, value) ->
                    Error(
                        sprintf
                            "%s is %s; a range bound must be a finite number"
                            (where (path @ [ name ]))
                            (ValidationIssue.renderValue value)
                    )

        match bound [ "min"; "minimum" ], bound [ "max"; "maximum" ], bound [ "step" ] with
        | Error e, _, _
        | _, Error e, _
        | _, _, Error e -> Error e
        | Ok lo, Ok hi, _ when lo.IsNone && hi.IsNone ->
            Error(sprintf "%s is %s; a range needs min or max" (where path) (ValidationIssue.renderValue element))
        | Ok(Some lo), Ok(Some hi), _ when lo > hi ->
            Error(
                sprintf
                    "%s is %s; min %g is greater than max %g"
                    (where path)
                    (ValidationIssue.renderValue element)
                    lo
                    hi
            )
        | _, _, Ok(Some step) when step <= 0.0 ->
            Error(sprintf "%s is %s; step %g must be positive" (where path) (ValidationIssue.renderValue element) step)
        | Ok lo, Ok hi, Ok step -> Ok(Within { Min = lo; Max = hi; Step = step })

    /// `{"anyOf": [...]}` and nothing else: the wrapper FINALES2 tenants use for alternative limits.
    let private isAnyOfWrapper (element: JsonElement) =
        element.ValueKind = JsonValueKind.Object
        && (element.EnumerateObject() |> Seq.map (fun p -> p.Name) |> List.ofSeq) = [ "anyOf" ]
        && element.GetProperty("anyOf").ValueKind = JsonValueKind.Array

    let rec private parseAlternative (path: string list) (element: JsonElement) : Result<Alternative, string> =
        match element.ValueKind with
        | JsonValueKind.Object when isRange element -> parseRange path element
        | JsonValueKind.Object ->
            element.EnumerateObject()
            |> Seq.map (fun p ->
                parseLimit (path @ [ p.Name ]) p.Value
                |> Result.map (fun limit -> p.Name, limit))
            |> Results.all
            |> Result.map Fields
        | JsonValueKind.Array ->
            element.EnumerateArray()
            |> Seq.mapi (fun i item -> parseAlternative (path @ [ string i ]) item)
            |> Results.all
            |> Result.map Elements
        | JsonValueKind.String
        | JsonValueKind.Number
        | JsonValueKind.True
        | JsonValueKind.False
        | JsonValueKind.Null -> Ok(Exactly(element.Clone()))
        | _ -> Error(sprintf "%s is not a JSON value" (where path))

    and private parseLimit (path: string list) (element: JsonElement) : Result<Limit, string> =
        match element.ValueKind with
        | JsonValueKind.Array when element.GetArrayLength() = 0 -> Ok Unconstrained
        | JsonValueKind.Array ->
            element.EnumerateArray()
            |> Seq.mapi (fun i item -> parseAlternative (path @ [ string i ]) item)
            |> Results.all
            |> Result.map AnyOf
        | _ when isAnyOfWrapper element ->
            // {"anyOf": [l1, l2, ...]}: the union of the alternatives of each limit.
            element.GetProperty("anyOf").EnumerateArray()
            |> Seq.mapi (fun i item -> parseLimit (path @ [ "anyOf"; string i ]) item)
            |> Results.all
            |> Result.map (fun limits ->
                if limits |> List.contains Unconstrained then
                    Unconstrained
                else
                    limits
                    |> List.collect (function
                        | AnyOf alternatives -> alternatives
                        | Unconstrained -> [])
                    |> AnyOf)
        | _ ->
            parseAlternative path element
            |> Result.map (fun alternative -> AnyOf [ alternative ])

    /// The top-level alternatives: an object, a list of objects, {"anyOf": [...]}, nested lists thereof.
    let rec private topLevel (path: string list) (element: JsonElement) : Result<Alternative list, string> =
        match element.ValueKind with
        | _ when isAnyOfWrapper element ->
            element.GetProperty("anyOf").EnumerateArray()
            |> Seq.mapi (fun i item -> topLevel (path @ [ "anyOf"; string i ]) item)
            |> Results.all
            |> Result.map List.concat
        | JsonValueKind.Object -> parseAlternative path element |> Result.map List.singleton
        | JsonValueKind.Array ->
            element.EnumerateArray()
            |> Seq.mapi (fun i item -> topLevel (path @ [ string i ]) item)
            |> Results.all
            |> Result.map List.concat
        | _ ->
            Error(
                sprintf
                    "%s is %s (%s); expected an object of parameter limits, a list of such objects or {\"anyOf\": [...]}"
                    (where path)
                    (ValidationIssue.renderValue element)
                    (ValidationIssue.jsonTypeName element)
            )

    /// The top-level alternatives of one limitation document in any of the real forms (object; list of alternative
    /// objects; {"anyOf":[[...]]}; ...). The error names the path and the value.
    let parseAlternatives (document: JsonElement) : Result<Alternative list, string> = topLevel [] document

    /// Numbers compare with a relative tolerance of 1e-9 (plus 1e-12 absolute, so 0 is comparable).
    let close (a: float) (b: float) : bool =
        a = b || abs (a - b) <= 1e-9 * max (abs a) (abs b) + 1e-12

    /// A range as messages show it ("0.1..0.5 (step 0.1)").
    let describeRange (range: Range) : string =
        let body =
            match range.Min, range.Max with
            | Some lo, Some hi when close lo hi -> sprintf "%g" lo
            | Some lo, Some hi -> sprintf "%g..%g" lo hi
            | Some lo, None -> sprintf ">= %g" lo
            | None, Some hi -> sprintf "<= %g" hi
            | None, None -> "any number"

        match range.Step with
        | Some step -> sprintf "%s (step %g)" body step
        | None -> body

    /// An alternative as messages show it.
    let rec describe (alternative: Alternative) : string =
        match alternative with
        | Exactly value -> ValidationIssue.renderValue value
        | Within range -> describeRange range
        | Fields fields ->
            fields
            |> List.map (fun (name, limit) ->
                match limit with
                | Unconstrained -> sprintf "%s: any" name
                | AnyOf alternatives ->
                    sprintf "%s: %s" name (alternatives |> List.map describe |> String.concat " | "))
            |> String.concat ", "
            |> sprintf "{%s}"
        | Elements elements -> elements |> List.map describe |> String.concat ", " |> sprintf "[%s]"
