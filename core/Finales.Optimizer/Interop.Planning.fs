namespace Finales.Optimizer.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open Finales.Optimizer

/// A capability's parameter schema, compiled (opaque to C#; empty after a failed compile).
[<Sealed>]
type ParameterSchema internal (compiled: Finales.Core.CapabilitySchema.Compiled option) =
    member internal _.Compiled = compiled

/// A capability's limitations as every active tenant offers them, parsed (opaque to C#).
[<Sealed>]
type ParameterLimits internal (parsed: Finales.Core.Limitations.Parsed list) =
    member internal _.Parsed = parsed

/// Checks of planned request parameters against a capability, for C#: Try pattern for compiling
/// and parsing, and the issues of a check as "path: message" lines (empty = accepted).
[<AbstractClass; Sealed>]
type RequestChecks =
    static member private Render(issues: Finales.Core.ValidationIssue seq) : IReadOnlyList<string> =
        issues
        |> Seq.map (fun i -> sprintf "%s: %s" (Finales.Core.ValidationIssue.renderPath i.Path) i.Message)
        |> Array.ofSeq
        :> IReadOnlyList<string>

    /// Compiles a capability's `json_schema_specifications`.
    static member TryCompileSchema
        (
            specification: System.Text.Json.JsonElement,
            [<Out>] schema: byref<ParameterSchema>,
            [<Out>] error: byref<string>
        ) : bool =
        match Finales.Core.CapabilitySchema.compile specification with
        | Ok c ->
            schema <- ParameterSchema(Some c)
            error <- ""
            true
        | Error e ->
            schema <- ParameterSchema None
            error <- e
            false

    /// Parses the limitations documents of a capability (one per offering tenant); the error is
    /// the first document's that does not parse.
    static member TryParseLimits
        (
            documents: IReadOnlyList<System.Text.Json.JsonElement>,
            [<Out>] limits: byref<ParameterLimits>,
            [<Out>] error: byref<string>
        ) : bool =
        if obj.ReferenceEquals(documents, null) then
            nullArg (nameof documents)

        match documents |> Seq.map Finales.Core.Limitations.parse |> Finales.Core.Results.all with
        | Ok parsed ->
            limits <- ParameterLimits parsed
            error <- ""
            true
        | Error e ->
            limits <- ParameterLimits []
            error <- e
            false

    /// Where `parameters` break the schema, as "path: message" lines; empty when valid.
    static member SchemaIssues
        (schema: ParameterSchema, parameters: System.Text.Json.JsonElement)
        : IReadOnlyList<string> =
        if obj.ReferenceEquals(schema, null) then
            nullArg (nameof schema)

        match schema.Compiled with
        | Some c -> RequestChecks.Render(Finales.Core.CapabilitySchema.validate c parameters)
        | None -> invalidArg (nameof schema) "the schema did not compile (TryCompileSchema returned false)"

    /// Where `parameters` lie outside every offered limitation, as "path: message" lines; empty when inside.
    static member LimitIssues
        (limits: ParameterLimits, parameters: System.Text.Json.JsonElement)
        : IReadOnlyList<string> =
        if obj.ReferenceEquals(limits, null) then
            nullArg (nameof limits)

        match Finales.Core.Limitations.check limits.Parsed parameters with
        | Ok() -> Array.empty
        | Error issues -> RequestChecks.Render issues

/// The outcome of checking one planned request, for C#: accepted with the request, or refused
/// with the reason (`Problem` is null exactly when accepted; `Request` is then non-null).
[<Sealed>]
type CheckOutcome<'R> private (request: 'R, problem: string) =
    /// The request when accepted (default when refused).
    member _.Request = request
    /// Why the request is left out; null when accepted.
    member _.Problem = problem
    /// An accepted request.
    static member Accept(request: 'R) : CheckOutcome<'R> = CheckOutcome<'R>(request, null)

    /// A refused request and why.
    static member Refuse(problem: string) : CheckOutcome<'R> =
        if String.IsNullOrEmpty problem then
            invalidArg (nameof problem) "a refusal needs a reason"

        CheckOutcome<'R>(Unchecked.defaultof<'R>, problem)

