module Finales.Optimizer.Tests.RequestShareTests

open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Optimizer
open Finales.Optimizer.Tests.BatchSelectionTests

/// A share in (0, 1] (through the smart constructor), a seed, a target position, a first point index and a run
/// length.
type ShareCase =
    { Share: RequestShare
      Seed: int
      Target: int
      First: int
      Length: int }

type ShareArbitraries =
    static member Case() : Arbitrary<ShareCase> =
        gen {
            let! millionths =
                Gen.oneof
                    [ Gen.choose (1, 1_000_000)
                      Gen.elements [ 1; 1_000_000; 500_000; 333_333; 250_000; 999_999 ] ]

            let share =
                match RequestShare.create (float millionths / 1e6) with
                | Ok s -> s
                | Error e -> failwith e

            let! seed = ArbMap.defaults |> ArbMap.generate<int>
            let! target = Gen.choose (0, 5)
            let! first = Gen.choose (0, 100_000)
            let! length = Gen.choose (0, 2_000)

            return
                { Share = share
                  Seed = seed
                  Target = target
                  First = first
                  Length = length }
        }
        |> Arb.fromGen

    static member Problem() : Arbitrary<BatchProblem> = BatchArbitraries.Problem()

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<ShareArbitraries> ]
        maxTest = 300 }

let private picked (c: ShareCase) =
    let phase = RequestShare.phase c.Seed c.Target

    [ c.First .. c.First + c.Length - 1 ]
    |> List.filter (RequestShare.chosen c.Share phase)

let private ok (share: float) =
    match RequestShare.create share with
    | Ok s -> s
    | Error e -> failwith e

let private selectWith (shares: RequestShare list) (seed: int) (p: BatchProblem) =
    let mutable calls = 0

    let check (target: string) (_: (string * float)[]) (_: float) =
        calls <- calls + 1

        if p.RefuseEvery > 0 && calls % p.RefuseEvery = 0 then
            Error "refused by the check"
        else
            Ok target

    BatchSelection.selectShared shares seed p.Batch 2 0 p.Targets id p.Taken check p.Suggestions

