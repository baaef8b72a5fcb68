/// Data integrity and one tenant's input against the others (issue 10), over real HTTP: duplicate members,
/// numbers beyond a double, invalid UTF-8 and lone surrogates are refused with 422 naming the path on every body
/// and nothing is stored; input caps; a tenant's poisoned stored limitations never fail another tenant's request.
module Finales.Integration.Tests.IntegrityTests

open System
open System.Net.Http
open System.Text
open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open Finales.Broker
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

let private utf8 (s: string) = Encoding.UTF8.GetBytes s

/// Sends `bytes` as they are (the Api helper sends text, which cannot hold invalid UTF-8).
let private sendBytes (api: Api) (method: HttpMethod) (path: string) (bytes: byte[]) (contentType: string) : Reply =
    use msg = new HttpRequestMessage(method, api.Url + path)

    match api.Token with
    | Some t -> msg.Headers.Authorization <- Headers.AuthenticationHeaderValue("Bearer", t)
    | None -> ()

    msg.Content <- new ByteArrayContent(bytes)
    msg.Content.Headers.ContentType <- Headers.MediaTypeHeaderValue.Parse contentType
    use r = http.Send msg

    { Status = int r.StatusCode
      Body = r.Content.ReadAsStringAsync().Result
      Headers = r.Headers }

/// The `loc` of the first problem of a 422 answer.
let private loc (r: Reply) =
    [ for x in r.Detail[0].GetProperty("loc").EnumerateArray() -> x.ToString() ]

let private expect422At (r: Reply) (path: string list) (what: string) =
    expectStatus r 422 what
    Expect.equal (loc r) path (sprintf "%s: loc of %s" what r.Body)

/// Counts of what a client can read back: requests, results, users, and the served limitations.
let private state (w: World) =
    w.RequestCount(), w.ResultCount(), w.Admin.Get("/admin/users").Body, w.Admin.Get("/tenants/").Body

let private inchiKey = "AXPLOJNSKRXQPA-UHFFFAOYSA-N"

let private limitationsOf (limits: string) =
    sprintf """[{"quantity":"conductivity","method":"polynomial_interpolation","limitations":%s}]""" limits

/// Invalid UTF-8 and lone surrogates as they appear between the quotes of a JSON string.
let private badText: (string * byte[]) list =
    [ "0xFF", [| 0xFFuy |]
      "lone continuation 0x80", [| 0x80uy |]
      "overlong '/' C0 AF", [| 0xC0uy; 0xAFuy |]
      "overlong E0 80 AF", [| 0xE0uy; 0x80uy; 0xAFuy |]
      "encoded surrogate ED A0 80", [| 0xEDuy; 0xA0uy; 0x80uy |]
      "truncated E2 82", [| 0xE2uy; 0x82uy |]
      "truncated F0 9F 98", [| 0xF0uy; 0x9Fuy; 0x98uy |]
      "beyond U+10FFFF", [| 0xF4uy; 0x90uy; 0x80uy; 0x80uy |]
      "escaped \\ud800", utf8 "\\ud800"
      "escaped \\udc00", utf8 "\\udc00"
      "escaped \\ud800 then A", utf8 "\\ud800\\u0041"
      "escaped NUL", utf8 "\\u0000" ]

/// `text` with every occurrence of `marker` replaced by `bytes`.
let private splice (text: string) (marker: string) (bytes: byte[]) =
    let parts = text.Split(marker)

    [| for i, p in Array.indexed parts do
           if i > 0 then
               yield! bytes

           yield! utf8 p |]

