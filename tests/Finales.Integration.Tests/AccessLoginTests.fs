/// Logging in (issue 10): failed-login limits per address and per user on a fake clock, and hostile login shapes;
/// over real HTTP, once per store.
module Finales.Integration.Tests.AccessLoginTests

open System
open System.IO
open System.Net.Http
open System.Text
open System.Text.Json
open System.Threading
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Integration.Tests.Harness
open Finales.Integration.Tests.World

/// Posts a login form; the reply as the server gave it.
let login (url: string) (user: string) (password: string) =
    use form =
        new FormUrlEncodedContent(dict [ "username", user; "password", password ])

    use r = http.PostAsync(url + "/user_management/authenticate", form).Result

    { Status = int r.StatusCode
      Body = r.Content.ReadAsStringAsync().Result
      Headers = r.Headers }

/// Posts raw bytes to the login route with the given content type (null: none).
let rawLogin (url: string) (contentType: string) (body: byte[]) =
    use content = new ByteArrayContent(body)

    if not (isNull contentType) then
        content.Headers.TryAddWithoutValidation("Content-Type", contentType) |> ignore

    use r = http.PostAsync(url + "/user_management/authenticate", content).Result

    { Status = int r.StatusCode
      Body = r.Content.ReadAsStringAsync().Result
      Headers = r.Headers }

