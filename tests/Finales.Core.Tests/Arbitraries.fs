/// FsCheck generators for the science core, built through the smart constructors and registered
/// through the FsCheck config (never Arb.Register: Expecto runs tests in parallel).
module Finales.Core.Tests.Arbitraries

open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Core.Units

/// A valid mole-fraction formulation over a random non-empty subset of chemicals.
type ValidFormulation = ValidFormulation of Formulation

/// Four stocks over the five chemicals (random masses, some zero) and a random target.
type MixingProblem =
    { Stocks: Stock list
      Target: MixingTarget }

/// A convex combination of the stocks' compositions, with the weights used.
type ReachableProblem =
    { Stocks: Stock list
      Weights: float list }

/// A small random tubing graph as the three CSV texts, and nodes to route between.
type SmallGraph =
    { Nodes: string list
      NodesCsv: string
      EdgesCsv: string
      TubingCsv: string
      From: string
      To: string
      Via: string option }

let private positive =
    Gen.choose (1, 1_000_000) |> Gen.map (fun i -> float i / 1_000_000.0)

let private formulationGen: Gen<Formulation> =
    gen {
        let! mask = Gen.choose (1, 31)

        let chems =
            Chemical.all
            |> List.indexed
            |> List.filter (fun (i, _) -> (mask >>> i) &&& 1 = 1)
            |> List.map snd

        let! raw = Gen.listOfLength chems.Length positive
        let total = List.sum raw
        let fractions = List.zip chems (raw |> List.map (fun v -> v / total))

        return
            Formulation.create MolePerMole fractions
            |> TestData.okOr "generated formulation"
    }

let private stockGen (name: string) : Gen<Stock> =
    gen {
        let! masses = Gen.listOfLength 5 (Gen.frequency [ 1, Gen.constant 0.0; 3, positive |> Gen.map ((*) 500.0) ])

        let masses =
            if List.forall ((=) 0.0) masses then
                1.0 :: List.tail masses
            else
                masses

        let! density = Gen.choose (900, 1500) |> Gen.map (fun i -> float i / 1000.0)

        return
            Stock.create
                name
                (List.zip Chemical.all (masses |> List.map (fun m -> m * 1.0<g>)))
                None
                (density * 1.0<g / cm^3>)
            |> TestData.okOr "generated stock"
    }

let private stocksGen: Gen<Stock list> =
    [ "S1"; "S2"; "S3"; "S4" ] |> List.map stockGen |> Gen.sequenceToList

/// Valve nodes of the random graphs: two valves with centre and three ports, plus plain nodes.
let smallGraphNodes =
    [ "V1.0"
      "V1.1"
      "V1.2"
      "V1.3"
      "V2.0"
      "V2.1"
      "V2.2"
      "V2.3"
      "P1"
      "P2"
      "P3"
      "P4" ]

let private smallGraphGen: Gen<SmallGraph> =
    gen {
        let nodes = smallGraphNodes
        let n = nodes.Length
        let! extra = Gen.choose (6, 18)

        let! randomEdges =
            Gen.listOfLength
                extra
                (gen {
                    let! a = Gen.choose (0, n - 1)
                    let! b = Gen.choose (0, n - 1)
                    let! w = Gen.choose (1, 40)
                    let! directed = Gen.elements [ true; false; false ]
                    return a, b, float w / 10.0, directed
                })

        let internalEdges =
            [ for v in [ "V1"; "V2" ] do
                  for p in 1..3 -> $"{v}.0", $"{v}.{p}", 0.05, false ]

        let external =
            randomEdges
            |> List.filter (fun (a, b, _, _) -> a <> b)
            |> List.map (fun (a, b, w, d) -> nodes[a], nodes[b], w, d)

        let all = internalEdges @ external
        let! fromI = Gen.choose (0, n - 1)
        let! toI = Gen.choose (0, n - 1)
        let! viaI = Gen.frequency [ 2, Gen.constant None; 1, Gen.choose (0, n - 1) |> Gen.map Some ]

        let edgeLines =
            all
            |> List.mapi (fun i (a, b, w, d) ->
                let restriction = if d then "directed" else "undirected"
                $"fixed;e{i};{a};{b};XX;{w * 10.0};0.3;{w};{restriction};empty;")

        return
            { Nodes = nodes
              NodesCsv =
                "node;position_node\n"
                + (nodes |> List.map (fun x -> x + ";(0,0)") |> String.concat "\n")
              EdgesCsv =
                "flexibility;edge;start;end;ends;length;diameter;dead_volume;restriction;status;\n"
                + String.concat "\n" edgeLines
              TubingCsv = "start;edge;end\n"
              From = nodes[fromI]
              To = nodes[toI]
              Via = viaI |> Option.map (fun i -> nodes[i]) }
    }

/// The generators, registered through `config`.
type Arbitraries =
    static member ValidFormulation() : Arbitrary<ValidFormulation> =
        formulationGen |> Gen.map ValidFormulation |> Arb.fromGen

    static member MixingProblem() : Arbitrary<MixingProblem> =
        gen {
            let! stocks = stocksGen
            let! (f: Formulation) = formulationGen

            return
                { Stocks = stocks
                  Target = MixingTarget.ofFormulation f }
        }
        |> Arb.fromGen

    static member ReachableProblem() : Arbitrary<ReachableProblem> =
        gen {
            let! stocks = stocksGen
            let! raw = Gen.listOfLength 4 (Gen.frequency [ 1, Gen.constant 0.0; 3, positive ])

            let raw =
                if List.forall ((=) 0.0) raw then
                    1.0 :: List.tail raw
                else
                    raw

            let total = List.sum raw

            return
                { Stocks = stocks
                  Weights = raw |> List.map (fun w -> w / total) }
        }
        |> Arb.fromGen

    static member SmallGraph() : Arbitrary<SmallGraph> = Arb.fromGen smallGraphGen

/// The FsCheck configuration of this test project.
let config: FsCheckConfig =
    { FsCheckConfig.defaultConfig with
        maxTest = 200
        arbitrary = [ typeof<Arbitraries> ] }
