module Finales.Core.Tests.RoutingTests

open Expecto
open Finales.Core
open Finales.Core.Tests.Arbitraries

let private fixture = lazy (TubingGraphTests.fixture ())

let private route (from: string) (``to``: string) (via: string list) : Route =
    Routing.find ByDeadVolume from ``to`` via fixture.Value
    |> TestData.okOr $"{from} -> {``to``}"

/// The cheapest edge weight between consecutive nodes (dead volume).
let private step (g: TubingGraph) (a: string) (b: string) : float option =
    match TubingGraph.edgesBetween a b g with
    | [] -> None
    | es -> es |> List.map (fun e -> float e.DeadVolume) |> List.min |> Some

/// Exhaustive search over state-simple walks: a walk never repeats (node, via-nodes passed, touched
/// valve nodes); an optimal walk never does, so this enumerates every candidate.
let exhaustive (g: TubingGraph) (from: string) (``to``: string) (via: string list) : float option =
    let via = Array.ofList via
    let nodes = TubingGraph.nodes g
    let mutable best = None

    let rec advance i n =
        if i < via.Length && via[i] = n then
            advance (i + 1) n
        else
            i

    let rec go
        (node: string)
        (viaPassed: int)
        (path: string list)
        (seen: Set<string * int * Set<string>>)
        (cost: float)
        =
        if node = ``to`` && viaPassed = via.Length then
            best <-
                Some(
                    match best with
                    | Some b -> min b cost
                    | None -> cost
                )

        for next in nodes do
            match step g node next with
            | Some w ->
                let path' = next :: path
                let via' = advance viaPassed next

                let touched' =
                    path' |> List.filter (fun n -> (TubingGraph.valveNode n).IsSome) |> Set.ofList

                let key = next, via', touched'

                if Routing.isValid path' && not (seen.Contains key) then
                    go next via' path' (seen.Add key) (cost + w)
            | None -> ()

    let v0 = advance 0 from

    if Routing.isValid [ from ] then
        go
            from
            v0
            [ from ]
            (Set.singleton (
                from,
                v0,
                [ from ]
                |> List.filter (fun n -> (TubingGraph.valveNode n).IsSome)
                |> Set.ofList
            ))
            0.0

    best

