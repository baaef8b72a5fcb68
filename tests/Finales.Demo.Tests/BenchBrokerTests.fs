/// `./finales bench broker --self`: the harness behind the README's broker figures, run for a second on each store
/// (what it measures is checked for shape and sense here; its numbers live in the README, never in a test).
module Finales.Demo.Tests.BenchBrokerTests

open System.IO
open System.Text.Json
open Expecto
open Finales.Integration.Tests

/// A one-second run of the cycle by two workers; exit code and stdout + stderr.
let private bench (args: string) =
    Harness.run
        "dotnet"
        (sprintf "\"%s\" bench broker --self --seconds 1 --warmup 0.5 --workers 2 %s" Harness.cliDll args)
        []

/// The JSON report: from the line holding only "{" (progress and broker lines on stderr come before it).
let private report (out: string) =
    let lines = out.Replace("\r", "").Split('\n')
    let start = lines |> Array.findIndex (fun l -> l = "{")
    let stop = lines |> Array.findIndexBack (fun l -> l = "}")
    JsonDocument.Parse(String.concat "\n" lines[start..stop]).RootElement.Clone()

let private number (r: JsonElement) (name: string) = r.GetProperty(name).GetDouble()

/// What every run reports: cycles made without errors, and the CPU the broker and the load generator spent on them.
let private expectCycles (r: JsonElement) =
    Expect.isGreaterThan (number r "cycles") 0.0 "cycles were made"
    Expect.equal (number r "errors") 0.0 "no call failed"
    Expect.isGreaterThan (number r "broker_cpu_ms_per_cycle") 0.0 "the broker's CPU per cycle"
    Expect.isGreaterThan (number r "client_cpu_ms_per_cycle") 0.0 "the load generator's CPU per cycle"

    for call in [ "post_request"; "pending"; "reserve"; "post_result"; "get_result" ] do
        Expect.isGreaterThan
            (r.GetProperty("calls").GetProperty(call).GetProperty("count").GetInt32())
            0
            (sprintf "latencies of %s" call)

[<Tests>]
let tests =
    testList
        "bench broker"
        [ test "--self measures a broker on a fresh SQLite file" {
              let code, out = bench ""
              Expect.equal code 0 (sprintf "exit code; output:\n%s" out)
              let r = report out
              expectCycles r
              Expect.equal (r.GetProperty("store").GetString()) "sqlite" "the store"
              Expect.isFalse (r.TryGetProperty "postgres_cpu_ms_per_cycle" |> fst) "no database server to measure"
          }

          test "--self --private-postgres starts its own cluster, measures on it with the server's CPU, and stops it" {
              let dir = Harness.tempDir "bench-pg"
              let code, out = bench (sprintf "--private-postgres --keep \"%s\"" dir)
              Expect.equal code 0 (sprintf "exit code; output:\n%s" out)
              Expect.stringContains out "private PostgreSQL: initdb" "says what it starts"
              let r = report out
              expectCycles r
              Expect.equal (r.GetProperty("store").GetString()) "postgresql" "the store"
              Expect.isGreaterThan (number r "postgres_cpu_ms_per_cycle") 0.0 "the server's CPU per cycle"

              Expect.stringStarts
                  (r.GetProperty("postgres_server").GetString())
                  "private cluster, fsync on: PostgreSQL "
                  "names the server it measured"

              let data = Path.Combine(dir, "postgres", "data")
              Expect.isTrue (File.Exists(Path.Combine(data, "PG_VERSION"))) "the kept cluster is there"
              Expect.isFalse (File.Exists(Path.Combine(data, "postmaster.pid"))) "and stopped"

              // Kept, it is measured again: started, not created anew.
              let code, out = bench (sprintf "--private-postgres --keep \"%s\"" dir)
              Expect.equal code 0 (sprintf "second run's exit code; output:\n%s" out)
              Expect.stringContains out "starting the kept cluster" "the kept cluster is started again"
              expectCycles (report out)
          }

          test "--private-postgres is refused with --postgres or without --self, naming the flags" {
              let code, out =
                  Harness.run
                      "dotnet"
                      (sprintf "\"%s\" bench broker --self --private-postgres --postgres Host=x" Harness.cliDll)
                      []

              Expect.equal code 2 (sprintf "exit code; output:\n%s" out)
              Expect.stringContains out "--private-postgres and --postgres exclude each other" "names both flags"

              let code, out =
                  Harness.run "dotnet" (sprintf "\"%s\" bench broker --private-postgres" Harness.cliDll) []

              Expect.equal code 2 (sprintf "exit code; output:\n%s" out)
              Expect.stringContains out "--private-postgres needs --self" "names the missing flag"
          } ]
