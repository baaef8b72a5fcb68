module Finales.Core.Tests.PointKeyTests

open System
open FsCheck
open FsCheck.FSharp
open Expecto
open Finales.Core
open Finales.Core.Tests.Arbitraries

/// The ways a request may name one chemical: for a known one its name (any case), SMILES and InChIKey, each
/// possibly with white space around; an unknown chemical by its SMILES as written.
let private aliases: string list list =
    [ for c in Chemical.all do
          let d = Chemical.data c

          [ d.Name
            d.Name.ToLowerInvariant()
            d.Smiles
            d.InChIKey
            " " + d.InChIKey + " " ]
      [ "CC(C)O"; " CC(C)O" ]
      [ "OCCO" ] ]

/// A point on the rule's grid: chemical (index into `aliases`) -> fraction in units of 10^-FractionDigits
/// (> 0), temperature in units of 10^-TemperatureDigits K.
type private GridPoint =
    { Units: Map<int, int>
      TemperatureUnits: int }

let private ruleGen: Gen<PointKeyRule> =
    gen {
        let! f = Gen.choose (2, 6)
        let! t = Gen.choose (0, 3)

        return
            { FractionDigits = f
              TemperatureDigits = t }
    }

let private gridGen (rule: PointKeyRule) : Gen<GridPoint> =
    gen {
        let! chemicals = Gen.subListOf [ 0 .. aliases.Length - 1 ] |> Gen.filter (List.isEmpty >> not)
        let scale = pown 10 rule.FractionDigits
        let! units = Gen.listOfLength chemicals.Length (Gen.choose (1, scale))
        let! t = Gen.choose (27315, 37315)

        return
            { Units = List.zip chemicals units |> Map.ofList
              TemperatureUnits = t * pown 10 rule.TemperatureDigits / 100 }
    }

/// Rows that a request could send for a grid point: each fraction moved by less than 0.4 of the rule's last
/// digit (sometimes split into two rows naming the chemical differently), chemicals by any alias, rows shuffled,
/// sometimes a row with fraction 0 added; the temperature moved by less than 0.4 of its last digit.
let private rowsGen (rule: PointKeyRule) (p: GridPoint) : Gen<(string * float) list * float> =
    gen {
        let step = Math.Pow(10.0, -float rule.FractionDigits)
        let tStep = Math.Pow(10.0, -float rule.TemperatureDigits)
        let noise = Gen.choose (-399, 399) |> Gen.map (fun i -> float i / 1000.0)

        let! rows =
            p.Units
            |> Map.toList
            |> List.map (fun (c, u) ->
                gen {
                    let! e = noise
                    let! a = Gen.elements aliases[c]
                    let! b = Gen.elements aliases[c]
                    let! split = Gen.elements [ false; false; true ]
                    let x = (float u + e) * step

                    return if split then [ a, x * 0.25; b, x * 0.75 ] else [ a, x ]
                })
            |> Gen.sequenceToList

        let! zero = Gen.elements [ None; Some "OCCO"; Some "LiPF6" ]

        let zeroRow =
            match zero with
            | Some k when not (p.Units.ContainsKey(aliases |> List.findIndex (List.contains k))) -> [ k, 0.0 ]
            | _ -> []

        let! shuffled = Gen.shuffle (List.concat rows @ zeroRow)
        let! te = noise
        return List.ofArray shuffled, (float p.TemperatureUnits + te) * tStep
    }

/// A rule, grid points distinct from each other, and for every observation the index of its point.
type private JoinCase =
    { Rule: PointKeyRule
      Observations: (int * ((string * float) list * float)) list }

let private joinGen: Gen<JoinCase> =
    gen {
        let! rule = ruleGen
        let! points = Gen.listOfLength 4 (gridGen rule) |> Gen.map List.distinct
        let! counts = Gen.listOfLength points.Length (Gen.choose (1, 4))

        let! observations =
            List.zip points counts
            |> List.mapi (fun i (p, n) -> Gen.listOfLength n (rowsGen rule p) |> Gen.map (List.map (fun r -> i, r)))
            |> Gen.sequenceToList

        let! shuffled = Gen.shuffle (List.concat observations)

        return
            { Rule = rule
              Observations = List.ofArray shuffled }
    }

let private key rule (rows, t) =
    PointKey.create rule rows t |> PointKey.value

/// Any key text: an alias of a chemical or arbitrary text (null included).
let private keyTextGen: Gen<string> =
    Gen.oneof
        [ Gen.elements (List.concat aliases)
          ArbMap.defaults |> ArbMap.generate<string> ]

[<Tests>]
let chemicalKeyTests =
    testList
        "ChemicalKey"
        [ testPropertyWithConfig
              config
              "canonical is idempotent"
              (Prop.forAll (Arb.fromGen keyTextGen) (fun k ->
                  let c = ChemicalKey.canonical k
                  Expect.equal (ChemicalKey.canonical c) c $"canonical of '{c}' (from '{k}')"))

          testPropertyWithConfig
              config
              "names, SMILES and InChIKeys of one chemical give one key, different chemicals different keys"
              (Prop.forAll
                  (Arb.fromGen (
                      gen {
                          let! i = Gen.choose (0, aliases.Length - 1)
                          let! j = Gen.choose (0, aliases.Length - 1)
                          let! a = Gen.elements aliases[i]
                          let! b = Gen.elements aliases[j]
                          return i, a, j, b
                      }
                  ))
                  (fun (i, a, j, b) ->
                      let ka, kb = ChemicalKey.create a, ChemicalKey.create b

                      if i = j then
                          Expect.equal ka kb $"'{a}' and '{b}' name one chemical"
                      else
                          Expect.notEqual ka kb $"'{a}' and '{b}' name different chemicals"))

          testPropertyWithConfig
              config
              "a key's value is the canonical text of what created it"
              (Prop.forAll (Arb.fromGen keyTextGen) (fun k ->
                  Expect.equal (ChemicalKey.value (ChemicalKey.create k)) (ChemicalKey.canonical k) $"key of '{k}'"))

          test "a known chemical's key is its InChIKey, an unknown one's the trimmed text" {
              Expect.equal (ChemicalKey.value (ChemicalKey.create " ec ")) "KMTRUDSVKNLOMY-UHFFFAOYSA-N" "EC by name"
              Expect.equal (ChemicalKey.value (ChemicalKey.create " CC(C)O ")) "CC(C)O" "unknown SMILES, trimmed"
          } ]