[<Tests>]
let tests =
    testList
        "Routing"
        [ test "the valve rule: at most two distinct nodes of one valve" {
              Expect.isTrue (Routing.isValid [ "R"; "V1.3"; "V1.0"; "P" ]) "port and centre"
              Expect.isFalse (Routing.isValid [ "R"; "V1.3"; "V1.0"; "V1.5" ]) "two ports and the centre"
              Expect.isTrue (Routing.isValid [ "V1.3"; "V1.0"; "X"; "V2.0"; "V2.1" ]) "two valves"
          }
          test "valve settings follow the path" {
              Expect.equal
                  (Routing.valveSettings [ "A0.0"; "V1.0"; "V1.2"; "M1.1"; "M1.0"; "V7.0"; "V7.1"; "densiViscoIN" ])
                  [ { Valve = "V1"; Port = 2 }; { Valve = "V7"; Port = 1 } ]
                  "V1 -> 2, V7 -> 1"
          }
          test "fixture: every reservoir reaches its pump through port 1" {
              for (k, p) in List.indexed [ "A"; "B"; "C"; "D"; "E"; "F" ] do
                  let r = route $"Reservoir{k + 1}" $"{p}0.0" []
                  Expect.equal r.Nodes [ $"Reservoir{k + 1}"; $"V{k + 1}.1"; $"V{k + 1}.0"; $"{p}0.0" ] "fill path"
                  Expect.equal r.ValveSettings [ { Valve = $"V{k + 1}"; Port = 1 } ] "valve setting"
          }
          test "fixture: every pump reaches the mixer, the mixer the cell, the cell the waste, gas the cell" {
              for p in [ "A"; "B"; "C"; "D"; "E"; "F" ] do
                  let r = route $"{p}0.0" "M1.0" []
                  Expect.isTrue (Routing.isValid r.Nodes) "valid"

              let toCell = route "M1.0" "densiViscoIN" []
              Expect.equal toCell.Nodes [ "M1.0"; "V7.0"; "V7.1"; "densiViscoIN" ] "mixer -> cell"
              let drain = route "densiViscoOUT" "waste_1" []
              Expect.equal drain.Nodes [ "densiViscoOUT"; "V9.0"; "V9.1"; "waste_1" ] "cell -> waste"
              let gas = route "pressurizedGas" "densiViscoIN" []

              Expect.equal
                  gas.Nodes
                  [ "pressurizedGas"
                    "V8.1"
                    "V8.0"
                    "M1.7"
                    "M1.0"
                    "V7.0"
                    "V7.1"
                    "densiViscoIN" ]
                  "gas -> cell"
          }
          test "fixture: the mixer drains to waste through V7 port 2, not through the 5 mL cell" {
              let r = route "M1.0" "waste_1" []
              Expect.equal r.Nodes [ "M1.0"; "V7.0"; "V7.2"; "waste_1" ] "direct to waste"
              Expect.isLessThan (float r.DeadVolume) 1.0 "well below the cell volume"
          }
          test "fixture: a via-node forces the route through the cell and its dead volume is summed" {
              let r = route "A0.0" "waste_1" [ "densiViscoIN" ]

              Expect.equal
                  r.Nodes
                  [ "A0.0"
                    "V1.0"
                    "V1.2"
                    "M1.1"
                    "M1.0"
                    "V7.0"
                    "V7.1"
                    "densiViscoIN"
                    "densiViscoOUT"
                    "V9.0"
                    "V9.1"
                    "waste_1" ]
                  "through the cell"

              let expected = r.Edges |> List.sumBy (fun e -> float e.DeadVolume)
              Expect.floatClose Accuracy.veryHigh (float r.DeadVolume) expected "sum of edge dead volumes"
              Expect.isGreaterThan (float r.DeadVolume) 5.0 "includes the cell"
              let dv = Routing.deadVolume r.Nodes fixture.Value |> TestData.okOr "dead volume"
              Expect.floatClose Accuracy.veryHigh (float dv) (float r.DeadVolume) "deadVolume of the node list"

              Expect.equal
                  r.ValveSettings
                  [ { Valve = "V1"; Port = 2 }
                    { Valve = "V7"; Port = 1 }
                    { Valve = "V9"; Port = 1 } ]
                  "settings"
          }
          test "fixture: a reservoir cannot reach the waste because it would cross its valve's three nodes" {
              // Reservoir1 -> V1.1 -> V1.0 -> V1.3 -> waste_1 is the plain shortest path but touches
              // three nodes of V1; the pump behind V1.0 is a dead end.
              match Routing.find ByDeadVolume "Reservoir1" "waste_1" [] fixture.Value with
              | Error(NoPath _ as e) -> Expect.stringContains (RouteError.message e) "at most two nodes" "message"
              | other -> failtestf "expected no path, got %A" other
          }
          test "fixture: by length and by dead volume can differ but both obey the rule" {
              let r =
                  Routing.find ByLength "B0.0" "densiViscoIN" [] fixture.Value
                  |> TestData.okOr "by length"

              Expect.isTrue (Routing.isValid r.Nodes) "valid"

              Expect.floatClose
                  Accuracy.veryHigh
                  (float r.Length)
                  (r.Edges |> List.sumBy (fun e -> float e.Length))
                  "length"
          }
          test "unknown nodes are named" {
              match Routing.find ByDeadVolume "Nowhere" "waste_1" [] fixture.Value with
              | Error e -> Expect.equal (RouteError.message e) "from 'Nowhere' is not a node of the graph" "message"
              | Ok _ -> failtest "routed from an unknown node"

              match Routing.find ByDeadVolume "A0.0" "waste_1" [ "M1.0"; "Ghost" ] fixture.Value with
              | Error e -> Expect.stringContains (RouteError.message e) "via[1] 'Ghost'" "via"
              | Ok _ -> failtest "routed via an unknown node"
          }
          test "deadVolume names the first unconnected pair" {
              match Routing.deadVolume [ "A0.0"; "waste_1" ] fixture.Value with
              | Error e -> Expect.equal (RouteError.message e) "no edge leads from 'A0.0' to 'waste_1'" "message"
              | Ok _ -> failtest "unconnected nodes"
          }
          testPropertyWithConfig
              config
              "random graphs: the route obeys the rule and nothing valid is shorter"
              (fun (sg: SmallGraph) ->
                  let g =
                      TubingGraph.parse sg.NodesCsv sg.EdgesCsv sg.TubingCsv
                      |> TestData.okOr "random graph"

                  let via = Option.toList sg.Via
                  let best = exhaustive g sg.From sg.To via

                  match Routing.find ByDeadVolume sg.From sg.To via g, best with
                  | Ok r, Some b ->
                      Expect.isTrue (Routing.isValid r.Nodes) $"valid {r.Nodes}"
                      Expect.equal (List.head r.Nodes) sg.From "starts at from"
                      Expect.equal (List.last r.Nodes) sg.To "ends at to"

                      let dv =
                          Routing.deadVolume r.Nodes g |> TestData.okOr "consecutive nodes are connected"

                      Expect.floatClose
                          { absolute = 1e-9; relative = 1e-9 }
                          (float dv)
                          (float r.DeadVolume)
                          "reported dead volume"

                      Expect.floatClose { absolute = 1e-9; relative = 1e-9 } (float r.DeadVolume) b "optimal"

                      for v in via do
                          Expect.contains r.Nodes v "passes the via-node"
                  | Error(NoPath _), None -> ()
                  | result, b -> failtestf "search gave %A but exhaustive search gave %A" result b) ]
