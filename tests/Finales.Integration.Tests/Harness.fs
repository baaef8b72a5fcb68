/// Real things for integration tests: broker processes on loopback ports, a private PostgreSQL cluster,
/// and a raw HTTP helper that shows exactly what the server answered.
module Finales.Integration.Tests.Harness

open System
open System.Diagnostics
open System.IO
open System.Net
open System.Net.Http
open System.Net.Sockets
open System.Text
open System.Text.Json
open System.Threading

/// The repository root (the directory holding Finales.sln), found from the test assembly's location.
let repoRoot = Finales.Tests.RepoData.root

let cliDll =
    Path.Combine(repoRoot, "artifacts", "bin", "Finales.Cli", "release", "finales.dll")

let freePort () =
    let l = new TcpListener(IPAddress.Loopback, 0)
    l.Start()
    let p = (l.LocalEndpoint :?> IPEndPoint).Port
    l.Stop()
    p

/// Every directory tempDir made in this test process; deleted when the process exits (runs used to leave them all in
/// the temp directory, among them the ~700 MB PostgreSQL cluster of each integration run). FINALES_KEEP_TEST_DIRS=1
/// keeps them for a look after a failure.
let private made = Collections.Concurrent.ConcurrentBag<string>()

let private deleteAtExit =
    lazy
        (if Environment.GetEnvironmentVariable "FINALES_KEEP_TEST_DIRS" <> "1" then
             AppDomain.CurrentDomain.ProcessExit.Add(fun _ ->
                 for d in made |> Seq.filter Directory.Exists do
                     try
                         Directory.Delete(d, true)
                     with
                     | :? IOException
                     | :? UnauthorizedAccessException -> eprintfn "could not delete the test directory %s" d))

let tempDir (name: string) =
    deleteAtExit.Force()

    let d =
        Path.Combine(Path.GetTempPath(), sprintf "finales-%s-%s" name (Guid.NewGuid().ToString("N").Substring(0, 8)))

    Directory.CreateDirectory d |> ignore
    made.Add d
    d

let adminPassword = "admin-pw-for-tests"

let http = new HttpClient(Timeout = TimeSpan.FromSeconds 60.0)

/// Runs a program to completion; returns exit code and combined output.
let run (file: string) (args: string) (env: (string * string) list) =
    let psi =
        ProcessStartInfo(
            file,
            args,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false
        )

    for k, v in env do
        psi.Environment[k] <- v

    use p = Process.Start psi
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEndAsync()
    p.WaitForExit()
    p.ExitCode, out.Result + err.Result

/// Starts a process whose stdout and stderr lines are appended to `log` (under its lock).
let startLogged (psi: ProcessStartInfo) (log: StringBuilder) : Process =
    let p = Process.Start psi

    let append (e: DataReceivedEventArgs) =
        if not (isNull e.Data) then
            lock log (fun () -> log.AppendLine e.Data |> ignore)

    p.OutputDataReceived.Add append
    p.ErrorDataReceived.Add append
    p.BeginOutputReadLine()
    p.BeginErrorReadLine()
    p

/// Where a broker keeps its data.
type StoreKind =
    | Sqlite of path: string
    | Postgres of connectionString: string

    member this.Args =
        match this with
        | Sqlite p -> sprintf "--db \"%s\"" p
        | Postgres cs -> sprintf "--postgres \"%s\"" cs

/// Runs statements on a store's database directly, around any broker (to take a schema back or damage a store on
/// purpose); the rows each changed.
let execRaw (kind: StoreKind) (statements: string list) =
    use c: Data.Common.DbConnection =
        match kind with
        | Sqlite path -> new Microsoft.Data.Sqlite.SqliteConnection(sprintf "Data Source=%s;Pooling=false" path)
        | Postgres cs -> new Npgsql.NpgsqlConnection(cs + ";Pooling=false")

    c.Open()

    [ for sql in statements do
          use cmd = c.CreateCommand()
          cmd.CommandText <- sql
          cmd.ExecuteNonQuery() ]

