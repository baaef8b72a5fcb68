module Finales.Core.Tests.WireTests

open System
open System.Text.Json
open Expecto
open Finales.Core

let private parse (s: string) =
    JsonDocument.Parse(s).RootElement.Clone()

let private decodeRequest s = Wire.request [ "body" ] (parse s)

let private paths (r: Result<'a, ValidationIssue list>) =
    match r with
    | Ok _ -> []
    | Error es -> es |> List.map (fun e -> e.Path)

let valid =
    """{"quantity":"conductivity","methods":["m"],"parameters":{"m":{"temperature":300}},"tenant_uuid":"DABB0C83-C70A-4C45-A025-D4CF79CF3EF8"}"""

[<Tests>]
let tests =
    testList
        "Wire"
        [ test "a valid request decodes and encodes canonically (dashed lowercase tenant)" {
              match decodeRequest valid with
              | Ok r ->
                  Expect.equal r.Methods [ "m" ] "methods"

                  Expect.stringContains
                      (Wire.encodeRequest r)
                      "\"tenant_uuid\":\"dabb0c83-c70a-4c45-a025-d4cf79cf3ef8\""
                      "canonical uuid"
              | Error e -> failtestf "%A" e
          }
          test "every problem is reported with its JSON path" {
              let r =
                  decodeRequest """{"quantity":5,"methods":"m","parameters":{"m":1},"tenant_uuid":"x"}"""

              Expect.equal
                  (paths r |> List.sort)
                  ([ [ "body"; "methods" ]
                     [ "body"; "parameters"; "m" ]
                     [ "body"; "quantity" ]
                     [ "body"; "tenant_uuid" ] ]
                   |> List.sort)
                  "all four paths"
          }
          test "missing fields are named" {
              let r = decodeRequest "{}"
              Expect.contains (paths r) [ "body"; "quantity" ] "quantity"
              Expect.contains (paths r) [ "body"; "tenant_uuid" ] "tenant_uuid"
          }
          test "empty methods, duplicate methods and parameters without a method are refused" {
              Expect.contains (paths (decodeRequest (valid.Replace("[\"m\"]", "[]")))) [ "body"; "methods" ] "empty"

              Expect.contains
                  (paths (decodeRequest (valid.Replace("[\"m\"]", "[\"m\",\"m\"]"))))
                  [ "body"; "methods"; "1" ]
                  "duplicate"

              Expect.contains
                  (paths (decodeRequest (valid.Replace("[\"m\"]", "[\"n\"]"))))
                  [ "body"; "parameters"; "m" ]
                  "parameters for an unlisted method"
          }
          test "UUIDs parse in every Python spelling and nothing else" {
              let g = Guid.NewGuid()

              for s in
                  [ g.ToString "D"
                    g.ToString "N"
                    g.ToString "B"
                    "urn:uuid:" + g.ToString "D"
                    (g.ToString "D").ToUpperInvariant() ] do
                  Expect.equal (WireFormat.tryParseUuid s) (Some g) s

              for s in [ ""; "xyz"; (g.ToString "N") + "0"; "{" + g.ToString "N" ] do
                  Expect.isNone (WireFormat.tryParseUuid s) s
          }
          test "ctime has microseconds and no offset" {
              let t = DateTime(2026, 11, 25, 11, 29, 20, DateTimeKind.Utc).AddTicks 2080L
              Expect.equal (WireFormat.ctime t) "2026-11-25T11:29:20.000208" "format"
          }
          test "a result must name exactly one method; unsolicited results may carry an empty request id" {
              let body =
                  """{"data":{},"quantity":"q","method":["a","b"],"parameters":{},"tenant_uuid":"dabb0c83-c70a-4c45-a025-d4cf79cf3ef8","request_uuid":""}"""

              Expect.contains (paths (Wire.result false [ "body" ] (parse body))) [ "body"; "method" ] "two methods"
              let one = body.Replace("[\"a\",\"b\"]", "[\"a\"]")
              Expect.isOk (Wire.result false [ "body" ] (parse one)) "unsolicited with empty id"

              Expect.contains
                  (paths (Wire.result true [ "body" ] (parse one)))
                  [ "body"; "request_uuid" ]
                  "solicited needs a UUID"
          } ]
