/// The console in a real browser (headless Chromium through PuppeteerSharp) against a real broker and SQLite store:
/// the test bullets of issue 13. Every page visited is written to artifacts/console-screenshots/.
module Finales.Console.Tests.BrowserTests

open System
open System.Net.Http
open System.Text.Json
open System.Threading.Tasks
open Expecto
open Finales.Broker
open Finales.Console.Tests.ConsoleWorld
open PuppeteerSharp

let private text (page: IPage) (selector: string) =
    page.EvaluateFunctionAsync<string>(
        "s => { const e = document.querySelector(s); return e ? e.textContent.trim() : null; }",
        selector
    )

let private goto (page: IPage) (url: string) =
    task {
        let! r = page.GoToAsync url
        return int r.Status
    }

/// Posts a form from inside the page with fetch (the browser's cookies), with the given token field (None: no field).
let private postForm (page: IPage) (action: string) (token: string option) (fields: (string * string) list) =
    let fields =
        match token with
        | Some t -> ("__RequestVerificationToken", t) :: fields
        | None -> fields

    page.EvaluateFunctionAsync<int>(
        "async (action, fields) => { const b = new URLSearchParams(); for (const [k, v] of fields) b.append(k, v); const r = await fetch(action, { method: 'POST', body: b, redirect: 'manual' }); return r.status; }",
        action,
        fields |> List.map (fun (k, v) -> [| k; v |]) |> List.toArray
    )

/// The page's own antiforgery token (every signed-in page has the sign-out form).
let private pageToken (page: IPage) =
    page.EvaluateExpressionAsync<string>("document.querySelector('input[name=__RequestVerificationToken]').value")

let private status (w: World) (id: string) =
    (w.Service.Store.RequestAsync(Guid.Parse id).Result
     |> Option.ofObj
     |> Option.map (fun r -> r.Status))

let private theWorld () = world.Value

/// The active version of conductivity/polynomial_interpolation.
let private polyCapability (w: World) =
    (w.Service.Current.CapabilityRecords
     |> Seq.find (fun c ->
         c.IsActive
         && c.Quantity = "conductivity"
         && c.Method = "polynomial_interpolation"))
        .Id

