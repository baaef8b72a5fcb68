/// Tenants as separate `finales tenant conductivity` processes: kill -9 mid-request, and the populate command.
module Finales.Tenants.Tests.ProcessTests

open System
open System.IO
open System.Text.Json
open Expecto
open Finales.Hosting
open Finales.Integration.Tests.Harness
open Finales.Tenants.Tests.TenantWorld

let tests =
    testList
        "processes"
        [ test "kill -9 of a tenant process mid-request, then a restart: the request completes exactly once" {
              use fx = create "proc-kill"
              let account = fx.AddTenant "conductivity"
              let journal = Path.Combine(fx.Dir, "conductivity-journal.db")
              let config = writeConfig fx account journal 4.0 30.0
              let first = new TenantProcess(config)

              let id =
                  try
                      first.WaitFor("Registered limitations", 30.0)
                      let id = (postRandomRequests fx 1 21).Head
                      first.WaitFor(sprintf "Claimed %O" id, 15.0)
                      Threading.Thread.Sleep 500
                      first.Kill()
                      id
                  with e ->
                      first.Kill()
                      raise e

              Expect.equal (fx.Status id) "reserved" "still reserved by the dead tenant"
              Expect.isEmpty (fx.ResultsFor id) "nothing posted yet"
              use second = new TenantProcess(config)
              second.WaitFor(sprintf "Recovering %O: still reserved by us; redoing the work" id, 30.0)
              waitUntil 30.0 "resolved after the restart" (fun () -> fx.Status id = "resolved")
              second.WaitFor(sprintf "Posted result", 10.0)
              let results = fx.ResultsFor id
              Expect.equal results.Length 1 "exactly one result"

              Expect.equal
                  (results.Head.GetProperty("result").GetProperty("tenant_uuid").GetString())
                  (account.Uuid.ToString "D")
                  "from the tenant"

              second.Kill()
              use j = new TenantJournal(journal)
              let e = j.Get id
              Expect.equal e.State JournalState.Posted "journal: posted"
              Expect.equal e.Attempts 1 "one claim, resumed rather than claimed again"
          }

          test "populate posts N seeded example requests; the same seed gives the same formulations" {
              use fx = create "proc-populate"

              let args seed =
                  sprintf
                      "\"%s\" tenant conductivity --populate 3 --url %s --user %s --password %s --tenant %O --seed %d"
                      cliDll
                      fx.Url
                      fx.Requester.User
                      fx.Requester.Password
                      fx.Requester.Uuid
                      seed

              let code1, out1 = run "dotnet" (args 5) []
              Expect.equal code1 0 (sprintf "populate succeeded: %s" out1)
              let code2, out2 = run "dotnet" (args 5) []
              Expect.equal code2 0 (sprintf "populate succeeded: %s" out2)

              let payloads (out: string) =
                  out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                  |> Array.map (fun l -> l.Substring(l.IndexOf('{')))
                  |> List.ofArray

              Expect.equal (payloads out1).Length 3 "three requests"
              Expect.equal (payloads out1) (payloads out2) "same seed, same requests"
              Expect.equal (fx.Admin.Get("/pending_requests/").Json.GetArrayLength()) 6 "six pending on the broker"

              let code3, out3 =
                  run
                      "dotnet"
                      (sprintf
                          "\"%s\" tenant conductivity --populate 1 --url %s --user %s --password wrong --tenant %O"
                          cliDll
                          fx.Url
                          fx.Requester.User
                          fx.Requester.Uuid)
                      []

              Expect.equal code3 2 "a refused login is a user error"
              Expect.stringContains out3 "401" (sprintf "says the broker refused: %s" out3)
          } ]