/// One selected point for C#.
type SelectedPointSpec<'R> =
    { SuggestionIndex: int
      Formulation: IReadOnlyDictionary<string, float>
      Temperature: float
      PointKey: string
      Requests: IReadOnlyList<'R> }

/// A batch for C#: the points to post and why suggestions were (partly) skipped.
type BatchSpec<'R> =
    { Points: IReadOnlyList<SelectedPointSpec<'R>>
      Skipped: IReadOnlyList<string> }

/// The optimizer tenant's batch decisions for C# (see `BatchSelection`).
[<AbstractClass; Sealed>]
type BatchPlanner =
    /// Points that fit under the queue cap (0 = none); see `BatchSelection.room`.
    static member Room(queueCap: int, openRequests: int, requestsPerPoint: int, batchSize: int) : int =
        BatchSelection.room queueCap openRequests requestsPerPoint batchSize

    /// Points that fit under the queue cap when `shares[i]` in (0, 1] is the share of the points target i is
    /// requested for under `seed` (see `BatchSelection.roomShared`; the tenant's next point index is the number of
    /// distinct points in `taken`, "target|point key" entries). Every share 1 gives `Room`. A share outside (0, 1]
    /// is a programmer error (TryShare).
    static member RoomShared
        (
            queueCap: int,
            openRequests: int,
            shares: IReadOnlyList<float>,
            seed: int,
            taken: IEnumerable<string>,
            batchSize: int
        ) : int =
        let shares = BatchPlanner.Shares shares

        let taken =
            if obj.ReferenceEquals(taken, null) then
                Set.empty
            else
                Set.ofSeq taken

        BatchSelection.roomShared shares seed (BatchSelection.pointsTaken taken) queueCap openRequests batchSize

    static member private Shares(shares: IReadOnlyList<float>) : RequestShare list =
        if obj.ReferenceEquals(shares, null) then
            nullArg (nameof shares)

        shares
        |> Seq.map (fun share ->
            match RequestShare.create share with
            | Ok s -> s
            | Error e -> invalidArg (nameof shares) e)
        |> List.ofSeq

    /// Fractions rounded to `digits`, zeros dropped, the largest adjusted so they sum to exactly 1.
    static member RoundToSum
        (fractions: IEnumerable<KeyValuePair<string, float>>, digits: int)
        : IReadOnlyDictionary<string, float> =
        if obj.ReferenceEquals(fractions, null) then
            nullArg (nameof fractions)

        FacadeCollections.ordered (BatchSelection.roundToSum digits (fractions |> Seq.map (fun kv -> kv.Key, kv.Value)))

    /// A share of the points in (0, 1] as the tenant uses it (rounded to millionths, see `RequestShare`); false
    /// with a message naming the value when it lies outside (0, 1] or is not finite.
    static member TryShare(share: float, [<Out>] quantised: byref<float>, [<Out>] error: byref<string>) : bool =
        match RequestShare.create share with
        | Ok s ->
            quantised <- RequestShare.value s
            error <- ""
            true
        | Error e ->
            quantised <- nan
            error <- e
            false

    static member private Run<'T, 'R>
        (
            select:
                'T list
                    -> ('T -> string)
                    -> Set<string>
                    -> ('T -> (string * float)[] -> float -> Result<'R, string>)
                    -> ((string * float)[] * float) seq
                    -> BatchSelection<'R>,
            suggestions: IReadOnlyList<SuggestionSpec>,
            targets: IReadOnlyList<'T>,
            taken: IEnumerable<string>,
            check: Func<'T, IReadOnlyDictionary<string, float>, float, CheckOutcome<'R>>
        ) : BatchSpec<'R> =
        if obj.ReferenceEquals(suggestions, null) then
            nullArg (nameof suggestions)

        if obj.ReferenceEquals(targets, null) then
            nullArg (nameof targets)

        if obj.ReferenceEquals(check, null) then
            nullArg (nameof check)

        let taken =
            if obj.ReferenceEquals(taken, null) then
                Set.empty
            else
                Set.ofSeq taken

        let checkOne target fractions temperature =
            let o = check.Invoke(target, FacadeCollections.ordered fractions, temperature)

            if isNull o.Problem then Ok o.Request else Error o.Problem

        let selection =
            select
                (List.ofSeq targets)
                (fun t -> string t)
                taken
                checkOne
                (suggestions |> Seq.map (fun s -> Convert.pairs s.Formulation, s.Temperature))

        { Points =
            selection.Points
            |> List.map (fun p ->
                { SuggestionIndex = p.Index
                  Formulation = FacadeCollections.ordered p.Fractions
                  Temperature = p.Temperature
                  PointKey = p.Key
                  Requests = ResizeArray p.Requests :> IReadOnlyList<'R> })
            |> ResizeArray
            :> IReadOnlyList<_>
          Skipped = ResizeArray selection.Skipped :> IReadOnlyList<string> }

    /// The batch from `suggestions` (see `BatchSelection.select`); a target's name is its
    /// ToString(), `taken` holds "target|point key" of the tenant's own requests, and `check`
    /// builds and checks one request for (target, rounded fractions, rounded temperature).
    static member Select<'T, 'R>
        (
            suggestions: IReadOnlyList<SuggestionSpec>,
            batch: int,
            fractionDigits: int,
            temperatureDigits: int,
            targets: IReadOnlyList<'T>,
            taken: IEnumerable<string>,
            check: Func<'T, IReadOnlyDictionary<string, float>, float, CheckOutcome<'R>>
        ) : BatchSpec<'R> =
        BatchPlanner.Run(
            BatchSelection.select batch fractionDigits temperatureDigits,
            suggestions,
            targets,
            taken,
            check
        )

    /// The batch with a share per target (see `BatchSelection.selectShared`): `shares[i]` in (0, 1] is the share
    /// of the points `targets[i]` is requested for (1 = every point; a missing entry counts as 1), chosen from
    /// `seed` and the point's index over the tenant's run (the distinct points in `taken`, then the batch's
    /// order). Every share 1 gives `Select` exactly. A share outside (0, 1] is a programmer error (TryShare).
    static member SelectShared<'T, 'R>
        (
            suggestions: IReadOnlyList<SuggestionSpec>,
            batch: int,
            fractionDigits: int,
            temperatureDigits: int,
            targets: IReadOnlyList<'T>,
            shares: IReadOnlyList<float>,
            seed: int,
            taken: IEnumerable<string>,
            check: Func<'T, IReadOnlyDictionary<string, float>, float, CheckOutcome<'R>>
        ) : BatchSpec<'R> =
        let shares = BatchPlanner.Shares shares

        BatchPlanner.Run(
            BatchSelection.selectShared shares seed batch fractionDigits temperatureDigits,
            suggestions,
            targets,
            taken,
            check
        )
