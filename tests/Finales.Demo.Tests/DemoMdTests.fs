/// The MD tenant in the demo: the salt series and option checks (properties), a demo run whose MD series the MD tenant
/// answers (checked in the store), and a run with the LAMMPS command pointing at a missing binary.
module Finales.Demo.Tests.DemoMdTests

open System
open System.IO
open System.Text.Json.Nodes
open Expecto
open FsCheck
open Finales.Demo
open Finales.Demo.Tests.DemoRun

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = 200 }

let private series =
    testList
        "MD salt series"
        [ testPropertyWithConfig config "n points, increasing, inside 0.03..0.15 and the MD tenant's 0.005..0.3"
          <| fun (n: byte) ->
              let n = int n % 21
              let xs = DemoMd.SaltSeries n |> List.ofSeq
              Expect.equal xs.Length n "one salt content per point"

              for x in xs do
                  Expect.isTrue (x >= 0.03 && x <= 0.15) (sprintf "x = %g inside 0.03..0.15" x)

              for a, b in List.pairwise xs do
                  Expect.isLessThan a b "strictly increasing"

          test "two or more points span the whole range, one point is about 1 mol/L" {
              Expect.sequenceEqual (DemoMd.SaltSeries 3) [ 0.03; 0.09; 0.15 ] "3 points"
              Expect.sequenceEqual (DemoMd.SaltSeries 1) [ 0.085 ] "1 point"
          }

          testPropertyWithConfig config "a request is conductivity/molecular_dynamics of LiPF6 in EC summing to 1"
          <| fun (n: byte) ->
              let salt = 0.03 + 0.12 * float n / 255.0
              let body = DemoMd.ConductivityRequest(salt, Guid.Empty)
              Expect.equal (body["quantity"].GetValue<string>()) "conductivity" "quantity"
              Expect.equal (body["methods"].[0].GetValue<string>()) "molecular_dynamics" "method"
              let p = body["parameters"].["molecular_dynamics"]
              Expect.floatClose Accuracy.high (p["temperature"].GetValue<float>()) 298.15 "temperature"

              let fractions =
                  p["formulation"].AsArray()
                  |> Seq.map (fun c -> c["fraction"].GetValue<float>())
                  |> List.ofSeq

              Expect.equal fractions.Length 2 "LiPF6 and EC"
              Expect.floatClose Accuracy.medium (List.sum fractions) 1.0 "fractions sum to 1"

          test "bad MD options are refused naming the option and the value" {
              let problem (o: DemoMdOptions) = o.Problem()
              Expect.isNull (problem DemoMdOptions.Default) "the default is accepted"

              Expect.stringContains
                  (problem (DemoMdOptions(0.001, 3, "lmp", false)))
                  "--md-ns must be 0.02..100"
                  "too short"

              Expect.stringContains
                  (problem (DemoMdOptions(0.02, 21, "lmp", false)))
                  "--md-points must be 0..20, got 21"
                  "too many"

              Expect.stringContains (problem (DemoMdOptions(0.02, 3, " ", false))) "--lammps is empty" "no command"
          }

          test "LAMMPS is found on PATH or by path, and a missing binary is not" {
              Expect.isNull (DemoMd.FindLammps "/nonexistent/lmp") "a missing path"
              Expect.isNull (DemoMd.FindLammps "finales-no-such-lammps") "a name not on PATH"
              let here = typeof<DemoMdOptions>.Assembly.Location
              Expect.equal (DemoMd.FindLammps here) here "an existing path is taken as it is"
          } ]

/// The demo's MD requests in a store: (status, number of results) of each conductivity/molecular_dynamics request.
let private mdRequests (store: string) =
    query
        store
        "SELECT s.status, (SELECT COUNT(*) FROM results x WHERE x.request_uuid = s.uuid) FROM request_state s JOIN requests r ON r.uuid = s.uuid WHERE r.quantity = 'conductivity' AND r.methods LIKE '%molecular_dynamics%'"
        (fun x -> x.GetString 0, x.GetInt64 1)