[<Tests>]
let tests =
    testList
        "RequestShare"
        [ testPropertyWithConfig
              config
              "over any run of n consecutive points the share is met: floor(n s) or ceil(n s) points"
              (fun (c: ShareCase) ->
                  let k = RequestShare.millionths c.Share
                  let n = int64 c.Length
                  let count = int64 (picked c).Length
                  let low = n * k / RequestShare.Resolution
                  let high = (n * k + RequestShare.Resolution - 1L) / RequestShare.Resolution

                  Expect.isGreaterThanOrEqual
                      count
                      low
                      (sprintf "%d of %d points at share %g" count n (RequestShare.value c.Share))

                  Expect.isLessThanOrEqual
                      count
                      high
                      (sprintf "%d of %d points at share %g" count n (RequestShare.value c.Share)))
          testPropertyWithConfig config "share 1 picks every point" (fun (c: ShareCase) ->
              let all = { c with Share = RequestShare.all }
              Expect.equal (picked all).Length c.Length "every point")
          testPropertyWithConfig config "the same seed, target and index give the same answer" (fun (c: ShareCase) ->
              Expect.equal (picked c) (picked c) "deterministic"
              Expect.equal (RequestShare.phase c.Seed c.Target) (RequestShare.phase c.Seed c.Target) "phase"
              let phase = RequestShare.phase c.Seed c.Target
              Expect.isTrue (phase >= 0L && phase < RequestShare.Resolution) "phase in [0, 10^6)")
          testPropertyWithConfig
              config
              "picked points are spread evenly: gaps differ by at most one"
              (fun (c: ShareCase) ->
                  let gaps = picked c |> List.pairwise |> List.map (fun (a, b) -> b - a)

                  if not gaps.IsEmpty then
                      Expect.isLessThanOrEqual (List.max gaps - List.min gaps) 1 (sprintf "gaps %A" gaps))
          testPropertyWithConfig
              config
              "a share is created for (0, 1] and refused elsewhere, naming the value"
              (fun (x: NormalFloat) ->
                  let x = x.Get

                  match RequestShare.create x with
                  | Ok s ->
                      Expect.isTrue (x > 0.0 && x <= 1.0) (sprintf "%g accepted" x)
                      Expect.isTrue (RequestShare.value s > 0.0 && RequestShare.value s <= 1.0) "value in (0, 1]"

                      Expect.isLessThanOrEqual
                          (abs (RequestShare.value s - x))
                          1e-6
                          "rounded to millionths, or 1e-6 at least"
                  | Error e ->
                      Expect.isFalse (x > 0.0 && x <= 1.0) (sprintf "%g refused: %s" x e)
                      Expect.stringContains e "it must lie in (0, 1]" "the message says the range")
          test "NaN, infinity, 0 and 1.5 are refused; 1 is every point" {
              for x in [ nan; infinity; -infinity; 0.0; 1.5; -0.1 ] do
                  Expect.isError (RequestShare.create x) (sprintf "%g" x)

              Expect.equal (RequestShare.millionths (ok 1.0)) RequestShare.Resolution "1 is all"
              Expect.equal (RequestShare.millionths (ok 1e-9)) 1L "a tiny share is one millionth"
          }
          test "a quarter of 100 points is 25, one in every block of four" {
              let s = ok 0.25
              let phase = RequestShare.phase 1 1
              let chosen = [ 0..99 ] |> List.filter (RequestShare.chosen s phase)
              Expect.equal chosen.Length 25 "25 of 100"

              Expect.all
                  (List.chunkBySize 4 [ 0..99 ])
                  (fun block -> (block |> List.filter (RequestShare.chosen s phase)).Length = 1)
                  "one in every block of four"
          }
          testPropertyWithConfig
              config
              "selectShared with every share 1 is select, for any seed"
              (fun (p: BatchProblem) (seed: int) ->
                  let shares = p.Targets |> List.map (fun _ -> RequestShare.all)
                  let mutable calls = 0

                  let check (target: string) (_: (string * float)[]) (_: float) =
                      calls <- calls + 1

                      if p.RefuseEvery > 0 && calls % p.RefuseEvery = 0 then
                          Error "refused by the check"
                      else
                          Ok target

                  let plain =
                      BatchSelection.select p.Batch 2 0 p.Targets id p.Taken check p.Suggestions

                  calls <- 0
                  Expect.equal (selectWith shares seed p) plain "the same batch")
          testPropertyWithConfig
              config
              "a shared target is requested exactly at the points RequestShare picks, counted from the points taken"
              (fun (p: BatchProblem) (seed: int) (millionths: int) ->
                  let share = ok (float (1 + abs (millionths % 1_000_000)) / 1e6)
                  // the first target for every point, the second (when there is one) for a share
                  let shares =
                      p.Targets |> List.mapi (fun i _ -> if i = 0 then RequestShare.all else share)

                  let s = selectWith shares seed p
                  let first = BatchSelection.pointsTaken p.Taken

                  s.Points
                  |> List.iteri (fun j point ->
                      match p.Targets with
                      | [ _; second ] ->
                          let due = RequestShare.chosen share (RequestShare.phase seed 1) (first + j)

                          if not due then
                              Expect.isFalse
                                  (List.contains second point.Requests)
                                  (sprintf "point %d is not due for %s" (first + j) second)
                      | _ -> ())

                  Expect.equal (selectWith shares seed p) s "deterministic")
          testPropertyWithConfig
              config
              "roomShared with every share 1 is room"
              (fun (cap: int) (openRequests: int) (perPoint: int) (batch: int) (seed: int) (first: int) ->
                  let cap, openRequests, perPoint, batch, first =
                      abs cap % 200, abs openRequests % 200, 1 + abs perPoint % 4, abs batch % 10, abs first % 1000

                  let shares = List.replicate perPoint RequestShare.all

                  Expect.equal
                      (BatchSelection.roomShared shares seed first cap openRequests batch)
                      (BatchSelection.room cap openRequests perPoint batch)
                      "the same room")
          testPropertyWithConfig
              config
              "roomShared never takes the open requests above the cap, and one more point would"
              (fun (c: ShareCase) (cap: int) (openRequests: int) (batch: int) ->
                  let cap, openRequests, batch = abs cap % 50, abs openRequests % 50, abs batch % 10
                  let shares = [ c.Share; RequestShare.all ]
                  let room = BatchSelection.roomShared shares c.Seed c.First cap openRequests batch

                  let requests k =
                      [ 0 .. k - 1 ]
                      |> List.sumBy (fun j ->
                          shares
                          |> List.mapi (fun i s -> RequestShare.chosen s (RequestShare.phase c.Seed i) (c.First + j))
                          |> List.filter id
                          |> List.length)

                  Expect.isGreaterThanOrEqual room 0 "never negative"
                  Expect.isLessThanOrEqual room batch "at most the batch"

                  if room > 0 then
                      Expect.isLessThanOrEqual (openRequests + requests room) cap "within the cap"

                  if room < batch then
                      Expect.isGreaterThan (openRequests + requests (room + 1)) cap "one more point would not fit")
          test "a third of the points for one of two targets: a batch of 3 fits under a cap of 4" {
              let shares = [ ok (1.0 / 3.0); RequestShare.all ]

              for first in 0..8 do
                  Expect.equal
                      (BatchSelection.roomShared shares 1 first 4 0 3)
                      3
                      (sprintf "3 points from point %d" first)
          }
          test "pointsTaken counts distinct points over every target" {
              let taken =
                  Set.ofList [ "q/m|A=1;@300"; "r/n|A=1;@300"; "q/m|B=1;@300"; "r/n|A=0.5;B=0.5;@301" ]

              Expect.equal (BatchSelection.pointsTaken taken) 3 "three points"
              Expect.equal (BatchSelection.pointsTaken Set.empty) 0 "none"
          }
          test "a point where no target is due is skipped, naming why" {
              let never = ok 1e-6
              // one millionth picks index 0 only when the phase is 999,999; seed 3's is not
              Expect.notEqual (RequestShare.phase 3 0) 999_999L "seed 3's phase"
              Expect.isFalse (RequestShare.chosen never (RequestShare.phase 3 0) 0) "index 0 is not due"

              let s =
                  BatchSelection.selectShared
                      [ never ]
                      3
                      1
                      2
                      0
                      [ "q/m" ]
                      id
                      Set.empty
                      (fun t _ _ -> Ok t)
                      [ [| "A", 1.0 |], 300.0 ]

              Expect.isEmpty s.Points "no point"

              Expect.equal
                  s.Skipped
                  [ "A=1.00;@300: no requested capability is due at this point" ]
                  "skipped with the reason"
          } ]
