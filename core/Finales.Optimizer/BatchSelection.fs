namespace Finales.Optimizer

open System
open Finales.Core

/// One selected point: rounded fractions (summing to 1 at the fraction digits), the rounded
/// temperature, its point key, the index of its suggestion and its requests (one per target).
type SelectedPoint<'R> =
    { Index: int
      Fractions: (string * float)[]
      Temperature: float
      Key: string
      Requests: 'R list }

/// The points of one batch and why suggestions (or some of their requests) were skipped.
type BatchSelection<'R> =
    { Points: SelectedPoint<'R> list
      Skipped: string list }

/// The optimizer tenant's pure batch decisions: how many points fit under the queue cap, and which
/// suggestions become requests (rounded, deduplicated against this batch and the tenant's own
/// requests, checked per target). Deterministic: the same arguments give the same batch.
[<RequireQualifiedAccess>]
module BatchSelection =

    /// Points that fit: (queueCap - openRequests) / requestsPerPoint, at most batchSize; 0 = none.
    /// Posting them never takes the own open requests above queueCap.
    let room (queueCap: int) (openRequests: int) (requestsPerPoint: int) (batchSize: int) : int =
        let fit = (queueCap - openRequests) / max 1 requestsPerPoint
        if fit <= 0 then 0 else max 0 (min batchSize fit)

    /// Points that fit when target i is requested only at the points its share picks
    /// (`RequestShare.chosen` under the phase of (seed, i)): the most k <= batchSize such that
    /// openRequests + the requests of the tenant's points first .. first + k - 1 <= queueCap
    /// (first = the points it has posted so far). Every share 1 gives `room` with one request per
    /// share and point.
    let roomShared
        (shares: RequestShare list)
        (seed: int)
        (first: int)
        (queueCap: int)
        (openRequests: int)
        (batchSize: int)
        : int =
        let rules = shares |> List.mapi (fun i s -> s, RequestShare.phase seed i)

        let requestsAt (position: int) =
            rules
            |> List.filter (fun (s, phase) -> RequestShare.chosen s phase (first + position))
            |> List.length

        let rec grow k used =
            if k >= batchSize then
                k
            else
                let next = used + requestsAt k

                if openRequests + next <= queueCap then
                    grow (k + 1) next
                else
                    k

        max 0 (grow 0 0)

    let private round (digits: int) (v: float) =
        Math.Round(v, digits, MidpointRounding.AwayFromZero)

    /// Fractions rounded to `digits` decimals, zeros dropped (order kept), the largest (ties: the
    /// first key in ordinal order) set so that the sum is exactly 1 at that precision.
    let roundToSum (digits: int) (fractions: (string * float) seq) : (string * float)[] =
        let rounded =
            fractions
            |> Seq.map (fun (k, v) -> k, round digits v)
            |> Seq.filter (fun (_, v) -> v > 0.0)
            |> Seq.fold
                (fun (acc: (string * float) list) (k, v) ->
                    if acc |> List.exists (fun (k', _) -> k' = k) then
                        acc |> List.map (fun (k', v') -> if k' = k then k', v else k', v')
                    else
                        acc @ [ k, v ])
                []
            |> Array.ofList

        if rounded.Length = 0 then
            rounded
        else
            let largest =
                rounded
                |> Array.sortWith (fun (k1, v1) (k2, v2) ->
                    match compare v2 v1 with
                    | 0 -> String.CompareOrdinal(k1, k2)
                    | c -> c)
                |> Array.head
                |> fst

            let rest = rounded |> Array.filter (fun (k, _) -> k <> largest) |> Array.sumBy snd

            rounded
            |> Array.map (fun (k, v) -> if k = largest then k, round digits (1.0 - rest) else k, v)

    /// The distinct points among `taken` ("target|key" entries): how many points the tenant has
    /// posted so far, the index of its next point.
    let pointsTaken (taken: Set<string>) : int =
        taken
        |> Seq.map (fun entry ->
            match entry.IndexOf '|' with
            | -1 -> entry
            | i -> entry.Substring(i + 1))
        |> Seq.distinct
        |> Seq.length

    /// `select` where a target is requested only at the points `due` names: `due position
    /// targetIndex`, position the point's place in this batch (0 = its first point), targetIndex
    /// the target's place in `targets`. A point where no
    /// target is due is skipped (with the reason). `select` is `selectDue` with every target due.
    let selectDue
        (due: int -> int -> bool)
        (batch: int)
        (fractionDigits: int)
        (temperatureDigits: int)
        (targets: 'T list)
        (targetName: 'T -> string)
        (taken: Set<string>)
        (check: 'T -> (string * float)[] -> float -> Result<'R, string>)
        (suggestions: ((string * float)[] * float) seq)
        : BatchSelection<'R> =
        let rule =
            { FractionDigits = fractionDigits
              TemperatureDigits = temperatureDigits }

        let mutable points = []
        let mutable skipped = []
        let mutable planned = Set.empty

        use e = (Seq.indexed suggestions).GetEnumerator()

        while List.length points < batch && e.MoveNext() do
            let index, (fractions, temperature) = e.Current
            let f = roundToSum fractionDigits fractions
            let t = round temperatureDigits temperature
            let key = PointKey.value (PointKey.create rule f t)

            if planned.Contains key then
                skipped <- skipped @ [ sprintf "%s: suggested twice in this batch" key ]
            else
                planned <- planned.Add key
                let position = List.length points

                let dueTargets =
                    targets
                    |> List.indexed
                    |> List.filter (fun (i, _) -> due position i)
                    |> List.map snd

                let outcomes =
                    dueTargets
                    |> List.map (fun target ->
                        let name = targetName target

                        if taken.Contains(name + "|" + key) then
                            Error(sprintf "duplicate of an own %s request" name)
                        else
                            check target f t)

                let requests = outcomes |> List.choose Result.toOption

                let problems =
                    outcomes
                    |> List.choose (function
                        | Error p -> Some p
                        | Ok _ -> None)

                if dueTargets.IsEmpty then
                    skipped <- skipped @ [ sprintf "%s: no requested capability is due at this point" key ]
                elif not problems.IsEmpty && requests.IsEmpty then
                    skipped <- skipped @ [ sprintf "%s: %s" key (String.Join("; ", problems)) ]
                else
                    if not problems.IsEmpty then
                        skipped <- skipped @ [ sprintf "%s: partly skipped: %s" key (String.Join("; ", problems)) ]

                    points <-
                        points
                        @ [ { Index = index
                              Fractions = f
                              Temperature = t
                              Key = key
                              Requests = requests } ]

        { Points = points; Skipped = skipped }

    /// The batch: suggestions in order until `batch` points; each rounded (`roundToSum`,
    /// temperature to `temperatureDigits`) and keyed; a key met twice is skipped; per target, a
    /// request is left out when `taken` holds "target|key" (an own request of that point) or
    /// `check` refuses it; a point without any request is skipped. Skip reasons name the key.
    let select
        (batch: int)
        (fractionDigits: int)
        (temperatureDigits: int)
        (targets: 'T list)
        (targetName: 'T -> string)
        (taken: Set<string>)
        (check: 'T -> (string * float)[] -> float -> Result<'R, string>)
        (suggestions: ((string * float)[] * float) seq)
        : BatchSelection<'R> =
        selectDue (fun _ _ -> true) batch fractionDigits temperatureDigits targets targetName taken check suggestions

    /// `select` with a share per target (`RequestShare`, same order as `targets`): the point at
    /// position j of this batch is the tenant's point `pointsTaken taken + j`, and target t is
    /// requested there when `RequestShare.chosen` picks that index under the phase of (seed, t's
    /// position). Every share 1 gives `select` exactly.
    let selectShared
        (shares: RequestShare list)
        (seed: int)
        (batch: int)
        (fractionDigits: int)
        (temperatureDigits: int)
        (targets: 'T list)
        (targetName: 'T -> string)
        (taken: Set<string>)
        (check: 'T -> (string * float)[] -> float -> Result<'R, string>)
        (suggestions: ((string * float)[] * float) seq)
        : BatchSelection<'R> =
        let first = pointsTaken taken

        let rules =
            targets
            |> List.mapi (fun i _ ->
                let share = shares |> List.tryItem i |> Option.defaultValue RequestShare.all
                share, RequestShare.phase seed i)
            |> Array.ofList

        let due (position: int) (target: int) =
            let share, phase = rules[target]
            RequestShare.chosen share phase (first + position)

        selectDue due batch fractionDigits temperatureDigits targets targetName taken check suggestions
