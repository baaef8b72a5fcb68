/// The campaign view in Chromium: figures drawn by plotly.js from results posted through the API, redrawn live, no
/// request leaving the broker's origin on any console page, and a tenant role seeing only what it may see.
module Finales.Console.Tests.CampaignBrowserTests

open System
open System.IO
open System.Text.Json
open System.Threading.Tasks
open Expecto
open Finales.Console.Tests.ConsoleWorld
open Finales.Console.Tests.CampaignFiguresTests
open Finales.Tests
open PuppeteerSharp

/// Density and RDF capabilities besides the world's conductivity ones (once).
let private capabilities =
    lazy
        (let w = world.Value

         for f in
             [ "serialized_quantities/density/vibrating_tube_densimetry.json"
               "serialized_quantities/radial_density_function/molacular_dynamics.json" ] do
             w.Service
                 .AddCapabilityAsync(JsonDocument.Parse(RepoData.readCorpus f).RootElement)
                 .GetAwaiter()
                 .GetResult()
             |> ignore)

let private post (rest: Rest) (tenant: Guid) quantity method lipf6 achieved v =
    rest.Post("/results/post_unsolicited_result", resultBody tenant quantity method lipf6 achieved v)
    |> ignore

/// Tenant A's campaign: 3 density measurements, conductivity from the three sources, one RDF.
let private campaignOfA =
    lazy
        (capabilities.Force()
         let w = world.Value
         let p = post w.Alice w.TenantA

         for i, x in [ 0, 0.03; 1, 0.05; 2, 0.07 ] do
             p "density" "vibrating_tube_densimetry" x (x + 0.001) (1.2 + 0.05 * float i)
             p "conductivity" "two_electrode" x (x - 0.001) (0.3 + 0.1 * float i)
             p "conductivity" "polynomial_interpolation" x x (0.35 + 0.1 * float i)
             p "conductivity" "molecular_dynamics" x x (0.25 + 0.1 * float i)

         p "radial_density_function" "molacular_dynamics" 0.05 0.05 2.5)

/// The number of figures plotly.js has drawn (its svg in a .js-plotly-plot in the figure's plot element).
let private drawn (page: IPage) =
    page.EvaluateExpressionAsync<int>(
        "[...document.querySelectorAll('#campaign-figures .plot')].filter(p => p.querySelector('.js-plotly-plot svg.main-svg')).length"
    )

/// A page function: true once plotly.js has drawn five figures.
let private Drawn =
    "() => [...document.querySelectorAll('#campaign-figures .plot')].filter(p => p.querySelector('.js-plotly-plot svg.main-svg')).length >= 5"

/// A page function: the text of the figures' HTML and of every figure's drawing script, as the caller may fetch them.
let private Everything =
    "() => Promise.all(['/ui/campaign/figures', ...['compositions', 'conductivity', 'density-viscosity', 'progress', 'rdf'].map(k => '/ui/campaign/plots/' + k + '.js')].map(u => fetch(u).then(r => r.ok ? r.text() : ''))).then(t => t.join('\\n'))"

let private fetchText (page: IPage) (path: string) =
    page.EvaluateFunctionAsync<string>("p => fetch(p, { credentials: 'same-origin' }).then(r => r.text())", path)