/// The report's reading of MD results (Figures 7 and 8): usable fields give a point or a curve, anything else is left out.
let private figures =
    let salt = readOnlyDict [ "LiPF6", 0.09; "EC", 0.91 ]
    let parse (json: string) = JsonNode.Parse json

    testList
        "MD figures"
        [ testPropertyWithConfig config "an RDF request is radial_density_function/molacular_dynamics of the same mix"
          <| fun (n: byte) ->
              let x = 0.03 + 0.12 * float n / 255.0
              let rdf = DemoMd.RdfRequest(x, Guid.Empty)
              let cond = DemoMd.ConductivityRequest(x, Guid.Empty)
              Expect.equal (rdf["quantity"].GetValue<string>()) "radial_density_function" "quantity"
              Expect.equal (rdf["methods"].[0].GetValue<string>()) "molacular_dynamics" "the corpus' spelling"

              Expect.equal
                  (rdf["parameters"].["molacular_dynamics"].ToJsonString())
                  (cond["parameters"].["molecular_dynamics"].ToJsonString())
                  "the conductivity request's formulation and temperature"

          test "a conductivity result gives its value and its Einstein-Helfand error; unusable ones give nothing" {
              let ok =
                  parse
                      """{"conductivity":{"values":[1.5],"temperature":298.15},"run_info":{"analysis":{"conductivity_einstein_helfand_err_s_per_m":0.4}}}"""

              let p = DemoReportMd.ConductivityPoint(Guid.Empty, salt, ok)
              Expect.floatClose Accuracy.high (p["value"].GetValue<float>()) 1.5 "value"
              Expect.floatClose Accuracy.high (p["error"].GetValue<float>()) 0.4 "error"
              Expect.floatClose Accuracy.high (p["lipf6"].GetValue<float>()) 0.09 "salt"

              let noError =
                  DemoReportMd.ConductivityPoint(Guid.Empty, salt, parse """{"conductivity":{"values":[1.5]}}""")

              Expect.isNull noError["error"] "no error given, no error bar"

              for bad in
                  [ """{"conductivity":{"values":[],"meta":{"success":false}}}"""
                    """{"conductivity":{"values":["1.5"]}}"""
                    """{"conductivity":{"values":1.5}}"""
                    """{"conductivity":[1.5]}"""
                    """[]""" ] do
                  Expect.isNull (DemoReportMd.ConductivityPoint(Guid.Empty, salt, parse bad)) bad

              Expect.isNull
                  (DemoReportMd.ConductivityPoint(Guid.Empty, readOnlyDict [ "EC", 1.0 ], ok))
                  "no LiPF6 fraction, no point"
          }

          test "an RDF result gives its Li pair's curve; unusable ones give nothing" {
              let rdf =
                  parse
                      """{"radius":[1.0,2.0,3.0],"pair_title":["P-P","Li-P","Li-Li"],"RDF":[[0,1,1],[0,7.2,1.1],[0,0.5,1]],"cell_volume":1,"cell_formula":"Li200 P200"}"""

              let c = DemoReportMd.RdfCurve(Guid.Empty, salt, rdf)
              Expect.equal (c["pair"].GetValue<string>()) "Li-P" "Li and the anion"

              Expect.equal
                  (c["g"].AsArray() |> Seq.map (fun v -> v.GetValue<float>()) |> List.ofSeq)
                  [ 0.0; 7.2; 1.1 ]
                  "its g(r)"

              for bad in
                  [ """{"radius":[1.0,2.0],"pair_title":["Li-P"],"RDF":[[0,1,1]]}"""
                    """{"radius":[1.0,2.0,3.0],"pair_title":["P-P"],"RDF":[[0,1,1]]}"""
                    """{"radius":[1.0,2.0,3.0],"pair_title":["Li-P"],"RDF":[[0,"x",1]]}"""
                    """{"radius":[],"pair_title":[],"RDF":[]}"""
                    """{"pair_title":["Li-P"],"RDF":[[0,1,1]]}""" ] do
                  Expect.isNull (DemoReportMd.RdfCurve(Guid.Empty, salt, parse bad)) bad
          } ]

/// (status, number of results) of each radial_density_function request in a store.
let private rdfRequests (store: string) =
    query
        store
        "SELECT s.status, (SELECT COUNT(*) FROM results x WHERE x.request_uuid = s.uuid) FROM request_state s JOIN requests r ON r.uuid = s.uuid WHERE r.quantity = 'radial_density_function'"
        (fun x -> x.GetString 0, x.GetInt64 1)

let private lammpsInstalled = lazy (DemoMd.FindLammps "lmp" |> isNull |> not)

