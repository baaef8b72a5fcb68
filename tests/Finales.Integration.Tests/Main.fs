module Finales.Integration.Tests.Main

open System
open System.IO
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let sqlite =
    { Name = "sqlite"
      Make = fun name -> Sqlite(Path.Combine(tempDir name, "broker.db")) }

let cluster = lazy ((new PostgresCluster()).Start())

let postgres =
    { Name = "postgres"
      Make =
        fun name ->
            Postgres(cluster.Value.NewDatabase(sprintf "%s_%s" name (Guid.NewGuid().ToString("N").Substring(0, 8)))) }

let worlds = Collections.Concurrent.ConcurrentBag<Lazy<World>>()

let world (f: StoreFactory) (name: string) (args: string) =
    let w = lazy (World.create (f.Make name) args)
    worlds.Add w
    w

let storeSuite (f: StoreFactory) (twoProcesses: bool) =
    testList
        f.Name
        [ BrokerTests.suite f (world f "main" "")
          CorpusTests.suite f (world f "corpus" "") (world f "corpuswarn" "--result-validation warn")
          FuzzTests.suite f (world f "fuzz" "")
          AccessTests.suite f (world f "access" AccessTests.worldArgs)
          IntegrityTests.suite f (world f "integrity" "") (world f "poison" "")
          StoreTests.suite f (world f "store" "--limitations off")
          testSequenced (
              testList
                  "concurrency"
                  ([ ConcurrencyTests.exactlyOnce f twoProcesses; ConcurrencyTests.crashSafety f ]
                   // The WAL checkpointer and the online backup exist only for SQLite.
                   @ (if f.Name = sqlite.Name then
                          [ ConcurrencyTests.checkpoints f; ConcurrencyTests.backup f ]
                      else
                          []))
          ) ]

[<EntryPoint>]
let main argv =
    if not (File.Exists cliDll) then
        eprintfn "build the CLI first: %s is missing" cliDll
        2
    else
        try
            runTestsWithCLIArgs [] argv (testList "integration" [ storeSuite sqlite false; storeSuite postgres true ])
        finally
            for w in worlds do
                if w.IsValueCreated then
                    (w.Value :> IDisposable).Dispose()

            if cluster.IsValueCreated then
                (cluster.Value :> IDisposable).Dispose()
