/// The MD tenant in the demo: the salt series and option checks (properties), a demo run whose MD series the MD tenant
/// answers (checked in the store), and a run with the LAMMPS command pointing at a missing binary.
module Finales.Demo.Tests.DemoMdTests

open System
open System.IO
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
    }

/// Run inside the demo suite's sequenced list, so the demo runs never overlap.
let tests = testList "md" [ series; withMd; withoutLammps ]
