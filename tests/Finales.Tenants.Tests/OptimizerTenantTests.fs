/// The optimizer tenant's pure parts: keys, result reading, join, options, planning determinism (end to end: see
/// OptimizerTenantEndToEndTests).
module Finales.Tenants.Tests.OptimizerTenantTests

open System
open System.Collections.Generic
open System.Text.Json
open System.Threading
open System.Threading.Tasks
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Client
open Finales.Core
open Finales.Hosting
open Finales.Tenants.Optimizer
open Finales.Integration.Tests.Harness
open Finales.Tenants.Tests.TenantWorld

let private json (s: string) = BrokerClient.ParseJson s

let private lipf6 =
    """{"SMILES":"[Li+].F[P-](F)(F)(F)(F)F","InChIKey":"AXPLOJNSKRXQPA-UHFFFAOYSA-N"}"""

let private ec =
    """{"SMILES":"C1COC(=O)O1","InChIKey":"KMTRUDSVKNLOMY-UHFFFAOYSA-N"}"""

let private pc =
    """{"SMILES":"CC1COC(=O)O1","InChIKey":"RUOJZAUFBMNUDX-UHFFFAOYSA-N"}"""

let private formulation (parts: (string * float) list) =
    "["
    + String.Join(
        ",",
        parts
        |> List.map (fun (c, x) -> sprintf """{"chemical":%s,"fraction":%.17g,"fraction_type":"molPerMol"}""" c x)
    )
    + "]"

let private result (id: int) (status: string) (q: string) (m: string) (parameters: string) (data: string) : ResultInfo =
    let body =
        sprintf
            """{"data":%s,"quantity":"%s","method":["%s"],"parameters":{"%s":%s},"tenant_uuid":"t","request_uuid":"r%d"}"""
            data
            q
            m
            m
            parameters
            id

    { Uuid = Guid(id, 0s, 0s, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy, 0uy)
      Ctime = sprintf "2026-11-25T10:00:%02d.000000" id
      Status = status
      RequestUuid = sprintf "r%d" id
      Quantity = q
      Method = m
      Data = json data
      TenantUuid = "t"
      Result = json body }

let private preset () =
    OptimizerOptions(Preset = OptimizerOptions.PresetConductivityViscosityDensity)

let private densityData (rho: float) (eta: float) (rating: int) =
    sprintf
        """{"run_info":{"formulation":[],"internal_reference":"x"},"density":{"values":[%g,%g],"meta":{"success":true,"rating":%d},"temperature":300},"viscosity":{"values":[%g],"meta":{"success":true,"rating":%d}}}"""
        (rho - 0.001)
        (rho + 0.001)
        rating
        eta
        rating

let private conductivityData (kappa: float) (success: bool) =
    sprintf
        """{"run_info":{"formulation":[],"internal_reference":"x"},"conductivity":{"values":[%s],"meta":{"success":%b,"rating":3}}}"""
        (if success then string kappa else "")
        success