let private withMd =
    test "the MD tenant answers the demo's MD series: every request resolved with one result, audit clean" {
        if not lammpsInstalled.Value then
            skiptest "lmp is not installed"

        let r = plain.Value
        Expect.equal r.Code 0 (sprintf "exit code; output:\n%s" r.Output)
        Expect.isTrue ((r.Report["audit"]["ok"]).GetValue<bool>()) "audit"
        let rows = mdRequests r.Store
        Expect.equal rows.Length 3 (sprintf "the default series has 3 MD requests; output:\n%s" r.Output)

        for status, results in rows do
            Expect.equal status "resolved" "an MD request is resolved"
            Expect.equal results 1L "with exactly one result"

        let counted =
            r.Report.["counts"].["by_capability"].["conductivity/molecular_dynamics"].["requests"]

        Expect.equal (counted.GetValue<int64>()) 3L "the report counts them"

        Expect.stringContains r.Output "md (primitive model, local executor" "the MD tenant is started"

        let rdfs = rdfRequests r.Store
        Expect.equal rdfs.Length 3 "one RDF request per composition"
        Expect.isTrue (rdfs |> List.forall (fun (status, n) -> status = "resolved" && n = 1L)) "each resolved once"

        let points = r.Report["md_conductivity"].["points"].AsArray()
        Expect.equal points.Count 3 "Figure 7 has the three MD conductivities"

        // The error bar is the tenant's Einstein-Helfand standard error as stored; a run too short to estimate one
        // (the default 20 ps gives 11 frames) stores null, and the point has no error bar.
        for p in points do
            let request = p["request"].GetValue<string>()

            let stored =
                query r.Store (sprintf "SELECT body FROM results WHERE request_uuid = '%s'" request) (fun x ->
                    JsonNode.Parse(x.GetString 0))
                |> List.exactlyOne

            let err =
                stored["data"].["run_info"].["analysis"].["conductivity_einstein_helfand_err_s_per_m"]

            if isNull err then
                Expect.isNull p["error"] "no stored error, no error bar"
            else
                Expect.floatClose
                    Accuracy.high
                    (p["error"].GetValue<float>())
                    (abs (err.GetValue<float>()))
                    "the stored error"

            Expect.floatClose
                Accuracy.high
                (p["value"].GetValue<float>())
                (stored["data"].["conductivity"].["values"].[0].GetValue<float>())
                "the stored conductivity"

        let curves = r.Report["md_rdf"].["curves"].AsArray()
        Expect.equal curves.Count 3 "Figure 8 has one Li RDF per composition"

        for c in curves do
            Expect.isTrue (c["pair"].GetValue<string>().StartsWith "Li-") "a Li pair"
            Expect.isGreaterThan (c["g"].AsArray().Count) 10 "a curve, not a point"

        Expect.stringContains r.Html "molecular_dynamics (MD)" "Figure 7 draws the MD trace"
        Expect.stringContains r.Html "(Fig. 8)" "Figure 8 is drawn"
        Expect.isFalse (r.Html.Contains "no MD results") "and not said to be missing"
    }

let private noLammps = lazy (runDemoWith "nolammps" "--lammps /nonexistent/lmp")

let private withoutLammps =
    test "without LAMMPS: one line says so, no MD request is posted, the audit passes" {
        let r = noLammps.Value
        Expect.equal r.Code 0 (sprintf "exit code; output:\n%s" r.Output)
        Expect.isTrue ((r.Report["audit"]["ok"]).GetValue<bool>()) "audit"

        let lines = r.Output.Split('\n') |> Array.filter (fun l -> l.Contains "LAMMPS")

        Expect.equal lines.Length 1 (sprintf "exactly one line about LAMMPS: %A" lines)
        Expect.stringContains lines[0] "/nonexistent/lmp) is not installed" "it names the command"
        Expect.isEmpty (mdRequests r.Store) "no MD request"
        Expect.isEmpty (rdfRequests r.Store) "no RDF request"
        Expect.equal (r.Report["md_conductivity"].["points"].AsArray().Count) 0 "no MD point"
        Expect.equal (r.Report["md_rdf"].["curves"].AsArray().Count) 0 "no RDF curve"
        Expect.stringContains r.Html "Li RDFs per composition (Fig. 8): no MD results." "Figure 8 says so"
        Expect.stringContains r.Html "No MD results." "Figure 7 says so"
        Expect.equal (r.Html.Split("<div class=\"finales-chart\"").Length - 1) 4 "no empty plot for Figure 8"
    }

/// Run inside the demo suite's sequenced list, so the demo runs never overlap.
let tests = testList "md" [ series; figures; withMd; withoutLammps ]
