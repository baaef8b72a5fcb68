/// The console tests' world: a real broker (Kestrel on a loopback port, a real SQLite file) in the test process,
/// populated through its own services, a REST client for the tenants' side, and one headless Chromium.
module Finales.Console.Tests.ConsoleWorld

open System
open System.IO
open System.Net
open System.Net.Http
open System.Net.Sockets
open System.Text
open System.Text.Json
open System.Text.Json.Nodes
open Finales.Broker
open Finales.Tests
open PuppeteerSharp

let adminPassword = "admin-pw-for-console-tests"

/// Where screenshots of every page go (test artefacts).
let screenshots =
    let d = Path.Combine(RepoData.root, "artifacts", "console-screenshots")
    Directory.CreateDirectory d |> ignore
    d

let private freePort () =
    let l = new TcpListener(IPAddress.Loopback, 0)
    l.Start()
    let p = (l.LocalEndpoint :?> IPEndPoint).Port
    l.Stop()
    p

let private http = new HttpClient(Timeout = TimeSpan.FromSeconds 30.0)

/// A REST session of one user (the JWT of /user_management/authenticate).
type Rest(url: string, username: string, password: string) =
    let token =
        use form =
            new FormUrlEncodedContent(dict [ "username", username; "password", password ])

        use r = http.PostAsync(url + "/user_management/authenticate", form).Result
        let body = r.Content.ReadAsStringAsync().Result

        if not r.IsSuccessStatusCode then
            failwithf "login of %s failed: %d %s" username (int r.StatusCode) body

        JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()

    member _.Send(meth: HttpMethod, path: string, ?body: string) =
        use m = new HttpRequestMessage(meth, url + path)
        m.Headers.Authorization <- Headers.AuthenticationHeaderValue("Bearer", token)

        match body with
        | Some b -> m.Content <- new StringContent(b, Encoding.UTF8, "application/json")
        | None -> ()

        use r = http.SendAsync(m).Result
        int r.StatusCode, r.Content.ReadAsStringAsync().Result

    /// POST that must answer 200; its body.
    member this.Post(path: string, ?body: string) =
        match this.Send(HttpMethod.Post, path, ?body = body) with
        | 200, b -> b
        | s, b -> failwithf "POST %s answered %d: %s" path s b

    member this.Get(path: string) =
        match this.Send(HttpMethod.Get, path) with
        | 200, b -> b
        | s, b -> failwithf "GET %s answered %d: %s" path s b

let private polyRequest =
    RepoData.readCorpus "examples/requests/conductivity/polynomial_interpolation.json"

let polyLimitations =
    RepoData.readCorpus "examples/limitations/conductivity/polynomial_interpolation.json"

/// The corpus polynomial_interpolation request for `tenant`.
let requestOf (tenant: Guid) =
    let n = JsonNode.Parse polyRequest
    n["tenant_uuid"] <- JsonValue.Create(tenant.ToString "D")
    n.ToJsonString()

/// The name of tenant B: markup, to prove every page escapes stored strings.
let hostileName = "<script>window.__pwned = 1</script><b>B</b>"

type World =
    { Url: string
      Service: BrokerService
      TenantA: Guid
      TenantB: Guid
      Alice: Rest
      Bob: Rest
      Browser: IBrowser
      Dispose: unit -> unit }

    /// Posts a request as alice (tenant A); its id.
    member w.RequestOfA() =
        w.Alice.Post("/requests/", requestOf w.TenantA).Trim('"')

    member w.RequestOfB() =
        w.Bob.Post("/requests/", requestOf w.TenantB).Trim('"')

    /// A fresh browser context (own cookies) signed in as `user`; its page is on the overview.
    member w.SignIn(user: string, password: string) =
        task {
            let! context = w.Browser.CreateBrowserContextAsync()
            let! page = context.NewPageAsync()
            let! _ = page.GoToAsync(w.Url + "/ui/signin")
            do! page.TypeAsync("#username", user)
            do! page.TypeAsync("#password", password)
            let nav = page.WaitForNavigationAsync()
            do! page.ClickAsync "#signin"
            let! _ = nav
            return page
        }

    member w.Shot (page: IPage) (name: string) =
        page.ScreenshotAsync(Path.Combine(screenshots, name + ".png"), ScreenshotOptions(FullPage = true))

let private json (s: string) = JsonDocument.Parse(s).RootElement

let private capability () =
    Directory.GetFiles(RepoData.corpus "serialized_quantities", "*.json", SearchOption.AllDirectories)
    |> Array.filter (fun f -> f.Contains "conductivity")
    |> Array.sort

/// Starts the world: broker, capabilities, tenants A (alice) and B (bob, with a hostile name), observer olga, Chromium.
let start () =
    let dir =
        Path.Combine(Path.GetTempPath(), "finales-console-" + Guid.NewGuid().ToString("N").Substring(0, 8))

    Directory.CreateDirectory dir |> ignore
    let url = sprintf "http://127.0.0.1:%d" (freePort ())

    let options =
        BrokerOptions(Urls = url, Quiet = true, DbPath = Path.Combine(dir, "broker.db"))

    let app = BrokerHost.BuildAsync(options, null, null).GetAwaiter().GetResult()
    let svc = app.Services.GetService(typeof<BrokerService>) :?> BrokerService
    svc.EnsureAdminAsync(adminPassword).GetAwaiter().GetResult() |> ignore

    for f in capability () do
        svc.AddCapabilityAsync(json (File.ReadAllText f)).GetAwaiter().GetResult()
        |> ignore

    let tenant (name: string) =
        svc
            .AddTenantAsync(
                json (
                    JsonSerializer.Serialize(
                        dict
                            [ "name", box name
                              "limitations", box (json polyLimitations)
                              "contact_person", box "test" ]
                    )
                )
            )
            .GetAwaiter()
            .GetResult()

    let a = tenant "tenant-a"
    let b = tenant hostileName

    let user (name: string) (roles: string list) (tenants: Guid list) =
        svc
            .AddUserAsync(
                json (
                    JsonSerializer.Serialize(
                        dict
                            [ "username", box name
                              "password", box (name + "-pw")
                              "roles", box roles
                              "tenants", box (tenants |> List.map string) ]
                    )
                )
            )
            .GetAwaiter()
            .GetResult()
        |> ignore

    user "alice" [ "tenant" ] [ a ]
    user "bob" [ "tenant" ] [ b ]
    user "olga" [ "observer" ] []
    app.StartAsync().GetAwaiter().GetResult()

    let browser =
        Puppeteer
            .LaunchAsync(
                LaunchOptions(
                    Headless = true,
                    ExecutablePath = "/usr/bin/chromium",
                    Args = [| "--no-sandbox"; "--disable-gpu"; "--disable-dev-shm-usage" |]
                )
            )
            .GetAwaiter()
            .GetResult()

    { Url = url
      Service = svc
      TenantA = a
      TenantB = b
      Alice = Rest(url, "alice", "alice-pw")
      Bob = Rest(url, "bob", "bob-pw")
      Browser = browser
      Dispose =
        fun () ->
            browser.CloseAsync().GetAwaiter().GetResult()
            app.StopAsync().GetAwaiter().GetResult()
            (app :> IAsyncDisposable).DisposeAsync().AsTask().GetAwaiter().GetResult()

            try
                Directory.Delete(dir, true)
            with _ ->
                () }

/// The one world of the suite, started on first use.
let world = lazy (start ())
