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

                let outcomes =
                    targets
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

                if not problems.IsEmpty && requests.IsEmpty then
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