[<Tests>]
let tests =
    testList
        "PointKey"
        [ test "the text lists canonical keys in ordinal order with the rule's decimals" {
              let rule =
                  { FractionDigits = 3
                    TemperatureDigits = 2 }

              Expect.equal
                  (key rule ([ "EC", 0.5; "CC(C)O", 0.0; "dmc", 0.24951; "COC(=O)OC", 0.25 ], 298.154))
                  "IEJIGPNLZYLLBP-UHFFFAOYSA-N=0.500;KMTRUDSVKNLOMY-UHFFFAOYSA-N=0.500;@298.15"
                  "DMC named twice adds up, the zero row is left out, temperature to 0.01 K"
          }

          testPropertyWithConfig
              config
              "keys are equal for formulations equal up to the rounding rule, aliases and row order"
              (Prop.forAll
                  (Arb.fromGen (
                      gen {
                          let! rule = ruleGen
                          let! p = gridGen rule
                          let! a = rowsGen rule p
                          let! b = rowsGen rule p
                          return rule, a, b
                      }
                  ))
                  (fun (rule, a, b) -> Expect.equal (key rule a) (key rule b) $"rows {a} and {b}"))

          testPropertyWithConfig
              config
              "keys differ when the formulations or temperatures differ after rounding"
              (Prop.forAll
                  (Arb.fromGen (
                      gen {
                          let! rule = ruleGen
                          let! p = gridGen rule
                          let! q = gridGen rule |> Gen.filter ((<>) p)
                          let! a = rowsGen rule p
                          let! b = rowsGen rule q
                          return rule, a, b
                      }
                  ))
                  (fun (rule, a, b) -> Expect.notEqual (key rule a) (key rule b) $"rows {a} and {b}"))

          testPropertyWithConfig
              config
              "the join groups exactly the observations of one point"
              (Prop.forAll (Arb.fromGen joinGen) (fun case ->
                  let groups =
                      PointKey.join (fun (_, obs) -> PointKey.create case.Rule (fst obs) (snd obs)) case.Observations

                  let labels = groups |> List.map (snd >> List.map fst >> List.distinct)

                  Expect.all labels (fun l -> l.Length = 1) "no group mixes two points"

                  Expect.equal
                      (labels |> List.concat |> List.sort)
                      (case.Observations |> List.map fst |> List.distinct |> List.sort)
                      "every point is one group"

                  Expect.equal
                      (groups |> List.collect snd)
                      (case.Observations
                       |> List.sortBy (fun (i, _) -> case.Observations |> List.findIndex (fun (j, _) -> j = i)))
                      "groups in order of their first observation, observations in order within a group"))

          testPropertyWithConfig
              config
              "the join by point and source groups exactly the observations of one point from one source"
              (Prop.forAll
                  (Arb.fromGen (
                      gen {
                          let! case = joinGen
                          let! sources = Gen.listOfLength case.Observations.Length (Gen.elements [ "a"; "b" ])
                          return case.Rule, List.zip sources case.Observations
                      }
                  ))
                  (fun (rule, observations) ->
                      let groups =
                          PointKey.joinBy
                              (fun (src, (_, obs)) -> PointKey.create rule (fst obs) (snd obs), src)
                              observations

                      let labels =
                          groups
                          |> List.map (snd >> List.map (fun (src, (i, _)) -> i, src) >> List.distinct)

                      Expect.all labels (fun l -> l.Length = 1) "no group mixes two points or two sources"

                      Expect.equal
                          (labels |> List.concat |> List.sort)
                          (observations
                           |> List.map (fun (src, (i, _)) -> i, src)
                           |> List.distinct
                           |> List.sort)
                          "every point and source is one group"

                      Expect.equal
                          (groups |> List.collect snd)
                          (observations
                           |> List.sortBy (fun (src, (i, _)) ->
                               observations |> List.findIndex (fun (s, (j, _)) -> j = i && s = src)))
                          "groups in order of their first observation, observations in order within a group"))

          test "the C# facade joins by the same key" {
              let items =
                  [ readOnlyDict [ "EC", 0.5; "DMC", 0.5 ], 298.15
                    readOnlyDict [ "C1COC(=O)O1", 0.5000001; "dmc", 0.4999999 ], 298.151
                    readOnlyDict [ "EC", 0.4; "DMC", 0.6 ], 298.15 ]

              let groups =
                  ScienceApi.JoinByPoint(items, Func<_, _>(fun (f, _) -> f), Func<_, _>(fun (_, t) -> t), 6, 2)

              Expect.equal (groups |> Seq.map (fun g -> g.Items.Count) |> List.ofSeq) [ 2; 1 ] "two points"

              Expect.equal
                  groups[0].Key
                  (ScienceApi.PointKey(readOnlyDict [ "EC", 0.5; "DMC", 0.5 ], 298.15, 6, 2))
                  "the group's key is the point key"
          } ]
