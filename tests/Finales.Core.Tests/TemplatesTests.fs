module Finales.Core.Tests.TemplatesTests

open System.Text.Json
open Expecto
open Finales.Core

let private capability q m = Corpus.capabilities |> Map.find (q, m)

let private templateOf (q: string) (m: string) (schema: string) =
    (CapabilitySchema.template ((capability q m).GetProperty(schema)))
        .ToJsonString(
            JsonSerializerOptions(Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)
        )

[<Tests>]
let tests =
    testList
        "Templates"
        [ test "the conductivity/two_electrode input template matches the FINALES2 reference format" {
              let expected =
                  """{"formulation":[{"chemical":{"SMILES":"required, str","InChIKey":"required, str"},"fraction":"required, float","fraction_type":"required, str"}],"temperature":"optional, float"}"""

              Expect.equal
                  (templateOf "conductivity" "two_electrode" "json_schema_specifications")
                  expected
                  "input template"
          }
          test
              "the conductivity/two_electrode output template renders nested optional objects and tuples like Python's str()" {
              let expected =
                  """{"run_info":{"formulation":[{"chemical":{"SMILES":"required, str","InChIKey":"required, str"},"fraction":"required, float","fraction_type":"required, str"}],"internal_reference":"required, str","formulation_info":"optional, {'name': 'optional, str', 'uuid': 'optional, str', 'preparation_date': 'optional, str', 'batch': 'optional, str', 'location': \"optional, {'address': 'required, str', 'detail_1': 'optional, str', 'detail_2': 'optional, str'}\"}","chemicals_info":"optional, {'optional, str': {'name': 'optional, str', 'molar_mass': \"optional, ('float', 'float')\", 'density': \"optional, ('float', 'float')\", 'batch': 'optional, str', 'manufacturer': 'optional, str', 'manufacturing_date': 'optional, str'}}"},"conductivity":{"values":["required, float"],"meta":{"success":"required, bool","rating":"required, int"},"temperature":"optional, float"}}"""

              Expect.equal
                  (templateOf "conductivity" "two_electrode" "json_schema_result_output")
                  expected
                  "output template"
          }
          test "the cycling_channel/service input template lists required and optional scalars" {
              let template = templateOf "cycling_channel" "service" "json_schema_specifications"
              Expect.stringContains template "\"number_required_channels\":\"required, int\"" "required int"
          }
          test "every capability template has one entry per schema property" {
              for KeyValue((q, m), c) in Corpus.capabilities do
                  for schema in [ "json_schema_specifications"; "json_schema_result_output" ] do
                      let s = c.GetProperty(schema)

                      let expected =
                          s.GetProperty("properties").EnumerateObject()
                          |> Seq.map (fun p -> p.Name)
                          |> List.ofSeq

                      let actual =
                          match CapabilitySchema.template s with
                          | :? System.Text.Json.Nodes.JsonObject as o -> o |> Seq.map (fun kv -> kv.Key) |> List.ofSeq
                          | _ -> []

                      Expect.equal actual expected (sprintf "%s/%s %s keys" q m schema)
          } ]
