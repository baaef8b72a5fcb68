module Finales.Core.Tests.TubingGraphTests

open System.IO
open Expecto
open Finales.Core

let readFixture (file: string) : string =
    File.ReadAllText(Path.Combine(TestData.fixtureGraphDir, file))

let fixture () : TubingGraph =
    TubingGraph.parse (readFixture "nodes.csv") (readFixture "edges.csv") (readFixture "tubing.csv")
    |> TestData.okOr "fixture graph"

let private nodes = "node;position_node\nA;(0,0)\nB;(1,0)\nV1.0;(2,0)\nV1.1;(2,1)\n"

let private header =
    "flexibility;edge;start;end;ends;length;diameter;dead_volume;restriction;status;\n"

let private edges =
    header
    + "fixed;e1;V1.0;V1.1;XX;14.77;1;0.0116;undirected;empty;\n"
    + "available;t1;not_fixed;not_fixed;NT;100;0.3;0.007;undirected;empty;\n"
    + "available;t2;not_fixed;not_fixed;NT;200;0.3;0.014;directed;empty;\n"
    + "broken;t3;not_fixed;not_fixed;NT;200;0.3;0.014;undirected;empty;\n"

let private tubing = "start;edge;end\nA;t1;V1.0\nV1.1;t2;B\n"

let private errorsOf (n: string) (e: string) (t: string) : string =
    match TubingGraph.parse n e t with
    | Ok _ -> failtest "accepted an inconsistent graph"
    | Error es -> es |> List.map GraphError.message |> String.concat "\n"