let unit =
    testList
        "OptimizerTenant (pure)"
        [ test "point keys name a chemical the same by SMILES, InChIKey or name and round fractions to 1e-6" {
              let a =
                  Dictionary<string, float>(dict [ "C1COC(=O)O1", 0.3000001; "AXPLOJNSKRXQPA-UHFFFAOYSA-N", 0.7 ])

              let ok, b, err =
                  Formulations.TryParse(
                      json (
                          formulation
                              [ ec, 0.3000004
                                """{"SMILES":"[Li+].F[P-](F)(F)(F)(F)F","InChIKey":"AXPLOJNSKRXQPA-UHFFFAOYSA-N"}""",
                                0.7 ]
                      )
                  )

              Expect.isTrue ok err

              let ka =
                  Formulations.PointKey(
                      Formulations.Round(
                          a
                          |> Seq.map (fun kv ->
                              KeyValuePair(Finales.Optimizer.Interop.OptimizerFacade.ChemicalKey kv.Key, kv.Value))
                          |> Dictionary,
                          6
                      ),
                      298.151,
                      6,
                      2
                  )

              let kb = Formulations.PointKey(b, 298.149, 6, 2)
              Expect.equal ka kb "same chemicals, fractions equal at 1e-6 and temperatures equal at 0.01 K give one key"
              Expect.notEqual (Formulations.PointKey(b, 299.0, 6, 2)) kb "another temperature is another point"
              Expect.stringContains kb "KMTRUDSVKNLOMY-UHFFFAOYSA-N=0.300000" "keys use InChIKeys"
          }

          test "a formulation in mass fractions or without a chemical id is refused with the entry named" {
              let ok, _, err =
                  Formulations.TryParse(
                      json """[{"chemical":{"SMILES":"C1COC(=O)O1"},"fraction":1,"fraction_type":"mass fraction"}]"""
                  )

              Expect.isFalse ok "mass fractions are not read as mole fractions"

              Expect.stringContains
                  err
                  "formulation[0].fraction_type is 'mass fraction'"
                  "the entry and value are named"

              let ok2, _, err2 =
                  Formulations.TryParse(json """[{"chemical":{},"fraction":1,"fraction_type":"molPerMol"}]""")

              Expect.isFalse ok2 "no chemical id"
              Expect.stringContains err2 "formulation[0].chemical" "the entry is named"
          }

          test
              "results: deleted and low-rated are dropped, unrated kept, failures marked, values averaged, viscosity read from densimetry" {
              let p =
                  sprintf """{"formulation":%s,"temperature":300}""" (formulation [ lipf6, 0.1; ec, 0.5; pc, 0.4 ])

              let p2 =
                  sprintf """{"formulation":%s,"temperature":310}""" (formulation [ lipf6, 0.1; ec, 0.5; pc, 0.4 ])

              let results =
                  [ result 1 "original" "density" "vibrating_tube_densimetry" p (densityData 1.3 4.0 3)
                    result 2 "original" "conductivity" "polynomial_interpolation" p (conductivityData 0.9 true)
                    result 3 "deleted" "conductivity" "polynomial_interpolation" p2 (conductivityData 0.5 true)
                    result 4 "amended" "density" "vibrating_tube_densimetry" p2 (densityData 1.2 3.0 0)
                    result 5 "original" "conductivity" "polynomial_interpolation" p2 (conductivityData 0.0 false)
                    result 6 "original" "conductivity" "other_method" p2 (conductivityData 7.0 true) ]

              let o = preset ()

              let x =
                  ResultReader.Extract(results, o.EffectiveObjectives, Dictionary(), 1.0, 6, 2)

              Expect.equal x.Deleted 1 "one deleted result"
              Expect.equal x.BelowMinRating 2 "density and viscosity of the rating-0 result are below min rating 1"
              Expect.isEmpty x.Unreadable "everything else is readable"

              let byName n =
                  x.Values |> Seq.filter (fun v -> v.Objective = n) |> List.ofSeq

              Expect.floatClose
                  Accuracy.high
                  (byName "density" |> List.exactlyOne).Value
                  1.3
                  "density is the mean of its values"

              Expect.floatClose
                  Accuracy.high
                  (byName "viscosity" |> List.exactlyOne).Value
                  4.0
                  "viscosity comes from the densimetry result"

              let failed =
                  byName "conductivity" |> List.filter (fun v -> not v.Success) |> List.exactlyOne

              Expect.equal failed.Temperature 310.0 "the failure is at its point"
              let joined = ResultReader.Join(x.Values, o.EffectiveObjectives)
              Expect.equal joined.Count 2 "two points"

              Expect.isTrue
                  (joined |> Seq.exists (fun j -> j.Complete && j.Temperature = 300.0))
                  "values from two capabilities join into one complete point"

              Expect.isTrue
                  (joined |> Seq.exists (fun j -> j.Failed && j.Temperature = 310.0))
                  "a failed result marks its point"
          }

          test "options: a preset fills objectives and requests; conflicts and bad values are named" {
              let o = preset ()
              Expect.isEmpty (o.Problems()) "the preset alone is valid"

              Expect.equal
                  [ for r in o.EffectiveRequests -> string r ]
                  [ "conductivity/polynomial_interpolation"; "density/vibrating_tube_densimetry" ]
                  "requests follow from the objectives"

              Expect.equal
                  [ for x in o.EffectiveObjectives -> x.EffectiveName ]
                  [ "conductivity"; "viscosity"; "density" ]
                  "hierarchy order"

              let bad = OptimizerOptions(Preset = "paper", BatchSize = 0)

              bad.Objectives.Add(
                  ObjectiveOptions(Quantity = "density", Method = "m", Path = "density.values", Goal = "up")
              )

              let text = String.Join("; ", bad.Problems())

              Expect.stringContains
                  text
                  "Optimizer:Preset is 'paper' and Optimizer:Objectives lists 1"
                  "preset and objectives together"

              Expect.stringContains text "Optimizer:BatchSize is 0" "batch size named"
              let bad2 = OptimizerOptions()

              bad2.Objectives.Add(
                  ObjectiveOptions(
                      Quantity = "density",
                      Method = "m",
                      Path = "density.values",
                      Goal = "up",
                      Kind = "relative",
                      Tolerance = 2.0
                  )
              )

              let text2 = String.Join("; ", bad2.Problems())
              Expect.stringContains text2 "Optimizer:Objectives:0:Goal is 'up'" "goal named"
              Expect.stringContains text2 "Optimizer:Objectives:0:Tolerance is 2" "tolerance named"
          }

          test "rounded fractions sum to exactly 1 and drop zeros" {
              let f =
                  OptimizerPlanner.RoundToSum(
                      Dictionary(dict [ "a", 0.33333333; "b", 0.33333333; "c", 0.33333334; "d", 1e-9 ]),
                      6
                  )

              Expect.equal f.Count 3 "the 1e-9 fraction is dropped"
              Expect.floatClose Accuracy.veryHigh (f.Values :> seq<float> |> Seq.sum) 1.0 "sum is 1"
          }

          test "the dedupe set holds own non-retracted requests per capability and point" {
              let p =
                  sprintf """{"formulation":%s,"temperature":300}""" (formulation [ lipf6, 0.1; ec, 0.9 ])

              let req (status: string) (m: string) : RequestInfo =
                  let body =
                      sprintf
                          """{"quantity":"q","methods":["%s"],"parameters":{"%s":%s},"tenant_uuid":"%O"}"""
                          m
                          m
                          p
                          Guid.Empty

                  let r = json body

                  { Uuid = Guid.NewGuid()
                    Ctime = ""
                    Status = status
                    Quantity = "q"
                    Methods = [ m ]
                    Parameters = r.GetProperty "parameters"
                    TenantUuid = ""
                    Request = r }

              let planner = OptimizerPlanner(preset (), Guid.NewGuid())

              let taken =
                  planner.Taken([ req "resolved" "a"; req "retracted" "b"; req "reserved" "c" ])

              Expect.equal taken.Count 2 "resolved and reserved count, retracted does not"
              Expect.isTrue (taken |> Seq.exists (fun k -> k.StartsWith "q/a|")) "keyed by capability"
          } ]
