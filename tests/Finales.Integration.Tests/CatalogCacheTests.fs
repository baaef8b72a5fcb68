/// The broker's catalog cache on each store: a write through the service is in its snapshot when the write returns
/// (the next request sees it), the snapshot is read from memory (a change by another process is not read on the
/// request path), and a change made by another process (`finales admin` on the same store) reaches a running broker
/// through its background refresh.
module Finales.Integration.Tests.CatalogCacheTests

open System
open System.Net.Http
open System.Text.Json
open Expecto
open Finales.Broker
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private await (t: Threading.Tasks.Task<'T>) = t.GetAwaiter().GetResult()

let private openService (store: StoreKind) : BrokerService =
    let options = BrokerOptions(Quiet = true)

    let opened =
        match store with
        | Sqlite path -> SqlBrokerStore.OpenSqlite path
        | Postgres cs -> SqlBrokerStore.OpenPostgres cs

    await (BrokerService.OpenAsync(opened, options))

let private userBody (name: string) =
    JsonSerializer.SerializeToElement(dict [ "username", box name; "password", box ("pw-" + name) ])

let private knows (svc: BrokerService) (name: string) = svc.Current.Users.ContainsKey name

let private twoServices (f: StoreFactory) =
    test
        "a user added through one service is in its snapshot at once; another service on the same store sees it only after its refresh, and a second refresh finds nothing new" {
        let store = f.Make "catalogcache"
        use writer = openService store
        use reader = openService store
        let before = reader.Current.Version
        let name = "cached-" + Guid.NewGuid().ToString("N").Substring(0, 8)
        await (writer.AddUserAsync(userBody name)) |> ignore
        Expect.isTrue (knows writer name) "the writing service's snapshot holds the new user when the write returns"
        Expect.isFalse (knows reader name) "the other service's snapshot is served from memory until it refreshes"
        Expect.equal reader.Current.Version before "the other service's snapshot keeps its version until it refreshes"
        Expect.isTrue (await (reader.RefreshIfChangedAsync())) "the refresh finds the changed catalog version"
        Expect.isTrue (knows reader name) "after its refresh the other service knows the new user"
        Expect.equal reader.Current.Version writer.Current.Version "both snapshots are at the same catalog version"
        Expect.isFalse (await (reader.RefreshIfChangedAsync())) "a second refresh finds nothing new"
    }

let private cliChangeReachesBroker (f: StoreFactory) =
    test "a user added by `finales admin` on the store of a running broker can log in to it without a restart" {
        let store = f.Make "catalogcli"
        use broker = new InProcessBroker(store, TimeProvider.System, ignore)
        let name = "cli-" + Guid.NewGuid().ToString("N").Substring(0, 8)

        let code, out =
            run
                "dotnet"
                (sprintf
                    "\"%s\" admin %s user add --username %s --password pw-%s --roles observer"
                    cliDll
                    store.Args
                    name
                    name)
                [ "FINALES_ADMIN_PASSWORD", adminPassword ]

        Expect.equal code 0 out

        let loginStatus () =
            use form =
                new FormUrlEncodedContent(dict [ "username", name; "password", "pw-" + name ])

            use r =
                http.PostAsync(broker.Url + "/user_management/authenticate", form).GetAwaiter().GetResult()

            int r.StatusCode

        waitUntil 10.0 "the running broker to accept the new user's login" (fun () -> loginStatus () = 200)
    }

let tests (f: StoreFactory) =
    [ twoServices f; cliChangeReachesBroker f ]