let suite (f: StoreFactory) (w: Lazy<World>) (poisoned: Lazy<World>) =
    testSequenced
    <| testList
        (f.Name + " integrity")
        [ test "a member named twice is refused with 422 naming its path on every body; nothing is stored" {
              let w = w.Value
              let request = w.PolyRequest w.TenantA
              let id = w.NewRequest()
              let before = state w

              // The case of the issue: validated on one copy (250), a worker would read the other (9999).
              expect422At
                  (w.A.Post(
                      "/requests/",
                      request.Replace("\"temperature\":250", "\"temperature\":250,\"temperature\":9999")
                  ))
                  [ "body"; "parameters"; "polynomial_interpolation"; "temperature" ]
                  "temperature twice"

              let node = jsonNode request
              let parameters = node["parameters"].["polynomial_interpolation"].ToJsonString()

              let twice =
                  request.Replace(
                      "\"polynomial_interpolation\":" + parameters,
                      sprintf
                          "\"polynomial_interpolation\":%s,\"polynomial_interpolation\":%s"
                          parameters
                          (parameters.Replace("\"temperature\":250", "\"temperature\":9999"))
                  )

              Expect.notEqual twice request "the parameters object was doubled"

              expect422At
                  (w.A.Post("/requests/", twice))
                  [ "body"; "parameters"; "polynomial_interpolation" ]
                  "parameters.<method> twice"

              expect422At
                  (w.A.Post(
                      "/results/",
                      w.PolyResult(w.TenantA, id).Replace("\"data\":{", "\"data\":{\"x\":1,\"x\":2,")
                  ))
                  [ "body"; "data"; "x" ]
                  "result data"

              expect422At
                  (w.A.Post(
                      "/results/post_unsolicited_result",
                      w.PolyResult(w.TenantA, "").Replace("\"data\":{", "\"data\":{\"x\":1,\"x\":2,")
                  ))
                  [ "body"; "data"; "x" ]
                  "unsolicited result data"

              expect422At
                  (w.A.Put(
                      sprintf "/tenants/%O/limitations" w.TenantA,
                      limitationsOf """{"temperature":[{"min":243,"max":333}],"temperature":[]}"""
                  ))
                  [ "body"; "0"; "limitations"; "temperature" ]
                  "limitations"

              expect422At
                  (w.Admin.Post("/admin/users", """{"username":"dup-a","password":"pw-pw-pw","username":"dup-b"}"""))
                  [ "body"; "username" ]
                  "admin user"

              expect422At
                  (w.Admin.Post(
                      "/admin/tenants",
                      sprintf
                          """{"name":"dup","contact_person":"x","limitations":%s}"""
                          (limitationsOf """{"temperature":[{"min":1,"max":2}],"temperature":[]}""")
                  ))
                  [ "body"; "limitations"; "0"; "limitations"; "temperature" ]
                  "admin tenant"

              Expect.equal (state w) before "nothing stored"
          }

          test "numbers beyond a double are refused with 422 naming the path where numbers enter; nothing is stored" {
              let w = w.Value
              let id = w.NewRequest()
              let before = state w

              for number in [ "1e400"; "-1e400"; "2e308"; String('9', 401) ] do
                  expect422At
                      (w.A.Post(
                          "/requests/",
                          w.PolyRequest(w.TenantA).Replace("\"temperature\":250", "\"temperature\":" + number)
                      ))
                      [ "body"; "parameters"; "polynomial_interpolation"; "temperature" ]
                      ("parameters " + number.Substring(0, min 10 number.Length))

                  expect422At
                      (w.A.Post(
                          "/results/",
                          w.PolyResult(w.TenantA, id).Replace("\"data\":{", "\"data\":{\"x\":" + number + ",")
                      ))
                      [ "body"; "data"; "x" ]
                      "result data"

                  expect422At
                      (w.A.Put(
                          sprintf "/tenants/%O/limitations" w.TenantA,
                          limitationsOf (sprintf """{"temperature":[{"min":243,"max":%s}]}""" number)
                      ))
                      [ "body"; "0"; "limitations"; "temperature"; "0"; "max" ]
                      "limitations"

                  expect422At
                      (w.Admin.Post(
                          "/admin/tenants",
                          sprintf """{"name":"big","contact_person":"x","limitations":[],"x":%s}""" number
                      ))
                      [ "body"; "x" ]
                      "admin tenant"

              Expect.equal (state w) before "nothing stored"
          }

          test
              "invalid UTF-8 and lone surrogates in values and names are refused with 4xx naming the path; nothing is stored or altered" {
              let w = w.Value
              let id = w.NewRequest()
              let before = state w
              let request = w.PolyRequest w.TenantA
              let result = w.PolyResult(w.TenantA, id)
              let unsolicited = w.PolyResult(w.TenantA, "")
              let mutable bodies = 0

              for name, bad in badText do
                  let cases =
                      [ "POST",
                        "/requests/",
                        splice request inchiKey (Array.concat [ utf8 "AXPL"; bad; utf8 "N" ]),
                        Some
                            [ "body"
                              "parameters"
                              "polynomial_interpolation"
                              "formulation"
                              "0"
                              "chemical"
                              "InChIKey" ]
                        "POST",
                        "/requests/",
                        splice request "\"temperature\"" (Array.concat [ utf8 "\"temp"; bad; utf8 "\"" ]),
                        Some [ "body"; "parameters"; "polynomial_interpolation" ]
                        "POST",
                        "/results/",
                        splice result "\"data\":{" (Array.concat [ utf8 "\"data\":{\"s\":\"x"; bad; utf8 "\"," ]),
                        Some [ "body"; "data"; "s" ]
                        "POST",
                        "/results/post_unsolicited_result",
                        splice unsolicited "\"data\":{" (Array.concat [ utf8 "\"data\":{\"s"; bad; utf8 "\":1," ]),
                        Some [ "body"; "data" ]
                        "PUT",
                        sprintf "/tenants/%O/limitations" w.TenantA,
                        splice (limitationsOf """{"formulation":[[{"chemical":{"SMILES":"MARK"}}]]}""") "MARK" bad,
                        Some [ "body"; "0"; "limitations"; "formulation"; "0"; "0"; "chemical"; "SMILES" ]
                        "POST",
                        "/admin/users",
                        splice """{"username":"uMARK","password":"pw-pw-pw"}""" "MARK" bad,
                        Some [ "body"; "username" ] ]

                  for verb, path, body, at in cases do
                      let api = if path.StartsWith "/admin" then w.Admin else w.A
                      let r = sendBytes api (HttpMethod verb) path body "application/json"
                      bodies <- bodies + 1

                      if r.Status < 400 || r.Status >= 500 then
                          failtestf "%s %s with %s answered %d: %s" verb path name r.Status r.Body

                      match at with
                      | Some p -> expect422At r p (sprintf "%s %s with %s" verb path name)
                      | None -> ()

              Expect.isGreaterThanOrEqual bodies 44 "at least the 44 bodies of the issue"
              Expect.equal (state w) before "nothing stored"

              Expect.isFalse
                  (w.Admin.Get("/all_requests/").Body.Contains "\uFFFD")
                  "no stored text holds a replacement character"
          }

          test "query-string and form values holding invalid text answer 4xx or 2xx, never 500" {
              let w = w.Value

              for query in [ "%FF"; "%ED%A0%80"; "%C0%AF"; "%E2%82"; "%F4%90%80%80"; "%00" ] do
                  for r in
                      [ w.A.Get("/pending_requests/?quantity=" + query + "&method=" + query)
                        w.A.Get("/results_requested/?quantity=" + query)
                        w.A.Post("/requests/claim?quantity=" + query + "&method=" + query)
                        w.A.Get("/capabilities/?currently_available=" + query)
                        w.A.Post("/requests/" + query + "/update_status/?new_status=" + query)
                        w.Admin.Post("/admin/users/" + query, """{"is_active":true}""")
                        w.A.Post(
                            sprintf
                                "/requests/%s/update_status/?new_status=reserved&status_change_message=%s"
                                (w.NewRequest())
                                query
                        ) ] do
                      Expect.isLessThan r.Status 500 (sprintf "%s: %d %s" query r.Status r.Body)

                  // (A NUL in a login form is the authentication work's case, not invalid text.)
                  let form =
                      utf8 (
                          "username=alice"
                          + query.Replace("%00", "")
                          + "&password="
                          + query.Replace("%00", "x")
                      )

                  let r =
                      sendBytes
                          (Api(w.Url))
                          HttpMethod.Post
                          "/user_management/authenticate"
                          form
                          "application/x-www-form-urlencoded"

                  Expect.isLessThan r.Status 500 (sprintf "form %s: %d %s" query r.Status r.Body)

                  let raw =
                      Array.concat
                          [ utf8 "username=alice"
                            [| 0xFFuy; 0xEDuy; 0xA0uy; 0x80uy |]
                            utf8 "&password=x" ]

                  let r =
                      sendBytes
                          (Api(w.Url))
                          HttpMethod.Post
                          "/user_management/authenticate"
                          raw
                          "application/x-www-form-urlencoded"

                  Expect.isLessThan r.Status 500 (sprintf "raw form bytes: %d %s" r.Status r.Body)
          }

          test
              "input caps: 40,000 methods, 1,001 formulation rows, oversized limitations are 422 naming field and limit" {
              let w = w.Value
              let before = state w
              let request = jsonNode (w.PolyRequest w.TenantA)

              let methods =
                  JsonArray([| for i in 1..40000 -> JsonValue.Create(sprintf "method-%05d" i) :> JsonNode |])

              request["methods"] <- methods
              let r = w.A.Post("/requests/", request.ToJsonString())
              expect422At r [ "body"; "methods" ] "40,000 methods"
              Expect.stringContains r.Body "at most 64" "names the limit"

              let request = jsonNode (w.PolyRequest w.TenantA)

              let formulation =
                  request["parameters"].["polynomial_interpolation"].["formulation"].AsArray()

              let row = formulation[0].ToJsonString()

              let rows = JsonArray([| for _ in 1..1001 -> JsonNode.Parse row |])

              request["parameters"].["polynomial_interpolation"].["formulation"] <- rows
              let r = w.A.Post("/requests/", request.ToJsonString())
              expect422At r [ "body"; "parameters"; "polynomial_interpolation"; "formulation" ] "1,001 rows"
              Expect.stringContains r.Body "at most 1000" "names the limit"

              let entries =
                  String.Join(
                      ",",
                      Seq.init 300 (fun i ->
                          sprintf
                              """{"quantity":"q%d","method":"m","limitations":{"temperature":[{"min":1,"max":2}]}}"""
                              i)
                  )

              let r = w.A.Put(sprintf "/tenants/%O/limitations" w.TenantA, "[" + entries + "]")
              expectStatus r 422 "300 entries"
              Expect.stringContains r.Body "at most 256" "names the limit"

              let huge =
                  limitationsOf (
                      sprintf
                          """{"anyOf":[%s]}"""
                          (String.Join(
                              ",",
                              Seq.init 8000 (fun i -> sprintf """{"temperature":[{"min":%d,"max":%d}]}""" i (i + 1))
                          ))
                  )

              let r = w.A.Put(sprintf "/tenants/%O/limitations" w.TenantA, huge)
              expectStatus r 422 "over 256 KiB"
              Expect.stringContains r.Body "at most 262144" "names the limit"
              Expect.equal (state w) before "nothing stored"
          }

          test
              "a tenant's poisoned limitations (through the API or stored by an older version) never fail another tenant's request; nor does an unusable stored capability" {
              let w = poisoned.Value

              let poison =
                  limitationsOf
                      """{"formulation":[[{"chemical":{"SMILES":"\ud800","InChIKey":"X"},"fraction":[{"min":0,"max":1}]}]]}"""

              let r = w.B.Put(sprintf "/tenants/%O/limitations" w.TenantB, poison)

              expect422At
                  r
                  [ "body"; "0"; "limitations"; "formulation"; "0"; "0"; "chemical"; "SMILES" ]
                  "through the API"

              // As an older version would have stored it: written into the store directly, then a restart.
              w.Broker.Kill()

              do
                  use store =
                      match w.Broker.Store with
                      | Sqlite path -> SqlBrokerStore.OpenSqlite path
                      | Postgres cs -> SqlBrokerStore.OpenPostgres cs

                  Expect.isTrue (store.SetTenantLimitationsAsync(w.TenantB, poison).Result) "stored directly"
                  // And a capability version whose schema holds a lone surrogate.
                  store
                      .AddCapabilityAsync(
                          "poisoned",
                          "m",
                          """{"type":"object","properties":{"x":{"enum":["\ud800"]}}}""",
                          "{}"
                      )
                      .Result
                  |> ignore

              w.Broker.Start() |> ignore

              for _ in 1..2 do
                  let inside = w.A.Post("/requests/", w.PolyRequest(w.TenantA))
                  expectStatus inside 200 "tenant A's request inside its own limitations"

                  let outside = w.A.Post("/requests/", w.PolyRequest(w.TenantA, 400.0))

                  expect422At
                      outside
                      [ "body"; "parameters"; "polynomial_interpolation"; "temperature" ]
                      "tenant A's request outside its own limitations, judged by them"

                  expectStatus (w.A.Get "/limitations/") 200 "limitations"
                  expectStatus (w.A.Get "/capabilities/") 200 "capabilities"
                  expectStatus (w.B.Get "/tenants/") 200 "tenants"
                  expectStatus (w.B.Get "/capabilities/templates/?currently_available=false") 200 "templates"

                  let own =
                      sprintf
                          """{"quantity":"poisoned","methods":["m"],"parameters":{"m":{"x":"a"}},"tenant_uuid":"%O"}"""
                          w.TenantA

                  expect422At
                      (w.A.Post("/requests/", own))
                      [ "body"; "methods"; "0" ]
                      "the unusable capability is not offered"

              Expect.stringContains w.Broker.Log "not usable" "the unusable entry is logged"
          } ]
