/// The console queue's status filters (issue 13): a status with a partial index of request_state (pending, reserved,
/// retracted) is read from that index; the rows must be the same as the filter asks, newest first, paged by cursor.
module Finales.Console.Tests.ConsoleQueueTests

open System
open Expecto
open Finales.Broker
open Finales.Console.Tests.ConsoleWorld

let private queue (w: World) (status: string) (text: string) (before: int64) (limit: int) =
    let reads = w.Service.Store :?> IConsoleReadModel

    reads.QueueAsync(QueueFilter("conductivity", status, Nullable(), null, null, text, null), before, limit).Result
    |> List.ofSeq

[<Tests>]
let tests =
    // The browser tests share the world (and claim tenant A's oldest pending request): not beside them.
    testSequencedGroup "console world"
    <| testList
        "ConsoleQueue"
        [ testCase "a status filter lists only that status, newest first, and pages by cursor" (fun () ->
              let w = world.Value
              let pending = [ for _ in 1..3 -> w.RequestOfA() ]
              let retracted = w.RequestOfA()

              let retract (id: string) =
                  w.Alice.Post(
                      sprintf
                          "/requests/%s/update_status/?request_id=%s&new_status=retracted&status_change_message=gone"
                          id
                          id
                  )
                  |> ignore

              retract retracted

              for status in [ "pending"; "reserved"; "retracted"; "resolved" ] do
                  let rows = queue w status null Int64.MaxValue 50

                  Expect.all
                      rows
                      (fun r -> r.Status = status)
                      (sprintf "every row of status=%s has that status" status)

                  Expect.isTrue
                      (rows |> List.pairwise |> List.forall (fun (a, b) -> a.Seq > b.Seq))
                      (sprintf "the rows of status=%s are newest first" status)

              for id in pending do
                  Expect.equal
                      (queue w "pending" id Int64.MaxValue 50 |> List.map (fun r -> string r.Uuid))
                      [ id ]
                      "a pending request is found under pending"

                  Expect.isEmpty (queue w "retracted" id Int64.MaxValue 50) "and not under retracted"

              Expect.equal
                  (queue w "retracted" retracted Int64.MaxValue 50
                   |> List.map (fun r -> string r.Uuid))
                  [ retracted ]
                  "the retracted request is found under retracted"

              Expect.isEmpty (queue w "pending" retracted Int64.MaxValue 50) "and no longer under pending"

              let first = queue w "pending" null Int64.MaxValue 1 |> List.exactlyOne
              let second = queue w "pending" null first.Seq 1 |> List.exactlyOne
              Expect.isLessThan second.Seq first.Seq "the cursor pages to an older pending request"
              Expect.equal second.Status "pending" "the next page keeps the filter"
              // No pending request of this test is left for the browser tests' claims in the same world.
              pending |> List.iter retract) ]