/// A broker server process on a loopback port.
type BrokerProcess(store: StoreKind, extraArgs: string, ?port: int) =
    let port = defaultArg port (freePort ())
    let url = sprintf "http://127.0.0.1:%d" port
    let log = StringBuilder()
    let mutable proc: Process option = None

    member _.Url = url
    member _.Port = port
    member _.Store = store
    member _.Log = lock log (fun () -> log.ToString())

    /// The broker's process id (e.g. to read its /proc/<pid>/status).
    member _.Pid =
        match proc with
        | Some p -> p.Id
        | None -> failwith "the broker is not running"

    member this.Start() =
        let psi =
            ProcessStartInfo(
                "dotnet",
                sprintf "\"%s\" serve %s --urls %s %s" cliDll store.Args url extraArgs,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false
            )

        psi.Environment["FINALES_ADMIN_PASSWORD"] <- adminPassword
        let p = startLogged psi log
        proc <- Some p
        let deadline = DateTime.UtcNow.AddSeconds 60.0
        let mutable up = false

        while not up do
            if p.HasExited then
                failwithf "broker exited with %d:\n%s" p.ExitCode this.Log

            if DateTime.UtcNow > deadline then
                failwithf "broker did not come up on %s:\n%s" url this.Log

            try
                use r = http.GetAsync(url + "/healthz").Result
                up <- r.IsSuccessStatusCode
            with _ ->
                Thread.Sleep 100

        this

    /// SIGKILL: no shutdown code runs.
    member _.Kill() =
        match proc with
        | Some p when not p.HasExited ->
            p.Kill true
            p.WaitForExit()
        | _ -> ()

        proc <- None

    member _.IsAlive =
        match proc with
        | Some p -> not p.HasExited
        | None -> false

    interface IDisposable with
        member this.Dispose() = this.Kill()

/// A broker inside the test process: real Kestrel on a loopback port, real HTTP, a real store, but on the clock
/// `time` (a FakeTimeProvider, so token lifetimes and login windows pass by advancing it instead of sleeping).
/// `configure` adjusts the options (as the flags of `serve` would); the first admin gets `adminPassword`.
type InProcessBroker(store: StoreKind, time: TimeProvider, configure: Finales.Broker.BrokerOptions -> unit) =
    let port = freePort ()
    let url = sprintf "http://127.0.0.1:%d" port

    let app =
        let options = Finales.Broker.BrokerOptions(Urls = url, Quiet = true)

        match store with
        | Sqlite path -> options.DbPath <- path
        | Postgres cs -> options.Postgres <- cs

        configure options

        let app =
            Finales.Broker.BrokerHost.BuildAsync(options, null, time).GetAwaiter().GetResult()

        let svc =
            app.Services.GetService(typeof<Finales.Broker.BrokerService>) :?> Finales.Broker.BrokerService

        svc.EnsureAdminAsync(adminPassword).GetAwaiter().GetResult() |> ignore
        app.StartAsync().GetAwaiter().GetResult()
        app

    member _.Url = url

    interface IDisposable with
        member _.Dispose() =
            app.StopAsync().GetAwaiter().GetResult()
            (app :> IAsyncDisposable).DisposeAsync().AsTask().GetAwaiter().GetResult()

/// The tests' private PostgreSQL cluster (Finales.Broker.PrivatePostgres, which `bench broker --private-postgres` runs
/// too) in a temp directory: fsync off, since no test outlives a power loss, and room for many brokers at once.
type PostgresCluster() =
    let dir = tempDir "pg"
    let mutable cluster: Finales.Broker.PrivatePostgres option = None

    member this.Start() =
        cluster <-
            Some(
                Finales.Broker.PrivatePostgres.Start(
                    dir,
                    freePort (),
                    ignore,
                    "-c fsync=off -c max_connections=200 -c synchronous_commit=on"
                )
            )

        this

    /// A fresh database; returns its connection string.
    member _.NewDatabase(name: string) =
        match cluster with
        | Some c -> c.CreateDatabase name
        | None -> failwith "the PostgreSQL cluster is not started"

    interface IDisposable with
        member _.Dispose() =
            cluster |> Option.iter (fun c -> c.Dispose())

