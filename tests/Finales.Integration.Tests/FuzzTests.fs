/// Generated malformed input (wrong types, missing fields, deep nesting, huge strings, invalid UUIDs,
/// non-JSON, wrong content types): only 4xx, nothing stored, the server stays alive.
module Finales.Integration.Tests.FuzzTests

open System
open System.Text
open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

/// Replaces, removes or retypes one node of a JSON tree, chosen by the seeded random source.
let rec private mutate (rnd: Random) (node: JsonNode) : JsonNode =
    let junk () : JsonNode =
        match rnd.Next 9 with
        | 0 -> JsonValue.Create "" :> JsonNode
        | 1 -> JsonValue.Create(-1e308) :> JsonNode
        | 2 -> JsonValue.Create true :> JsonNode
        | 3 -> JsonArray() :> JsonNode
        | 4 -> JsonObject() :> JsonNode
        | 5 -> JsonValue.Create "00000000-0000-0000-0000-00000000000g" :> JsonNode
        | 6 -> JsonValue.Create(String('x', 5000)) :> JsonNode
        | 7 -> JsonValue.Create "\u0000\uffff" :> JsonNode
        | _ -> null

    match node with
    | :? JsonObject as o when o.Count > 0 && rnd.Next 3 > 0 ->
        let keys = [ for kv in o -> kv.Key ]
        let k = keys[rnd.Next keys.Length]

        match rnd.Next 4 with
        | 0 -> o.Remove k |> ignore
        | 1 -> o[k] <- junk ()
        | _ ->
            if not (isNull o[k]) then
                o[k] <- mutate rnd (o[k].DeepClone())

        o :> JsonNode
    | :? JsonArray as a when a.Count > 0 && rnd.Next 3 > 0 ->
        let i = rnd.Next a.Count

        if rnd.Next 2 = 0 then
            a[i] <- junk ()
        elif not (isNull a[i]) then
            a[i] <- mutate rnd (a[i].DeepClone())

        a :> JsonNode
    | _ -> junk ()

let private deepNesting (depth: int) = String('[', depth) + String(']', depth)

let suite (f: StoreFactory) (w: Lazy<World>) =
    testSequenced
    <| testList
        (f.Name + " bad input")
        [ test "400 generated malformed bodies on the write routes: only 4xx, nothing stored, server alive" {
              let w = w.Value
              let rnd = Random 20261125
              let requests = w.RequestCount()
              let results = w.ResultCount()
              let id = w.NewRequest()
              let requests = requests + 1

              let bodies =
                  [ for i in 1..400 ->
                        let target, valid =
                            match i % 4 with
                            | 0 -> "/requests/", w.PolyRequest w.TenantA
                            | 1 -> "/results/", w.PolyResult(w.TenantA, id)
                            | 2 -> "/results/post_unsolicited_result", w.PolyResult(w.TenantA, "")
                            | _ -> "/requests/", w.PolyRequest w.TenantA

                        let body, ct =
                            match rnd.Next 10 with
                            | 0 -> valid.Substring(0, rnd.Next(valid.Length)), "application/json"
                            | 1 -> "this is not json {", "application/json"
                            | 2 -> valid, "text/plain"
                            | 3 -> deepNesting (200 + rnd.Next 5000), "application/json"
                            | 4 -> "\"" + String('a', 3_000_000) + "\"", "application/json"
                            | 5 -> valid.Replace(w.TenantA.ToString "D", "not-a-uuid"), "application/json"
                            | 6 -> "null", "application/json"
                            | _ ->
                                let n = jsonNode valid
                                let mutable m = mutate rnd n

                                for _ in 1 .. rnd.Next 3 do
                                    if not (isNull m) then
                                        m <- mutate rnd m

                                (if isNull m then "null" else m.ToJsonString()), "application/json"

                        target, body, ct ]

              let accepted = Collections.Generic.Dictionary<string, int>()

              for target, body, ct in bodies do
                  let r = w.A.Post(target, body, ct)

                  if r.Status >= 500 || r.Status < 200 then
                      failtestf
                          "%s answered %d to %s: %s"
                          target
                          r.Status
                          (body.Substring(0, min 200 body.Length))
                          r.Body
                  // A mutation can leave a body valid (e.g. an optional field removed): then 200 is right, and it is counted.
                  if r.Status = 200 then
                      accepted[target] <-
                          (match accepted.TryGetValue target with
                           | true, n -> n + 1
                           | _ -> 1)

              let count k =
                  match accepted.TryGetValue k with
                  | true, n -> n
                  | _ -> 0

              Expect.equal
                  (w.RequestCount() - requests)
                  (count "/requests/" + count "/results/post_unsolicited_result")
                  "exactly the accepted requests were stored"

              Expect.equal
                  (w.ResultCount() - results)
                  (count "/results/" + count "/results/post_unsolicited_result")
                  "exactly the accepted results were stored"

              Expect.isLessThan (count "/requests/") 100 "most mutants are rejected"
              expectStatus (Api(w.Url).Get "/healthz") 200 "alive"
              let audit = w.Admin.Get "/admin/audit"
              Expect.isTrue (audit.Json.GetProperty("ok").GetBoolean()) audit.Body
          }
          test "a body above the size limit is 413; garbage query strings and tokens are 4xx" {
              let w = w.Value
              let before = w.RequestCount()
              let big = "{\"quantity\":\"" + String('q', 9_000_000) + "\"}"

              use msg =
                  new Net.Http.HttpRequestMessage(Net.Http.HttpMethod.Post, w.Url + "/requests/")

              msg.Headers.Authorization <- Net.Http.Headers.AuthenticationHeaderValue("Bearer", w.A.Token.Value)
              msg.Headers.ExpectContinue <- true
              msg.Content <- new Net.Http.StringContent(big, Text.Encoding.UTF8, "application/json")
              use r = http.Send msg
              Expect.equal (int r.StatusCode) 413 "too large (rejected before the body is read)"

              for path in
                  [ "/requests/%zz/update_status/?new_status=reserved"
                    "/requests/claim?lease_seconds=abc"
                    "/pending_requests/?wait_seconds=-1"
                    "/results_requested/?min_rating=NaN"
                    "/requests/{}/update_status/?request_id=1&new_status=reserved" ] do
                  let r =
                      if path.StartsWith "/pending" || path.StartsWith "/results_requested" then
                          w.A.Get path
                      else
                          w.A.Post path

                  Expect.isTrue (r.Status >= 400 && r.Status < 500) (sprintf "%s -> %d %s" path r.Status r.Body)

              for token in
                  [ "a.b.c"
                    "....."
                    String('x', 10000)
                    "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9." ] do
                  Expect.equal
                      (Api(w.Url, token).Get("/test").Status)
                      401
                      ("token " + token.Substring(0, min 20 token.Length))

              Expect.equal (w.RequestCount()) before "nothing stored"
              expectStatus (Api(w.Url).Get "/healthz") 200 "alive"
          } ]