[<Tests>]
let tests =
    testSequencedGroup "console world"
    <| testList
        "Campaign view in Chromium"
        [ testTask "the campaign view draws every figure with plotly.js and redraws without a reload" {
              campaignOfA.Force()
              let w: World = world.Value
              let! (page: IPage) = w.SignIn("admin", adminPassword)
              let! _ = page.GoToAsync(w.Url + "/ui/campaign")
              let! _ = page.WaitForFunctionAsync(Drawn)
              let! n = drawn page
              Expect.equal n 5 "compositions, conductivity, density-viscosity, progress and RDF are drawn"

              let! (captions: string[]) =
                  page.EvaluateExpressionAsync<string[]>(
                      "[...document.querySelectorAll('#campaign-figures figcaption')].map(c => c.textContent)"
                  )

              Expect.exists
                  captions
                  (fun c -> c.Contains "Pearson r = ")
                  "the density-viscosity caption gives Pearson r"

              Expect.exists
                  captions
                  (fun c -> c.Contains "3 molecular_dynamics (simulation)")
                  "the MD conductivities are counted"

              Expect.isFalse (captions |> Array.exists (fun c -> c.Contains "no RDF")) "the RDF figure is drawn"

              let! (ownScripts: bool) =
                  page.EvaluateExpressionAsync<bool>(
                      "[...document.scripts].every(s => s.src.startsWith(location.origin + '/'))"
                  )

              Expect.isTrue ownScripts "every script of the page is a file from the broker (no inline script)"
              do! w.Shot page "campaign"

              let! before =
                  page.EvaluateExpressionAsync<string>("document.getElementById('campaign-figures').dataset.version")

              do! page.EvaluateExpressionAsync("window.__sameDocument = true")
              post w.Alice w.TenantA "conductivity" "two_electrode" 0.08 0.08 0.9

              let! _ =
                  page.WaitForFunctionAsync(
                      sprintf
                          "() => document.getElementById('campaign-figures').dataset.version !== '%s' && (%s)()"
                          before
                          Drawn,
                      WaitForFunctionOptions(Timeout = 30000)
                  )

              let! same = page.EvaluateExpressionAsync<bool>("window.__sameDocument === true")
              Expect.isTrue same "the figures were redrawn in the same document (no reload)"

              let! (caption: string) =
                  page.EvaluateExpressionAsync<string>(
                      "document.querySelector('#figure-conductivity figcaption').textContent"
                  )

              Expect.stringContains caption "4 two_electrode (lab)" "the new lab result is drawn"
          }

          testTask "no console page requests anything from another origin than the broker's" {
              campaignOfA.Force()
              let w: World = world.Value
              let id = w.RequestOfA()
              // retracted at once: a pending request would be claimed by the other tests of the shared world
              w.Alice.Post(
                  sprintf
                      "/requests/%s/update_status/?request_id=%s&new_status=retracted&status_change_message=seen"
                      id
                      id
              )
              |> ignore

              let! (context: IBrowserContext) = w.Browser.CreateBrowserContextAsync()
              let! (page: IPage) = context.NewPageAsync()
              let requested = Collections.Concurrent.ConcurrentQueue<string>()
              let foreign = Collections.Concurrent.ConcurrentQueue<string>()
              do! page.SetRequestInterceptionAsync true

              page.add_Request (fun _ (e: RequestEventArgs) ->
                  requested.Enqueue e.Request.Url

                  // data: URLs carry their content inline (Chromium's own icons of date inputs): nothing is fetched
                  if
                      e.Request.Url = w.Url
                      || e.Request.Url.StartsWith(w.Url + "/", StringComparison.Ordinal)
                      || e.Request.Url.StartsWith("data:", StringComparison.Ordinal)
                  then
                      e.Request.ContinueAsync() |> ignore
                  else
                      foreign.Enqueue e.Request.Url
                      e.Request.AbortAsync() |> ignore)

              let! _ = page.GoToAsync(w.Url + "/ui/signin", WaitUntilNavigation.Networkidle0)
              do! page.TypeAsync("#username", "admin")
              do! page.TypeAsync("#password", adminPassword)
              let nav = page.WaitForNavigationAsync()
              do! page.ClickAsync "#signin"
              let! _ = nav

              for p in
                  [ "/ui/overview"
                    "/ui/queue"
                    "/ui/campaign"
                    "/ui/requests/" + id
                    "/ui/new"
                    "/ui/admin/users"
                    "/ui/admin/tenants"
                    "/ui/admin/capabilities" ] do
                  let! (r: IResponse) = page.GoToAsync(w.Url + p, WaitUntilNavigation.Networkidle0)
                  Expect.equal (int r.Status) 200 (p + " answers")
                  // two polling rounds of the live panels
                  do! Task.Delay 2100

              Expect.isEmpty
                  (List.ofSeq foreign)
                  (sprintf "no request left the broker's loopback origin: %A" (List.ofSeq foreign))

              Expect.exists requested (fun u -> u.EndsWith "/ui/static/plotly.min.js") "plotly.js came from the broker"

              Expect.exists
                  requested
                  (fun u -> u.StartsWith(w.Url + "/ui/campaign/plots/", StringComparison.Ordinal))
                  "the figures' drawing scripts came from the broker"

          }

          testTask "a tenant role's campaign view holds only its own tenants' data" {
              campaignOfA.Force()
              let w: World = world.Value
              post w.Bob w.TenantB "conductivity" "two_electrode" 0.04 0.04 0.7654321
              let! (admin: IPage) = w.SignIn("admin", adminPassword)
              let! _ = admin.GoToAsync(w.Url + "/ui/campaign")

              // the admin sees tenant B's lab result: its name (brackets shown as ‹ ›) in the progress legend, once the view refreshed
              let! _ =
                  admin.WaitForFunctionAsync(
                      "() => (" + Everything + ")().then(t => t.includes('‹b›B‹/b›'))",
                      WaitForFunctionOptions(Timeout = 30000, PollingInterval = 500)
                  )

              let! (adminReads: string) =
                  admin.EvaluateExpressionAsync<string>("fetch('/ui/campaign/live').then(r => r.text())")

              let! pwned = admin.EvaluateExpressionAsync<bool>("typeof window.__pwned !== 'undefined'")
              Expect.isFalse pwned "tenant B's markup name ran no script on the admin's campaign view"
              let! (alice: IPage) = w.SignIn("alice", "alice-pw")
              let! _ = alice.GoToAsync(w.Url + "/ui/campaign")
              let! _ = alice.WaitForFunctionAsync(Drawn)
              let! (html: string) = alice.GetContentAsync()
              let! (script: string) = alice.EvaluateFunctionAsync<string>(Everything)
              let! (figures: string) = fetchText alice "/ui/campaign/figures"

              for what, text in [ "page", html; "drawing scripts", script; "figures", figures ] do
                  Expect.isFalse
                      (text.Contains "0.7654321")
                      (what + ": tenant B's value is not on alice's campaign view")

                  Expect.isFalse (text.Contains "window.__pwned") (what + ": tenant B's name is not either")
                  Expect.isFalse (text.Contains "‹b›B") (what + ": not even with its brackets replaced")

              let! (aliceReads: string) =
                  alice.EvaluateExpressionAsync<string>("document.getElementById('campaign-live').outerHTML")

              let lab (html: string) =
                  System.Text.RegularExpressions.Regex
                      .Match(html, "conductivity/two_electrode</th><td>(\\d+)")
                      .Groups[1]
                      .Value

              Expect.isGreaterThanOrEqual (int (lab aliceReads)) 3 "alice's view counts her own lab results"
              Expect.equal (int (lab adminReads)) (int (lab aliceReads) + 1) "the admin's counts tenant B's one too"
              do! w.Shot alice "campaign-tenant"
          } ]
