/// End to end against a real broker on loopback: requests in, schema-valid results out (the broker validates result
/// data against json_schema_result_output and refuses invalid data with 422), values of the virtual electrolyte.
module Finales.Asab.Tests.EndToEndTests

open System
open System.IO
open System.Text.Json
open Expecto
open Finales.Core
open Finales.Tenants.Asab
open Finales.Asab.Tests.AsabWorld

let data (result: JsonElement) =
    result.GetProperty("result").GetProperty("data")

let achieved (d: JsonElement) =
    [ for c in d.GetProperty("run_info").GetProperty("formulation").EnumerateArray() ->
          c.GetProperty("chemical").GetProperty("InChIKey").GetString(), c.GetProperty("fraction").GetDouble() ]
    |> readOnlyDict

let tests =
    testList
        "end to end"
        [ test "requests are measured once each and the broker accepts the results; values are the achieved mixture's" {
              use fx = create "e2e"
              let account = fx.AddTenant "asab"
              let w = worker (settings 21)

              try
                  use tenant = new RunningTenant(w, options fx account (Path.Combine(fx.Dir, "j.db")))
                  tenant.WaitReady()
                  let lim = fx.Admin.Get("/limitations/").Json
                  Expect.isGreaterThanOrEqual (lim.GetArrayLength()) 1 "the tenant registered its limitations"
                  let rng = Random 4

                  let requests =
                      [ for _ in 1..3 -> fx.PostRequest(AsabTenant.RandomParameters(rng, stocks)) ]
                  // A request outside the stocks' reach (salt above every stock) is still measured: the closest mix.
                  for id in requests do
                      waitUntil 60.0 (sprintf "request %O resolved\n%s" id tenant.Log.Text) (fun () ->
                          fx.Status id = "resolved")

                  for id in requests do
                      let results = fx.ResultsFor id
                      Expect.equal results.Length 1 "one result"
                      let r = results.Head.GetProperty("result")

                      Expect.equal
                          (r.GetProperty("tenant_uuid").GetString())
                          (account.Uuid.ToString "D")
                          "posted by the tenant"

                      let d = data results.Head
                      let dens = d.GetProperty("density")
                      Expect.isTrue (dens.GetProperty("meta").GetProperty("success").GetBoolean()) (d.GetRawText())
                      let truth = ScienceApi.Electrolyte(achieved d, 298.15)
                      let vals = [ for v in dens.GetProperty("values").EnumerateArray() -> v.GetDouble() ]
                      Expect.equal vals.Length 4 "every replicate"

                      for v in vals do
                          Expect.floatClose
                              { absolute = 6e-4; relative = 0.0 }
                              v
                              truth.DensityGramsPerCubicCentimeter
                              "virtual electrolyte density"

                      for v in d.GetProperty("viscosity").GetProperty("values").EnumerateArray() do
                          Expect.floatClose
                              { absolute = 0.0; relative = 0.03 }
                              (v.GetDouble())
                              truth.ViscosityMillipascalSeconds
                              "virtual electrolyte viscosity"

                      Expect.equal
                          (d.GetProperty("run_info").GetProperty("internal_reference").GetString())
                          (id.ToString "D")
                          "internal reference"
                  // Inside the limitations but not exactly reachable: the closest mixture, a lower mix rating.
                  let near =
                      fx.PostRequest(parameters [ "LiPF6", 0.08; "EC", 0.46; "DMC", 0.46 ] (Some 298.15))

                  waitUntil 60.0 "the approximate request resolved" (fun () -> fx.Status near = "resolved")
                  let d = data (fx.ResultsFor near).Head
                  let mix = d.GetProperty("run_info").GetProperty("mixing")
                  Expect.isLessThan (mix.GetProperty("mix_rating").GetInt32()) 5 "not exactly reachable"
                  Expect.isGreaterThan (mix.GetProperty("deviation").GetDouble()) 0.001 "deviation reported"

                  Expect.isLessThanOrEqual
                      (d.GetProperty("density").GetProperty("meta").GetProperty("rating").GetInt32())
                      (mix.GetProperty("mix_rating").GetInt32())
                      "rating <= mix rating"

                  Expect.equal w.Runs.Count 4 "four requests measured"
              finally
                  dispose w
          }

          test "two ASAB tenants on one queue: every request is measured exactly once" {
              use fx = create "two"
              let a = fx.AddTenant "asab-a"
              let b = fx.AddTenant "asab-b"
              let wa = worker (settings 31)
              let wb = worker (settings 32)
              let wc = worker (settings 33)

              try
                  use ta = new RunningTenant(wa, options fx a (Path.Combine(fx.Dir, "a.db")))
                  use tb = new RunningTenant(wb, options fx b (Path.Combine(fx.Dir, "b.db")))
                  // A second process for tenant a (same uuid, its own journal).
                  use tc = new RunningTenant(wc, options fx a (Path.Combine(fx.Dir, "c.db")))
                  ta.WaitReady()
                  tb.WaitReady()
                  tc.WaitReady()
                  let rng = Random 8

                  let requests =
                      [ for _ in 1..8 -> fx.PostRequest(AsabTenant.RandomParameters(rng, stocks)) ]

                  for id in requests do
                      waitUntil 90.0 (sprintf "request %O resolved" id) (fun () -> fx.Status id = "resolved")

                  let measured =
                      [ for w in [ wa; wb; wc ] do
                            for r in w.Runs -> r.RequestId ]

                  Expect.equal (List.sort measured) (List.sort requests) "each request measured exactly once"

                  for id in requests do
                      Expect.equal (fx.ResultsFor id).Length 1 "one result each"

                  Expect.isGreaterThan
                      (List.length (List.filter (fun id -> wb.Runs |> Seq.exists (fun r -> r.RequestId = id)) requests))
                      0
                      "tenant b measured some"
              finally
                  dispose wa
                  dispose wb
                  dispose wc
          } ]