/// What an HTTP call answered.
type Reply =
    { Status: int
      Body: string
      Headers: Headers.HttpResponseHeaders }

    member this.Json =
        use d =
            JsonDocument.Parse(if String.IsNullOrEmpty this.Body then "null" else this.Body)

        d.RootElement.Clone()

    /// The JSON string a route returned (e.g. a new id).
    member this.String = this.Json.GetString()

    member this.Detail = this.Json.GetProperty("detail")

/// A raw HTTP session against one broker, as a given user.
type Api(baseUrl: string, ?token: string) =
    member _.Url = baseUrl
    member _.Token = token

    member _.Send(method: HttpMethod, path: string, ?body: string, ?contentType: string) : Reply =
        use msg = new HttpRequestMessage(method, baseUrl + path)

        match token with
        | Some t -> msg.Headers.Authorization <- Headers.AuthenticationHeaderValue("Bearer", t)
        | None -> ()

        match body with
        | Some b ->
            msg.Content <- new StringContent(b, Encoding.UTF8)

            msg.Content.Headers.ContentType <-
                Headers.MediaTypeHeaderValue.Parse(defaultArg contentType "application/json")
        | None -> ()

        use r = http.Send(msg)

        { Status = int r.StatusCode
          Body = r.Content.ReadAsStringAsync().Result
          Headers = r.Headers }

    member this.Get(path: string) = this.Send(HttpMethod.Get, path)

    member this.Post(path: string, ?body: string, ?contentType: string) =
        this.Send(HttpMethod.Post, path, ?body = body, ?contentType = contentType)

    member this.Put(path: string, body: string) = this.Send(HttpMethod.Put, path, body)

    /// Logs in with the stock form route; returns a session carrying the token.
    static member Login(baseUrl: string, user: string, password: string) : Api =
        use form =
            new FormUrlEncodedContent(dict [ "username", user; "password", password ])

        use r = http.PostAsync(baseUrl + "/user_management/authenticate", form).Result
        let body = r.Content.ReadAsStringAsync().Result

        if not r.IsSuccessStatusCode then
            failwithf "login of %s failed: %d %s" user (int r.StatusCode) body

        use d = JsonDocument.Parse body
        Api(baseUrl, d.RootElement.GetProperty("access_token").GetString())

/// Polls until `condition` holds; fails naming `what` after `seconds` (times FINALES_TEST_SLACK, default 3, so a
/// loaded CI machine does not turn a deadline into a failure; the deadline only matters when something is wrong).
let waitUntil (seconds: float) (what: string) (condition: unit -> bool) =
    let slack =
        match
            Double.TryParse(
                Environment.GetEnvironmentVariable "FINALES_TEST_SLACK",
                Globalization.CultureInfo.InvariantCulture
            )
        with
        | true, s when s > 0.0 -> s
        | _ -> 3.0

    let deadline = DateTime.UtcNow.AddSeconds(seconds * slack)
    let mutable ok = condition ()

    while not ok do
        if DateTime.UtcNow > deadline then
            failwithf "timed out after %.0f s waiting for %s" (seconds * slack) what

        Thread.Sleep 100
        ok <- condition ()

/// Fails with the status and body when a reply is not the expected one.
let expectStatus (r: Reply) (code: int) (what: string) =
    if r.Status <> code then
        failwithf "%s: expected HTTP %d, got %d: %s" what code r.Status r.Body

/// Every capability file of the corpus.
let capabilityFiles () =
    Directory.GetFiles(Finales.Tests.RepoData.corpus "serialized_quantities", "*.json", SearchOption.AllDirectories)
    |> Array.sort

let jsonNode (text: string) = Nodes.JsonNode.Parse(text)

/// The property names of a JSON object, in document order.
let keys (e: JsonElement) =
    [ for p in e.EnumerateObject() -> p.Name ]

/// The `loc` path of every entry of a 422 reply's detail, as strings.
let locOf (r: Reply) =
    [ for d in r.Detail.EnumerateArray() -> [ for x in d.GetProperty("loc").EnumerateArray() -> x.ToString() ] ]
