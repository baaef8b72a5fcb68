namespace Finales.OptimizerCli

open FsToolkit.ErrorHandling
open Finales.Optimizer

/// `finales chimera`: {objectives, tolerances, absolutes?, percentiles?, goals?, softness?} to {merits}.
[<RequireQualifiedAccess>]
module internal ChimeraJson =

    let run (text: string) : Result<string, string> =
        result {
            let! root = JsonKit.parse text

            let! o = JsonKit.required root "objectives" "objectives is missing; expected an n x K list of numbers"

            let! t = JsonKit.required root "tolerances" "tolerances is missing; expected K numbers"

            let rows = JsonKit.array (JsonKit.array JsonKit.number) (o, "objectives")
            let tols = JsonKit.array JsonKit.number (t, "tolerances")

            let! rows, tols =
                match rows, tols with
                | Error m, _
                | _, Error m -> Error m
                | Ok rows, Ok tols -> Ok(rows, tols)

            let k = tols.Length

            let flags name =
                JsonKit.optional root name (JsonKit.array JsonKit.bool) (Array.create k false)

            let goals =
                JsonKit.optional root "goals" (JsonKit.array JsonKit.str) (Array.create k "min")

            let soft = JsonKit.optional root "softness" JsonKit.number Chimera.DefaultSoftness

            let! a, p, g, s =
                match flags "absolutes", flags "percentiles", goals, soft with
                | Error m, _, _, _
                | _, Error m, _, _
                | _, _, Error m, _
                | _, _, _, Error m -> Error m
                | Ok a, Ok p, Ok g, Ok s -> Ok(a, p, g, s)

            let! merits =
                Chimera.objectives tols a p g
                |> Result.bind (fun h -> Chimera.scalarise h s rows)
                |> Result.mapError (fun e -> e.Message)

            return
                JsonKit.write (fun w ->
                    w.WriteStartObject()
                    w.WriteStartArray("merits")

                    for m in merits do
                        w.WriteNumberValue m

                    w.WriteEndArray()
                    w.WriteEndObject())
        }