[<Tests>]
let tests =
    testList
        "TubingGraph"
        [ test "a consistent graph parses: fixed edges plus connected tubing" {
              let g = TubingGraph.parse nodes edges tubing |> TestData.okOr "graph"
              Expect.equal (TubingGraph.nodes g) [ "A"; "B"; "V1.0"; "V1.1" ] "nodes in file order"

              Expect.equal
                  (TubingGraph.edges g |> List.map (fun e -> e.Id))
                  [ "e1"; "t1"; "t2" ]
                  "unconnected and broken tubing is left out"

              let t2 = TubingGraph.edges g |> List.find (fun e -> e.Id = "t2")
              Expect.equal (t2.Start, t2.End) ("V1.1", "B") "ends come from tubing.csv"
              Expect.equal t2.Restriction Directed "restriction"
              Expect.floatClose Accuracy.veryHigh (float t2.DeadVolume) 0.014 "dead volume"
              Expect.equal (TubingGraph.edgesBetween "B" "V1.1" g) [] "directed edges are one-way"
              Expect.equal (TubingGraph.position "A" g) "(0,0)" "position"
          }
          test "a UTF-8 BOM, CRLF line ends and quoted comments with ';' are accepted" {
              let e =
                  "\uFEFF"
                  + (edges + "fixed;c;A;B;XX;1;1;5;directed;empty;\"a comment; with a semicolon\"\n")
                      .Replace("\n", "\r\n")

              let g =
                  TubingGraph.parse ("\uFEFF" + nodes) e ("\uFEFF" + tubing)
                  |> TestData.okOr "graph"

              Expect.equal (TubingGraph.edges g |> List.length) 4 "four connected edges"
          }
          test "the fixture graph parses and has the published node names" {
              let g = fixture ()
              let ns = TubingGraph.nodes g |> Set.ofList

              for n in
                  [ "A0.0"
                    "F0.0"
                    "M1.0"
                    "densiViscoIN"
                    "densiViscoOUT"
                    "waste_1"
                    "vial_1"
                    "ambient"
                    "pressurizedGas"
                    "Solvent" ]
                  @ [ for r in 1..6 -> $"Reservoir{r}" ] do
                  Expect.isTrue (ns.Contains n) $"node {n}"

              let cell = TubingGraph.edgesBetween "densiViscoIN" "densiViscoOUT" g
              Expect.equal (cell |> List.map (fun e -> float e.DeadVolume)) [ 5.0 ] "the cell holds 5 mL"
          }
          test "valve node names: centre 0, ports 1..10" {
              Expect.equal (TubingGraph.valveNode "V3.0") (Some { Valve = "V3"; Port = 0 }) "centre"
              Expect.equal (TubingGraph.valveNode "V12.10") (Some { Valve = "V12"; Port = 10 }) "port 10"
              Expect.isNone (TubingGraph.valveNode "V3.11") "no port 11"
              Expect.isNone (TubingGraph.valveNode "M1.0") "the mixer is not a valve"
              Expect.isNone (TubingGraph.valveNode "Vial.1") "not a valve"
          }
          test "a tubing edge missing from edges.csv is named" {
              let m = errorsOf nodes edges (tubing + "A;nope;B\n")
              Expect.stringContains m "tubing.csv line 4: edge 'nope' is not in edges.csv" "unknown edge"
          }
          test "a node missing from nodes.csv is named with file, line and column" {
              let m = errorsOf nodes edges "start;edge;end\nA;t1;Ghost\n"
              Expect.stringContains m "tubing.csv line 2: end 'Ghost' is not a node of nodes.csv" "unknown node"

              let m =
                  errorsOf nodes (edges + "fixed;e9;A;Nowhere;XX;1;1;1;undirected;empty;\n") tubing

              Expect.stringContains m "edges.csv line 6: end 'Nowhere' is not a node" "unknown node in edges"
          }
          test "bad numbers and choices are named" {
              let m = errorsOf nodes (edges + "fixed;e9;A;B;XX;abc;1;-1;sideways;empty;\n") tubing
              Expect.stringContains m "edges.csv line 6: length is 'abc'" "length"
              Expect.stringContains m "edges.csv line 6: dead_volume is '-1'" "negative dead volume"
              Expect.stringContains m "restriction is 'sideways'" "restriction"
              let m = errorsOf nodes (edges + "glued;e9;A;B;XX;1;1;1;directed;empty;\n") tubing
              Expect.stringContains m "flexibility is 'glued'" "flexibility"
          }
          test "duplicates, broken and twice-connected tubing are errors" {
              Expect.stringContains
                  (errorsOf (nodes + "A;(9,9)\n") edges tubing)
                  "node 'A' is listed twice"
                  "duplicate node"

              Expect.stringContains
                  (errorsOf nodes (edges + "fixed;e1;A;B;XX;1;1;1;directed;empty;\n") tubing)
                  "edge 'e1' is listed twice"
                  "duplicate edge"

              Expect.stringContains (errorsOf nodes edges (tubing + "A;t3;B\n")) "edge 't3' is marked broken" "broken"

              Expect.stringContains
                  (errorsOf nodes edges (tubing + "A;t1;B\n"))
                  "edge 't1' is already connected on line 2"
                  "twice"

              Expect.stringContains (errorsOf nodes edges (tubing + "A;e1;B\n")) "edge 'e1' is fixed" "fixed in tubing"
          }
          test "fixed edges need nodes and loose tubing must not name them" {
              let m =
                  errorsOf nodes (edges + "fixed;e9;not_fixed;not_fixed;XX;1;1;1;directed;empty;\n") tubing

              Expect.stringContains m "fixed edge 'e9' has start/end 'not_fixed'" "fixed without ends"

              let m =
                  errorsOf nodes (edges + "available;t9;A;B;XX;1;1;1;directed;empty;\n") tubing

              Expect.stringContains m "edge 't9' is not fixed but names nodes 'A' -> 'B'" "loose with ends"
          }
          test "missing columns, short rows, bad valve names and empty files are named" {
              Expect.stringContains
                  (errorsOf nodes "flexibility;edge;start\n" tubing)
                  "edges.csv: the header has no column 'end'"
                  "missing column"

              Expect.stringContains
                  (errorsOf nodes (edges + "fixed;e9;A\n") tubing)
                  "edges.csv line 6: 3 fields, expected at least 10"
                  "short row"

              Expect.stringContains
                  (errorsOf (nodes + "V1.11;(0,0)\n") edges tubing)
                  "node 'V1.11' looks like a valve node"
                  "valve port 11"

              Expect.stringContains (errorsOf "" edges tubing) "nodes.csv: the file is empty" "empty file"

              Expect.stringContains
                  (errorsOf nodes (edges + "fixed;e9;A;B;XX;1;1;1;directed;\"open\n") tubing)
                  "edges.csv line 6: a quoted field is not closed"
                  "quote"
          }
          test "every error is reported, not just the first" {
              let m = errorsOf nodes edges "start;edge;end\nGhost;nope;Phantom\n"
              Expect.stringContains m "'Ghost'" "start"
              Expect.stringContains m "'Phantom'" "end"
              Expect.stringContains m "'nope'" "edge"
          } ]
