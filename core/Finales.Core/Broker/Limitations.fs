namespace Finales.Core

open System
open System.Text.Json

/// The tenant limitations language of FINALES2 (what a tenant can actually do for one capability) and the check of
/// request parameters against it (broker-api.md section 2, fix 9; optimizer.md section 3).
///
/// A limitation document is shaped like the capability's parameters; at every field either one value or a list of
/// alternatives, each a value, a range `{"min","max","step"?}` (`minimum`/`maximum` are read as `min`/`max`), an
/// object of field limits, or a list (the admitted shape of an array-valued field). An empty list means
/// "unconstrained" (the corpus writes `"cell_info": []`, `"input_cycles": []` for "anything").
///
/// Arrays: a list alternative whose elements carry a `chemical` is a formulation (a entry list): a request's
/// entry list is admitted when every request entry (matched by chemical: SMILES or InChIKey equal to an
/// admitted value) is listed with an admitted fraction (and other fields), and every listed entry missing from
/// the request admits fraction 0. So `fraction: [{min:0,max:0},{min:a,max:b}]` (or `[0, {min:a,max:b}]`) reads
/// "either absent/0 or between a and b". Any other list alternative admits an array whose every element is admitted
/// by one of its elements; a non-list limit on an array-valued field is applied to every element.
///
/// Fields: a request field absent from the limitations is unconstrained; a limitation field absent from the request,
/// or given as null, is satisfied (schema validation already enforces the required fields). Numbers compare with a
/// relative tolerance of 1e-9 (plus 1e-12 absolute, so 0 is comparable); strings exactly, except `fraction_type`.
///
/// `fraction_type` values compare by their canonical name (`FractionType.canonical`: "mole fraction" is "molPerMol").
[<RequireQualifiedAccess>]
module Limitations =

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

    /// One tenant's limitations for one capability: alternatives of parameter objects (OR-ed).
    type Parsed = private Parsed of Alternative list

    /// The alternatives of a parsed document (each one a `Fields` for the parameters object).
    let alternatives (Parsed alternatives: Parsed) : Alternative list = alternatives

    // ---------------------------------------------------------------- parsing

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

    /// Parse one tenant limitation document for a (quantity, method) in any of the real forms (object; list of alternative objects; {"anyOf":[[...]]}; ...). Error names the path and value.
    let parse (document: JsonElement) : Result<Parsed, string> =
        topLevel [] document
        |> Result.map (fun alternatives ->
            // An empty document ([] or {"anyOf": []}) limits nothing.
            Parsed(if alternatives.IsEmpty then [ Fields [] ] else alternatives))

    // ---------------------------------------------------------------- checking

    let private close (a: float) (b: float) =
        a = b || abs (a - b) <= 1e-9 * max (abs a) (abs b) + 1e-12

    /// The canonical name of a fraction type (`FractionType.canonical`, which holds the table of spellings).
    let canonicalFractionType (fractionType: string) : string = FractionType.canonical fractionType

    let private sameValue (field: string) (allowed: JsonElement) (value: JsonElement) =
        match allowed.ValueKind, value.ValueKind with
        | JsonValueKind.Number, JsonValueKind.Number -> close (allowed.GetDouble()) (value.GetDouble())
        | JsonValueKind.String, JsonValueKind.String ->
            let a = allowed.GetString() |> Option.ofObj |> Option.defaultValue ""
            let v = value.GetString() |> Option.ofObj |> Option.defaultValue ""

            if field = "fraction_type" then
                canonicalFractionType a = canonicalFractionType v
            else
                a = v
        | a, v ->
            a = v
            && (a = JsonValueKind.True || a = JsonValueKind.False || a = JsonValueKind.Null)

    let private inRange (range: Range) (x: float) =
        let tol (bound: float) = 1e-9 * max (abs bound) (abs x) + 1e-12
        let aboveMin = range.Min |> Option.forall (fun lo -> x >= lo - tol lo)
        let belowMax = range.Max |> Option.forall (fun hi -> x <= hi + tol hi)

        let onStep =
            match
                range.Step,
                (match range.Min with
                 | Some lo -> Some lo
                 | None -> range.Max)
            with
            | Some step, Some anchor ->
                let k = Math.Round((x - anchor) / step)
                close x (anchor + k * step) || abs (x - (anchor + k * step)) <= 1e-9 * step
            | _ -> true

        aboveMin && belowMax && onStep

    let private describeRange (range: Range) =
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

    let rec private describe (alternative: Alternative) =
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

    let private issue (path: string list) (message: string) =
        { Path = path
          Message = message
          Kind = "limitations" }

    /// The refusal of a value: "'<path>' is <value>; allowed: <what is>".
    let private notAllowed (path: string list) (value: JsonElement) (allowed: string) =
        [ issue
              path
              (sprintf
                  "'%s' is %s; allowed: %s"
                  (ValidationIssue.renderPath path)
                  (ValidationIssue.renderValue value)
                  allowed) ]

    let private zero = (JsonDocument.Parse "0").RootElement.Clone()

    let private stringField (name: string) (element: JsonElement) =
        if element.ValueKind = JsonValueKind.Object then
            match element.TryGetProperty(name) with
            | true, v when v.ValueKind = JsonValueKind.String -> v.GetString() |> Option.ofObj
            | _ -> None
        else
            None

    let private chemicalOf (entry: JsonElement) =
        if entry.ValueKind = JsonValueKind.Object then
            match entry.TryGetProperty("chemical") with
            | true, chemical -> Some chemical
            | _ -> None
        else
            None

    let private describeChemical (entry: JsonElement) =
        match chemicalOf entry with
        | Some chemical ->
            match stringField "SMILES" chemical, stringField "InChIKey" chemical with
            | Some smiles, Some key -> sprintf "%s (InChIKey %s)" smiles key
            | Some smiles, None -> smiles
            | None, Some key -> key
            | None, None -> ValidationIssue.renderValue chemical
        | None -> ValidationIssue.renderValue entry

    let private chemicalLimit (alternative: Alternative) =
        match alternative with
        | Fields fields ->
            fields
            |> List.tryPick (fun (name, limit) -> if name = "chemical" then Some limit else None)
        | _ -> None

    let private isComponentList (elements: Alternative list) =
        not elements.IsEmpty && elements |> List.forall (chemicalLimit >> Option.isSome)

    let private describeListed (alternative: Alternative) =
        let identity =
            match chemicalLimit alternative with
            | Some(AnyOf [ Fields fields ]) ->
                [ "SMILES"; "InChIKey" ]
                |> List.tryPick (fun key ->
                    fields
                    |> List.tryPick (fun (name, limit) ->
                        match name = key, limit with
                        | true, AnyOf(Exactly v :: _) when v.ValueKind = JsonValueKind.String ->
                            v.GetString() |> Option.ofObj
                        | _ -> None))
            | _ -> None

        identity |> Option.defaultValue (describe alternative)

    /// An object alternative that fixes every field to one value (an enumerated object such as a location).
    let private isEnumeratedObject (alternative: Alternative) =
        match alternative with
        | Fields fields ->
            fields
            |> List.forall (fun (_, limit) ->
                match limit with
                | AnyOf [ Exactly _ ] -> true
                | _ -> false)
        | _ -> false

    /// The strings of a limit that is a list of exact strings (how identities are usually limited); None otherwise.
    let private exactStringValues (limit: Limit) : string list option =
        match limit with
        | AnyOf alternatives when
            alternatives
            |> List.forall (function
                | Exactly e -> e.ValueKind = JsonValueKind.String
                | _ -> false)
            ->
            alternatives
            |> List.choose (function
                | Exactly e -> Some(e.GetString())
                | _ -> None)
            |> Some
        | _ -> None

    /// The exact (key, string) identities of a listed component when its every SMILES/InChIKey limit is a list of
    /// exact strings (the usual case); None when its identity must be matched by evaluating its limit.
    let private exactIdentity (alternative: Alternative) : (string * string) list option =
        let exactStrings (key: string) (limit: Limit) =
            exactStringValues limit |> Option.map (List.map (fun text -> key, text))

        let all (xs: 'a list option list) =
            if xs |> List.forall Option.isSome then
                Some(xs |> List.collect Option.get)
            else
                None

        match chemicalLimit alternative with
        | Some(AnyOf chemicalAlternatives) ->
            chemicalAlternatives
            |> List.map (function
                | Fields identity ->
                    identity
                    |> List.filter (fun (key, _) -> key = "SMILES" || key = "InChIKey")
                    |> List.map (fun (key, limit) -> exactStrings key limit)
                    |> all
                | _ -> None)
            |> all
        | _ -> None

    /// The listed components of a formulation limit, indexed by exact identity, so a request's components are matched
    /// in constant time each: built once per parsed limitation document (cached on its list of listed components).
    type private IdentityIndex =
        {
            Listed: Alternative[]
            Exact: Collections.Generic.Dictionary<struct (string * string), ResizeArray<int>>
            /// Components matched by evaluating their identity limit (not a list of exact strings).
            Evaluated: int list
            /// "A, B, C" of the offered components for refusal messages (at most 10 named).
            Offered: Lazy<string>
        }

    let private identityIndexes =
        Runtime.CompilerServices.ConditionalWeakTable<Alternative list, IdentityIndex>()

    let private identityIndex (listed: Alternative list) : IdentityIndex =
        identityIndexes.GetValue(
            listed,
            fun listed ->
                let exact =
                    Collections.Generic.Dictionary<struct (string * string), ResizeArray<int>>()

                let evaluated = ResizeArray<int>()

                listed
                |> List.iteri (fun j alternative ->
                    match exactIdentity alternative with
                    | Some identities ->
                        for key, value in identities do
                            match exact.TryGetValue(struct (key, value)) with
                            | true, js ->
                                if js.[js.Count - 1] <> j then
                                    js.Add j
                            | _ -> exact.[struct (key, value)] <- ResizeArray [ j ]
                    | None -> evaluated.Add j)

                let offered =
                    lazy
                        (let named =
                            listed |> List.truncate 10 |> List.map describeListed |> String.concat ", "

                         if listed.Length > 10 then
                             sprintf "%s, ... (%d in all)" named listed.Length
                         else
                             named)

                { Listed = Array.ofList listed
                  Exact = exact
                  Evaluated = List.ofSeq evaluated
                  Offered = offered }
        )

    let rec private checkLimit
        (field: string)
        (path: string list)
        (limit: Limit)
        (value: JsonElement)
        : ValidationIssue list =
        match limit with
        | Unconstrained -> []
        | _ when value.ValueKind = JsonValueKind.Null -> []
        | AnyOf alternatives ->
            // Stop at the first admitting alternative; build every alternative's issues only on failure.
            if
                alternatives
                |> List.exists (fun a -> (checkAlternative field path a value).IsEmpty)
            then
                []
            elif
                value.ValueKind = JsonValueKind.Array
                && not (
                    alternatives
                    |> List.exists (function
                        | Elements _ -> true
                        | _ -> false)
                )
            then
                // A limit on the element values of an array-valued field.
                value.EnumerateArray()
                |> Seq.mapi (fun i element -> checkLimit field (path @ [ string i ]) limit element)
                |> List.concat
            elif alternatives |> List.forall isEnumeratedObject && alternatives.Length > 1 then
                // A list of admitted objects (locations, ...): the object as a whole is not among them.
                let shown =
                    alternatives |> List.truncate 3 |> List.map describe |> String.concat ", "

                let more =
                    if alternatives.Length > 3 then
                        sprintf ", ... (%d in all)" alternatives.Length
                    else
                        ""

                notAllowed path value ("one of " + shown + more)
            elif
                alternatives
                |> List.forall (function
                    | Exactly _
                    | Within _ -> true
                    | _ -> false)
            then
                notAllowed path value (alternatives |> List.map describe |> String.concat " or ")
            else
                alternatives
                |> List.map (fun a -> checkAlternative field path a value)
                |> List.minBy List.length

    and private checkAlternative
        (field: string)
        (path: string list)
        (alternative: Alternative)
        (value: JsonElement)
        : ValidationIssue list =
        match alternative with
        | Exactly allowed ->
            if sameValue field allowed value then
                []
            else
                notAllowed path value (ValidationIssue.renderValue allowed)
        | Within range ->
            if value.ValueKind = JsonValueKind.Number && inRange range (value.GetDouble()) then
                []
            else
                notAllowed path value (describeRange range)
        | Fields fields ->
            if value.ValueKind = JsonValueKind.Object then
                fields
                |> List.collect (fun (name, limit) ->
                    match value.TryGetProperty(name) with
                    | true, child -> checkLimit name (path @ [ name ]) limit child
                    | _ -> [])
            else
                notAllowed path value (describe alternative)
        | Elements elements when value.ValueKind = JsonValueKind.Array ->
            if isComponentList elements then
                checkComponents path elements value
            elif elements.IsEmpty then
                []
            else
                value.EnumerateArray()
                |> Seq.mapi (fun i element -> checkLimit field (path @ [ string i ]) (AnyOf elements) element)
                |> List.concat
        | Elements _ -> notAllowed path value (describe alternative)

    /// Formulation semantics: request components matched by chemical, absent listed components must admit 0.
    and private checkComponents
        (path: string list)
        (listed: Alternative list)
        (formulation: JsonElement)
        : ValidationIssue list =
        let identityMatches (entry: JsonElement) (alternative: Alternative) =
            match chemicalLimit alternative, chemicalOf entry with
            | Some(AnyOf chemicalAlternatives), Some chemical ->
                chemicalAlternatives
                |> List.exists (function
                    | Fields identity ->
                        identity
                        |> List.exists (fun (key, limit) ->
                            (key = "SMILES" || key = "InChIKey")
                            && (match chemical.TryGetProperty(key) with
                                | true, v when v.ValueKind = JsonValueKind.String ->
                                    // Identity is usually a list of exact strings: compare directly (this runs for every
                                    // request component against every listed one, so building refusal messages here is costly).
                                    match exactStringValues limit with
                                    | Some texts -> texts |> List.contains (v.GetString())
                                    | None -> checkLimit key [] limit v |> List.isEmpty
                                | _ -> false))
                    | other -> checkAlternative "chemical" [] other chemical |> List.isEmpty)
            | Some Unconstrained, _ -> true
            | _ -> false

        let withoutChemical (alternative: Alternative) =
            match alternative with
            | Fields fields -> Fields(fields |> List.filter (fun (name, _) -> name <> "chemical"))
            | other -> other

        let components = formulation.EnumerateArray() |> List.ofSeq
        let listedIndexed = listed |> List.indexed
        let index = identityIndex listed

        // The listed components whose identity admits the entry, in listed order: exact identities by lookup,
        // the others by evaluation (the same answer as `identityMatches` on every listed component).
        let candidatesOf (entry: JsonElement) =
            let exact =
                match chemicalOf entry with
                | Some chemical when chemical.ValueKind = JsonValueKind.Object ->
                    [ for key in [ "SMILES"; "InChIKey" ] do
                          match chemical.TryGetProperty(key) with
                          | true, v when v.ValueKind = JsonValueKind.String ->
                              match index.Exact.TryGetValue(struct (key, v.GetString())) with
                              | true, js -> yield! js
                              | _ -> ()
                          | _ -> () ]
                | _ -> []

            let evaluated =
                index.Evaluated |> List.filter (fun j -> identityMatches entry index.Listed.[j])

            exact @ evaluated
            |> List.distinct
            |> List.sort
            |> List.map (fun j -> j, index.Listed.[j])

        let perComponent =
            components
            |> List.mapi (fun i entry ->
                let componentPath = path @ [ string i ]

                let candidates = candidatesOf entry

                match candidates with
                | [] ->
                    [ issue
                          componentPath
                          (sprintf
                              "'%s' is the entry %s, which is not offered; offered components: %s"
                              (ValidationIssue.renderPath componentPath)
                              (describeChemical entry)
                              index.Offered.Value) ],
                    []
                | _ ->
                    let outcomes =
                        candidates
                        |> List.map (fun (j, a) -> j, checkAlternative "entry" componentPath (withoutChemical a) entry)

                    match outcomes |> List.tryFind (snd >> List.isEmpty) with
                    | Some(j, _) -> [], [ j ]
                    | None -> outcomes |> List.minBy (snd >> List.length) |> snd, candidates |> List.map fst)

        let requestIssues = perComponent |> List.collect fst
        let present = perComponent |> List.collect snd |> Set.ofList

        let absentIssues =
            listedIndexed
            |> List.filter (fun (j, _) -> not (present.Contains j))
            |> List.collect (fun (_, alternative) ->
                match alternative with
                | Fields fields ->
                    match fields |> List.tryFind (fun (name, _) -> name = "fraction") with
                    | Some(_, limit) when not (checkLimit "fraction" [] limit zero).IsEmpty ->
                        let allowed =
                            match limit with
                            | AnyOf alternatives -> alternatives |> List.map describe |> String.concat " or "
                            | Unconstrained -> "any"

                        [ issue
                              path
                              (sprintf
                                  "'%s' lacks the entry %s (fraction 0), but its fraction must be %s"
                                  (ValidationIssue.renderPath path)
                                  (describeListed alternative)
                                  allowed) ]
                    | _ -> []
                | _ -> [])

        requestIssues @ absentIssues

    /// Check request parameters (the object under parameters.<method>) against the limitations of all active tenants offering that capability:
    /// Ok () when at least one tenant's limitations admit it; otherwise Error with the violated limits (Path relative to the parameters object, Message naming field, value and allowed range), preferring the issues of the closest-matching alternative.
    /// An empty tenant list admits everything (nobody offers the capability yet; the request waits in the queue).
    let check (limitations: Parsed list) (parameters: JsonElement) : Result<unit, ValidationIssue list> =
        let all = limitations |> List.collect alternatives

        if all.IsEmpty then
            Ok()
        else if all |> List.exists (fun a -> (checkAlternative "" [] a parameters).IsEmpty) then
            Ok()
        else
            Error(
                all
                |> List.map (fun a -> checkAlternative "" [] a parameters)
                |> List.minBy List.length
            )