let logins (f: StoreFactory) (w: Lazy<World>) =
    testList
        "login"
        [ test "failed logins are limited per address with 429 and Retry-After; the user logs in after the window" {
              // 3 failures per address, 5 per user, 2 s windows, on a fake clock: the window passes by advancing it.
              let time = FakeTimeProvider(DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero))

              use broker =
                  new InProcessBroker(
                      f.Make "limited",
                      time,
                      fun o ->
                          o.LoginFailuresPerAddress <- 3
                          o.LoginFailuresPerUser <- 5
                          o.LoginFailureWindow <- TimeSpan.FromSeconds 2.0
                  )

              let admin = Api.Login(broker.Url, "admin", adminPassword)
              addUser admin "alice" [ "tenant" ] []

              for i in 1..10 do
                  expectStatus
                      (login broker.Url "alice" "alice-pw")
                      200
                      (sprintf "successful login %d is not counted" i)

              for i in 1..3 do
                  expectStatus (login broker.Url "alice" "wrong") 401 (sprintf "failure %d" i)

              let blocked = login broker.Url "alice" "alice-pw"
              expectStatus blocked 429 "even the right password while the address is blocked"
              Expect.isTrue blocked.Headers.RetryAfter.Delta.HasValue "Retry-After in seconds"
              Expect.isGreaterThan blocked.Headers.RetryAfter.Delta.Value.TotalSeconds 0.0 "Retry-After > 0"

              Expect.equal blocked.Headers.RetryAfter.Delta.Value (TimeSpan.FromSeconds 2.0) "the whole window is left"

              expectStatus (login broker.Url "nobody" "x") 429 "any user from this address"

              time.Advance(TimeSpan.FromSeconds 1.5)
              let later = login broker.Url "alice" "alice-pw"
              expectStatus later 429 "still blocked within the window"

              Expect.equal
                  later.Headers.RetryAfter.Delta.Value
                  (TimeSpan.FromSeconds 1.0)
                  "half a second left, rounded up"

              time.Advance(TimeSpan.FromSeconds 0.5)
              expectStatus (login broker.Url "alice" "alice-pw") 200 "alice may log in after the window"
          }
          test "a token expires at the end of its lifetime and a fresh login works again" {
              let time = FakeTimeProvider(DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero))

              use broker =
                  new InProcessBroker(f.Make "tokenlife", time, fun o -> o.TokenLifetime <- TimeSpan.FromMinutes 30.0)

              let admin = Api.Login(broker.Url, "admin", adminPassword)
              expectStatus (admin.Get "/test") 200 "a fresh token"
              time.Advance(TimeSpan.FromMinutes 29.0)
              expectStatus (admin.Get "/test") 200 "valid a minute before its end"
              time.Advance(TimeSpan.FromMinutes 1.0)
              let r = admin.Get "/test"
              expectStatus r 401 "expired"

              Expect.equal (r.Detail.GetString()) "Authentication failed. Wrong username or password." "the usual 401"

              expectStatus (Api.Login(broker.Url, "admin", adminPassword).Get "/test") 200 "a new login"
          }
          test "14 hostile login shapes answer 4xx, never 500, and the broker stays up" {
              let w = w.Value
              let form = "application/x-www-form-urlencoded"
              let utf8 (s: string) = Encoding.UTF8.GetBytes s

              let many =
                  String.Join("&", [ for i in 1..2000 -> sprintf "f%d=%d" i i ])
                  + "&username=alice&password=x"

              let multipart (boundary: string) (body: string) =
                  "multipart/form-data; boundary=" + boundary, utf8 body

              let part (b: string) =
                  sprintf
                      "--%s\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--%s\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nwrong\r\n--%s--\r\n"
                      b
                      b
                      b

              let shapes =
                  [ "5 MB password", form, utf8 ("username=alice&password=" + String('x', 5 * 1024 * 1024))
                    "2,000 form fields", form, utf8 many
                    "NUL in the username", form, utf8 "username=al%00ice&password=x"
                    "raw NUL in the username",
                    form,
                    Array.concat [ utf8 "username=al"; [| 0uy |]; utf8 "ice&password=x" ]
                    "multipart, broken boundary", fst (multipart "abc" (part "xyz")), snd (multipart "abc" (part "xyz"))
                    "multipart, missing boundary", "multipart/form-data", utf8 (part "abc")
                    "multipart, truncated",
                    fst (multipart "abc" ""),
                    utf8 "--abc\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nali"
                    "multipart, 300-character boundary",
                    fst (multipart (String('b', 300)) ""),
                    utf8 (part (String('b', 300)))
                    "multipart, wrong password", fst (multipart "abc" ""), utf8 (part "abc")
                    "JSON instead of a form", "application/json", utf8 """{"username":"alice","password":"x"}"""
                    "no content type", null, utf8 "username=alice&password=x"
                    "broken percent-encoding", form, utf8 "username=%zz&password=%"
                    "invalid UTF-8", form, Array.concat [ utf8 "username="; [| 0xffuy; 0xfeuy |]; utf8 "&password=x" ]
                    "a 100 KB username", form, utf8 ("username=" + String('u', 100 * 1024) + "&password=x") ]

              Expect.equal shapes.Length 14 "14 shapes"

              for name, ct, body in shapes do
                  let r = rawLogin w.Url ct body

                  Expect.isTrue (r.Status >= 400 && r.Status < 500) (sprintf "%s: 4xx, got %d %s" name r.Status r.Body)

                  Expect.isLessThan r.Body.Length 2000 (name + ": a short answer")

              expectStatus (login w.Url "alice" "alice-pw") 200 "alive"
          }
          test "admin routes given a JSON body that is not an object answer 422 naming the body" {
              let w = w.Value
              let before = w.Admin.Get("/admin/users").Json.GetArrayLength()

              for route in
                  [ "/admin/users"
                    "/admin/users/alice"
                    "/admin/capabilities"
                    "/admin/tenants" ] do
                  for body in [ "[]"; "\"x\""; "1"; "null"; "true" ] do
                      let r = w.Admin.Post(route, body)
                      expectStatus r 422 (sprintf "%s with %s" route body)

                      Expect.equal
                          [ for x in r.Detail[0].GetProperty("loc").EnumerateArray() -> x.GetString() ]
                          [ "body" ]
                          "loc names the body"

                      Expect.stringContains (r.Detail[0].GetProperty("msg").GetString()) "object" "says what it must be"

              Expect.equal (w.Admin.Get("/admin/users").Json.GetArrayLength()) before "nothing stored"
              expectStatus (w.A.Get "/test") 200 "alice unchanged"
          } ]