[<Tests>]
let tests =
    testSequencedGroup "console world"
    <| testList
        "Console in Chromium"
        [ testTask "signing in shows the overview; without a session every page sends to sign-in" {
              let w: World = theWorld ()
              let! (context: IBrowserContext) = w.Browser.CreateBrowserContextAsync()
              let! (page: IPage) = context.NewPageAsync()
              let! _ = goto page (w.Url + "/ui/queue")
              Expect.stringStarts page.Url (w.Url + "/ui/signin") "an anonymous visit of the queue lands on sign-in"
              do! w.Shot page "signin"
              do! page.TypeAsync("#username", "admin")
              do! page.TypeAsync("#password", "wrong")
              let nav = page.WaitForNavigationAsync()
              do! page.ClickAsync "#signin"
              let! _ = nav
              let! error = text page "#error"
              Expect.equal error "Wrong user name or password." "a wrong password is refused on the page"
              let! (page: IPage) = w.SignIn("admin", adminPassword)
              Expect.equal page.Url (w.Url + "/ui/overview") "after sign-in the overview"
              let! who = text page "#whoami"
              Expect.equal who "admin (admin)" "the signed-in user and roles are shown"
              do! w.Shot page "overview"
          }

          testTask "the overview shows a tenant's claim live, without a reload" {
              let w: World = theWorld ()
              let id = w.RequestOfA()
              let! (page: IPage) = w.SignIn("admin", adminPassword)
              let row = sprintf "tr[data-tenant='%O'] td.held" w.TenantB
              let! before = text page row
              Expect.equal before "0" "tenant B holds nothing yet"
              do! page.EvaluateExpressionAsync("window.__sameDocument = true")

              let claimed =
                  w.Bob.Post(sprintf "/requests/claim?quantity=conductivity&method=polynomial_interpolation")

              Expect.stringContains claimed id "bob claimed alice's request"

              let! _ =
                  page.WaitForFunctionAsync(
                      sprintf "() => document.querySelector(\"%s\").textContent.trim() === '1'" row,
                      WaitForFunctionOptions(Timeout = 15000)
                  )

              let! same = page.EvaluateExpressionAsync<bool>("window.__sameDocument === true")
              Expect.isTrue same "the page updated in place (no reload)"
              let! lastSeen = text page (sprintf "tr[data-tenant='%O'] td.last-seen" w.TenantB)
              Expect.notEqual lastSeen "not within the hour" "tenant B was seen just now"
              do! w.Shot page "overview-live"
          }

          testTask "the queue filters on the server and pages by cursor" {
              let w: World = theWorld ()
              let ids = [ for _ in 1..3 -> w.RequestOfA() ]
              let! (page: IPage) = w.SignIn("olga", "olga-pw")
              let! _ = goto page (w.Url + sprintf "/ui/queue?tenant=%O&status=pending" w.TenantA)

              let! (rows: string[]) =
                  page.EvaluateExpressionAsync<string[]>(
                      "[...document.querySelectorAll('#queue tbody tr td.status')].map(t => t.textContent)"
                  )

              Expect.isTrue
                  (rows.Length >= 3 && rows |> Array.forall ((=) "pending"))
                  "only pending requests of tenant A are listed"

              let! _ = goto page (w.Url + "/ui/queue?q=" + ids[0])

              let! links =
                  page.EvaluateExpressionAsync<string[]>(
                      "[...document.querySelectorAll('#queue tbody a')].map(a => a.getAttribute('href'))"
                  )

              Expect.equal links [| "/ui/requests/" + ids[0] |] "a search by id finds exactly that request"
              let! code = goto page (w.Url + "/ui/queue?status=bogus")
              let! error = text page "#error"
              Expect.equal code 422 "a bad filter is a 422"
              Expect.stringContains error "status must be one of" "the error names the field"
              do! w.Shot page "queue"
          }

          testTask "the requester retracts through the request page; the store records it with its actor" {
              let w: World = theWorld ()
              let id = w.RequestOfA()
              let! (page: IPage) = w.SignIn("alice", "alice-pw")
              let! _ = goto page (w.Url + "/ui/requests/" + id)
              do! w.Shot page "request"
              do! page.TypeAsync("#retract-message", "not needed any more")
              let nav = page.WaitForNavigationAsync()
              do! page.ClickAsync "#retract"
              let! _ = nav
              let! shown = text page "#request-status"
              Expect.equal shown "retracted" "the page shows the new status"
              Expect.equal (status w id) (Some "retracted") "the store holds the retraction"
              let last = w.Service.Store.HistoryAsync(Guid.Parse id).Result |> Seq.last

              Expect.equal
                  (last.Actor, last.Message)
                  ("alice", "not needed any more")
                  "the event names the actor and the message"

              do! w.Shot page "request-retracted"
          }

          testTask "an observer sees the request without buttons, and a posted retract is refused" {
              let w: World = theWorld ()
              let id = w.RequestOfA()
              let! (page: IPage) = w.SignIn("olga", "olga-pw")
              let! _ = goto page (w.Url + "/ui/requests/" + id)
              let! button = page.QuerySelectorAsync "#retract"
              Expect.isNull button "no retract button for an observer"
              let! token = pageToken page

              let! code =
                  postForm page (sprintf "/ui/requests/%s/retract" id) (Some token) [ "message", "observer tries" ]

              Expect.equal code 403 "the observer's retract is refused"
              Expect.equal (status w id) (Some "pending") "the request is untouched"
          }

          testTask "a request posted through the generated form is in the store, temperature converted to kelvin" {
              let w = theWorld ()
              let! (page: IPage) = w.SignIn("alice", "alice-pw")
              let! _ = goto page (w.Url + "/ui/new?capability=" + string (polyCapability w))

              for row, (key, fraction) in
                  List.indexed
                      [ "AXPLOJNSKRXQPA-UHFFFAOYSA-N", "0.1"
                        "KMTRUDSVKNLOMY-UHFFFAOYSA-N", "0.25"
                        "RUOJZAUFBMNUDX-UHFFFAOYSA-N", "0.65" ] do
                  let! _ = page.SelectAsync(sprintf "#f-formulation-chemical-%d" row, key)
                  do! page.TypeAsync(sprintf "#f-formulation-fraction-%d" row, fraction)

              do! page.TypeAsync("#f-temperature", "25")
              let! _ = page.SelectAsync("#u-temperature", "celsius")
              do! w.Shot page "new-request"
              let nav = page.WaitForNavigationAsync()
              do! page.ClickAsync "#post-request"
              let! _ = nav
              Expect.stringStarts page.Url (w.Url + "/ui/requests/") "the new request's page opens"
              let id = Guid.Parse(page.Url.Substring(page.Url.LastIndexOf '/' + 1))
              let row = w.Service.Store.RequestAsync(id).Result
              Expect.isNotNull (box row) "the request is in the store"
              let body = JsonDocument.Parse(row.Body).RootElement.Clone()

              let p = body.GetProperty("parameters").GetProperty("polynomial_interpolation")

              Expect.floatClose
                  Accuracy.high
                  (p.GetProperty("temperature").GetDouble())
                  298.15
                  "25 °C is stored as 298.15 K"

              Expect.equal (p.GetProperty("formulation").GetArrayLength()) 3 "three components"

              Expect.equal (body.GetProperty("tenant_uuid").GetString()) (w.TenantA.ToString "D") "posted for tenant A"

              let last = w.Service.Store.HistoryAsync(id).Result |> Seq.last
              Expect.equal last.Actor "alice" "the creation event names alice"
          }

          testTask "fractions that do not sum to 1 get an error naming the field, and nothing is stored" {
              let w = theWorld ()
              let! (page: IPage) = w.SignIn("alice", "alice-pw")

              let before =
                  w.Service.Store.StatusCountsAsync().Result |> Seq.sumBy (fun kv -> kv.Value)

              let! _ = goto page (w.Url + "/ui/new?capability=" + string (polyCapability w))
              let! _ = page.SelectAsync("#f-formulation-chemical-0", "AXPLOJNSKRXQPA-UHFFFAOYSA-N")
              do! page.TypeAsync("#f-formulation-fraction-0", "0.1")
              let! _ = page.SelectAsync("#f-formulation-chemical-1", "KMTRUDSVKNLOMY-UHFFFAOYSA-N")
              do! page.TypeAsync("#f-formulation-fraction-1", "0.5")
              do! page.TypeAsync("#f-temperature", "300")
              let nav = page.WaitForNavigationAsync()
              do! page.ClickAsync "#post-request"
              let! (response: IResponse) = nav
              let! error = text page "#error"
              Expect.equal (int response.Status) 422 "the form is refused with 422"

              Expect.equal
                  error
                  "formulation.fraction: the fractions sum to 0.6; they must sum to 1"
                  "the error names the field and the sum"

              let! kept =
                  page.EvaluateExpressionAsync<string>("document.querySelector('#f-formulation-fraction-1').value")

              Expect.equal kept "0.5" "the typed values are kept"
              do! w.Shot page "new-request-error"

              let after =
                  w.Service.Store.StatusCountsAsync().Result |> Seq.sumBy (fun kv -> kv.Value)

              Expect.equal after before "nothing was stored"
              let! _ = page.EvaluateExpressionAsync("document.querySelector('#f-formulation-fraction-1').value = '0.9'")
              let! _ = page.EvaluateExpressionAsync("document.querySelector('#f-temperature').value = '400'")
              let nav = page.WaitForNavigationAsync()
              do! page.ClickAsync "#post-request"
              let! _ = nav
              let! error = text page "#error"
              Expect.stringContains error "temperature" "a temperature outside every tenant's limitations is named"
          }

          testTask "admin creates a user on the users page, who then signs in" {
              let w: World = theWorld ()
              let! (page: IPage) = w.SignIn("admin", adminPassword)
              let! _ = goto page (w.Url + "/ui/admin/users")
              do! page.TypeAsync("#new-username", "carol")
              do! page.TypeAsync("#new-password", "carol-pw")
              let nav = page.WaitForNavigationAsync()
              do! page.ClickAsync "#create"
              let! _ = nav
              let! notice = text page "#notice"
              Expect.equal notice "Created user carol." "the page confirms"
              do! w.Shot page "admin-users"
              let! (carol: IPage) = w.SignIn("carol", "carol-pw")
              let! who = text carol "#whoami"
              Expect.equal who "carol (observer)" "carol is signed in as an observer"

              for p in [ "tenants"; "capabilities" ] do
                  let! _ = goto page (w.Url + "/ui/admin/" + p)
                  do! w.Shot page ("admin-" + p)
          }

          testTask "every form refuses a missing or forged CSRF token" {
              let w: World = theWorld ()
              let id = w.RequestOfA()
              let! (page: IPage) = w.SignIn("admin", adminPassword)
              let actions = ResizeArray<string>()

              for p in
                  [ "/ui/overview"
                    "/ui/requests/" + id
                    "/ui/admin/users"
                    "/ui/admin/tenants"
                    "/ui/admin/capabilities"
                    "/ui/new?capability=" + string (polyCapability w) ] do
                  let! _ = goto page (w.Url + p)

                  let! found =
                      page.EvaluateExpressionAsync<string[]>(
                          "[...document.querySelectorAll('form[method=post]')].map(f => f.getAttribute('action'))"
                      )

                  actions.AddRange found

              let actions = actions |> Seq.distinct |> Seq.toList
              Expect.isGreaterThan actions.Length 8 "the pages hold many forms"

              for action in actions do
                  let! missing = postForm page action None [ "active", "false"; "message", "x" ]
                  Expect.equal missing 400 (action + " without a token is refused")
                  let! forged = postForm page action (Some "CfDJ8forged-token") [ "active", "false"; "message", "x" ]
                  Expect.equal forged 400 (action + " with a forged token is refused")

              Expect.equal (status w id) (Some "pending") "nothing was retracted"
              Expect.isTrue w.Service.Current.Users["admin"].IsActive "nobody was deactivated"
              // The sign-in form too.
              let! (anonymous: IBrowserContext) = w.Browser.CreateBrowserContextAsync()
              let! (fresh: IPage) = anonymous.NewPageAsync()
              let! _ = goto fresh (w.Url + "/ui/signin")
              let! code = postForm fresh "/ui/signin" None [ "username", "admin"; "password", adminPassword ]
              Expect.equal code 400 "sign-in without a token is refused"
          }

          testTask "a deactivated user's session stops at once" {
              let w: World = theWorld ()
              let! (admin: IPage) = w.SignIn("admin", adminPassword)
              let! _ = goto admin (w.Url + "/ui/admin/users")
              do! admin.TypeAsync("#new-username", "dave")
              do! admin.TypeAsync("#new-password", "dave-pw")
              let nav = admin.WaitForNavigationAsync()
              do! admin.ClickAsync "#create"
              let! _ = nav
              let! (dave: IPage) = w.SignIn("dave", "dave-pw")
              let! _ = goto dave (w.Url + "/ui/queue")
              Expect.equal dave.Url (w.Url + "/ui/queue") "dave's session works"
              let nav = admin.WaitForNavigationAsync()
              do! admin.ClickAsync "tr[data-user='dave'] button.toggle-active"
              let! _ = nav
              let! _ = goto dave (w.Url + "/ui/queue")
              Expect.stringStarts dave.Url (w.Url + "/ui/signin") "dave's next page sends him to sign-in"
          }

          testTask "a tenant role sees only its own tenants' requests and tenants" {
              let w: World = theWorld ()
              let mine = w.RequestOfA()
              let theirs = w.RequestOfB()
              let! (page: IPage) = w.SignIn("alice", "alice-pw")

              for p in [ "/ui/overview"; "/ui/queue"; "/ui/queue?status=pending" ] do
                  let! _ = goto page (w.Url + p)
                  let! (html: string) = page.GetContentAsync()
                  Expect.isFalse (html.Contains theirs) (p + " does not show tenant B's request")
                  Expect.isFalse (html.Contains(w.TenantB.ToString())) (p + " does not show tenant B")
                  Expect.isFalse (html.Contains "window.__pwned") (p + " does not show tenant B's name")

              let! _ = goto page (w.Url + "/ui/queue")
              let! (html: string) = page.GetContentAsync()
              Expect.stringContains html mine "alice sees her own request"
              let! code = goto page (w.Url + "/ui/requests/" + theirs)
              Expect.equal code 404 "tenant B's request is not found for alice"
              let! token = pageToken page
              let! code = postForm page (sprintf "/ui/requests/%s/retract" theirs) (Some token) [ "message", "x" ]
              Expect.equal code 404 "nor can she retract it"
              let! code = goto page (w.Url + "/ui/admin/users")
              Expect.equal code 403 "the admin pages are refused"
          }

          testTask "markup in a status message and a tenant name is shown as text" {
              let w: World = theWorld ()
              let id = w.RequestOfB()

              let hostileMessage =
                  "<script>window.__pwned = 2</script><img src=x onerror='window.__pwned = 3'>"

              w.Bob.Post(
                  sprintf
                      "/requests/%s/update_status/?request_id=%s&new_status=retracted&status_change_message=%s"
                      id
                      id
                      (Uri.EscapeDataString hostileMessage)
              )
              |> ignore

              let! (page: IPage) = w.SignIn("admin", adminPassword)

              for p in
                  [ "/ui/overview"
                    "/ui/queue"
                    "/ui/requests/" + id
                    "/ui/admin/tenants"
                    "/ui/admin/users" ] do
                  let! _ = goto page (w.Url + p)
                  let! pwned = page.EvaluateExpressionAsync<bool>("typeof window.__pwned !== 'undefined'")
                  Expect.isFalse pwned (p + " ran no stored script")

              let! _ = goto page (w.Url + "/ui/requests/" + id)

              let! shown =
                  page.EvaluateExpressionAsync<string[]>(
                      "[...document.querySelectorAll('#history td.message')].map(t => t.textContent)"
                  )

              Expect.contains shown hostileMessage "the message is shown literally"
              let! _ = goto page (w.Url + "/ui/overview")
              let! name = text page (sprintf "tr[data-tenant='%O'] th" w.TenantB)
              Expect.equal name hostileName "the tenant name is shown literally"
              do! w.Shot page "overview-escaped"
          } ]
