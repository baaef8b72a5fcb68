/// The store's failure modes over real processes: a store that cannot be opened stops the broker with one line; a
/// full disk answers 503 with the reason and loses nothing acknowledged; a read-only store stops startup.
module Finales.Integration.Tests.StoreFailureTests

open System
open System.IO
open System.Text.Json
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private uuids (e: JsonElement) =
    [ for x in e.EnumerateArray() -> x.GetProperty("uuid").GetString() ]

/// Runs `finales serve` on a store that cannot work; returns the exit code and the output lines.
let private serveFails (storeArgs: string) =
    let port = freePort ()

    let psi =
        Diagnostics.ProcessStartInfo(
            "dotnet",
            sprintf "\"%s\" serve %s --urls http://127.0.0.1:%d --quiet" cliDll storeArgs port,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        )

    psi.Environment["FINALES_ADMIN_PASSWORD"] <- adminPassword
    let log = Text.StringBuilder()
    use p = startLogged psi log

    if not (p.WaitForExit 60000) then
        p.Kill true
        p.WaitForExit()

        failtestf
            "the broker kept running on a store that cannot work (%s):\n%s"
            storeArgs
            (lock log (fun () -> log.ToString()))

    p.WaitForExit()

    p.ExitCode,
    (lock log (fun () -> log.ToString()))
        .Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)

let private expectOneLine (what: string) (expected: string) (code: int, lines: string[]) =
    Expect.notEqual code 0 (sprintf "%s: exit code" what)
    Expect.equal lines.Length 1 (sprintf "%s: one line, got:\n%s" what (String.Join("\n", lines)))
    Expect.stringContains lines[0] expected (sprintf "%s: the line says why" what)

let startup (f: StoreFactory) =
    test "a store that cannot be opened stops the broker with one line and a non-zero exit code" {
        match f.Make "badstore" with
        | Sqlite path ->
            let dir = Path.GetDirectoryName path
            let file = Path.Combine(dir, "plain-file")
            File.WriteAllText(file, "not a directory")

            serveFails (sprintf "--db \"%s\"" (Path.Combine(file, "sub", "x.db")))
            |> expectOneLine "a directory that cannot exist" "cannot open the SQLite store"

            let garbage = Path.Combine(dir, "garbage.db")
            File.WriteAllText(garbage, String('x', 10000))

            serveFails (sprintf "--db \"%s\"" garbage)
            |> expectOneLine "a file that is not a database" "not a database"

            serveFails (sprintf "--db \"%s\"" dir)
            |> expectOneLine "a directory as the store file" "is a directory"
        | Postgres _ ->
            serveFails (sprintf "--postgres \"Host=127.0.0.1;Port=%d;Username=postgres;Database=none\"" (freePort ()))
            |> expectOneLine "an unreachable server" "cannot open the PostgreSQL"
    }

/// A small file system of its own for the store (tmpfs, root only), to fill and to make read-only.
type private SmallDisk(sizeMb: int) =
    let dir = tempDir "smalldisk"

    let mounted =
        Environment.UserName = "root"
        && fst (run "mount" (sprintf "-t tmpfs -o size=%dm tmpfs \"%s\"" sizeMb dir) []) = 0

    member _.Mounted = mounted
    member _.Dir = dir

    member _.Remount(options: string) =
        let code, out = run "mount" (sprintf "-o remount,%s \"%s\"" options dir) []

        if code <> 0 then
            failwithf "remount %s failed: %s" options out

    interface IDisposable with
        member _.Dispose() =
            if mounted then
                run "umount" (sprintf "-l \"%s\"" dir) [] |> ignore

let fullDisk (f: StoreFactory) =
    test
        "a full store answers 503 with the reason, /healthz says unhealthy, nothing acknowledged is lost; read-only stops startup" {
        use disk = new SmallDisk(24)

        if not disk.Mounted then
            skiptest "needs root and tmpfs to give the store a small file system of its own"

        let w = World.create (Sqlite(Path.Combine(disk.Dir, "broker.db"))) ""

        try
            let acknowledged = Collections.Generic.List<string>()
            let failures = Collections.Generic.List<Reply>()
            // Fill the file system, leaving the store nothing to grow into.
            do
                use filler = File.OpenWrite(Path.Combine(disk.Dir, "filler"))
                let block = Array.zeroCreate<byte> (1 <<< 16)

                try
                    while true do
                        filler.Write(block, 0, block.Length)
                        filler.Flush()
                with :? IOException ->
                    ()

            let mutable attempts = 0

            while failures.Count = 0 && attempts < 5000 do
                attempts <- attempts + 1
                let r = w.A.Post("/requests/", w.PolyRequest(w.TenantA))

                match r.Status with
                | 200 -> acknowledged.Add r.String
                | _ -> failures.Add r

            Expect.isGreaterThan failures.Count 0 "a write failed once the disk was full"
            let failed = failures[0]
            expectStatus failed 503 "a write on a full disk"
            Expect.stringContains (failed.Detail.GetString()) "store unavailable: disk full" "the reason"
            let health = Api(w.Url).Get "/healthz"
            expectStatus health 503 "healthz on a full disk"
            Expect.stringContains health.Body "disk full" "healthz says why"
            // Space again: healthy, and writes work.
            File.Delete(Path.Combine(disk.Dir, "filler"))
            expectStatus (Api(w.Url).Get "/healthz") 200 "healthz after space was freed"
            acknowledged.Add(w.NewRequest())

            let stored = w.Admin.Get("/all_requests/").Json |> uuids |> Set.ofList

            for id in acknowledged do
                Expect.isTrue (stored.Contains id) (sprintf "acknowledged request %s is stored" id)

            let audit = w.Admin.Get "/admin/audit"
            Expect.isTrue (audit.Json.GetProperty("ok").GetBoolean()) audit.Body
            // The same store on a file system made read-only: the broker does not start, and says why in one line.
            w.Broker.Kill()
            disk.Remount "ro"

            serveFails (sprintf "--db \"%s\"" (Path.Combine(disk.Dir, "broker.db")))
            |> expectOneLine "a store on a read-only file system" "cannot open the SQLite store"
        finally
            (w :> IDisposable).Dispose()
    }
