module Finales.Core.Tests.LimitationsTests

open System
open System.Globalization
open System.Text.Json
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core

let private parseOk (e: JsonElement) =
    match Limitations.parse e with
    | Ok p -> p
    | Error message -> failwithf "does not parse: %s" message

let private num (x: float) =
    x.ToString("R", CultureInfo.InvariantCulture)

let private paths (r: Result<unit, ValidationIssue list>) =
    match r with
    | Ok() -> []
    | Error issues -> issues |> List.map (fun i -> i.Path) |> List.distinct |> List.sort

let private requestFor (q: string) (m: string) =
    Corpus.requests
    |> List.find (fun (_, rq, rm, _) -> rq = q && rm = m)
    |> fun (_, _, _, p) -> p

/// The verdict for every (limitation document, example request) pair of the corpus: the exact paths of the
/// violated limits ([] = admitted). Why each rejection is legitimate:
/// - capacity/cycling: the tenant runs formation at C/10 (0.1..0.1) and cuts CV off at <= 2 mA; the request asks
///   C-rate 1 for formation and a 1 A CV cutoff.
/// - conductivity/two_electrode (example and ASAB): the request holds DMC (COC(=O)OC), which the tenant does not
///   offer, EMC at 0.0895 where the tenant needs >= 0.4 (ASAB: >= 0.35), and 298.15 K where the tenant measures at 301.15 K only.
/// - conductivity/molecular_dynamics (aiida-finales): the tenant simulates LiPF6/EC/PC only; the request holds DMC and EMC.
/// - degradationEOL/degradation_model (example and EOF tenant): maximum charging rate 0.15 (tenant: exactly 1.0) and
///   minimum charging rate 0.7 (tenant: exactly 0.1).
/// - degradationEOL/degradation_workflow (example and Overlort): the request's cathode is LiCoO2 ([Li+].[O-][Co]=O),
///   which the tenant does not offer (material[0]), and the tenant's only cathode LiNiO2 must have fraction 1 but is
///   absent (material).
/// Admitted only vacuously (the limitation keys do not occur where the request has its values): cell_assembly
/// (limits under cell_info.batteryChemistry, the request uses cell.battery_chemistry) and electrolyte/flow (limits a
/// top-level formulation, the request has electrolyte.formulation).
let expectedVerdicts: Map<string * string * string, string list list> =
    let twoElectrode =
        [ [ "formulation"; "1" ]
          [ "formulation"; "2"; "fraction" ]
          [ "temperature" ] ]

    Map.ofList
        [ ("examples/limitations/capacity/cycling.json", "capacity", "cycling"),
          [ [ "CV_I_cutoff" ]
            [ "CV_I_cutoff_formation" ]
            [ "c_rate_charge_formation" ]
            [ "c_rate_discharge_formation" ] ]
          ("examples/limitations/cell_assembly/autobass_assembly.json", "cell_assembly", "autobass_assembly"), []
          ("examples/limitations/conductivity/polynomial_interpolation.json", "conductivity", "polynomial_interpolation"),
          []
          ("examples/limitations/conductivity/two_electrode.json", "conductivity", "two_electrode"), twoElectrode
          ("examples/limitations/degradationEOL/degradation_model.json", "degradationEOL", "degradation_model"),
          [ [ "maximum_charging_rate" ]; [ "minimum_charging_rate" ] ]
          ("examples/limitations/degradationEOL/degradation_workflow.json", "degradationEOL", "degradation_workflow"),
          [ [ "battery_chemistry"; "cathode"; "material" ]
            [ "battery_chemistry"; "cathode"; "material"; "0" ] ]
          ("examples/limitations/electrolyte/flow.json", "electrolyte", "flow"), []
          ("examples/tenants/cell_assembly/autobass_assembly.json", "cell_assembly", "autobass_assembly"), []
          ("examples/tenants/conductivity/ASAB.json", "conductivity", "two_electrode"), twoElectrode
          ("examples/tenants/conductivity/ASAB.json", "electrolyte", "flow"), []
          ("examples/tenants/conductivity/aiida_finales.json", "conductivity", "molecular_dynamics"),
          [ [ "formulation"; "1" ]; [ "formulation"; "2" ] ]
          ("examples/tenants/degradationEOL/degradation_model.json", "degradationEOL", "degradation_model"),
          [ [ "maximum_charging_rate" ]; [ "minimum_charging_rate" ] ]
          ("examples/tenants/degradationEOL/degradation_workflow.json", "degradationEOL", "degradation_workflow"),
          [ [ "battery_chemistry"; "cathode"; "material" ]
            [ "battery_chemistry"; "cathode"; "material"; "0" ] ]
          ("examples/tenants/transport/Transportation_tenant_tenant.json", "transport", "transport_service"), [] ]

let private limitationOf source q m =
    Corpus.limitations
    |> List.find (fun (s, lq, lm, _) -> s = source && lq = q && lm = m)
    |> fun (_, _, _, l) -> parseOk l

/// Limitations with one temperature range per alternative.
let private temperatureAlternatives (ranges: (float * float) list) =
    ranges
    |> List.map (fun (lo, hi) -> sprintf """{"temperature": [{"min": %s, "max": %s}]}""" (num lo) (num hi))
    |> String.concat ","
    |> sprintf "[%s]"
    |> Corpus.json
    |> parseOk

let private withTemperature (t: float) =
    Corpus.json (sprintf """{"temperature": %s}""" (num t))

let private rangeGen =
    gen {
        let! lo = Gen.choose (-100000, 100000) |> Gen.map (fun i -> float i / 100.0)
        let! width = Gen.choose (1, 100000) |> Gen.map (fun i -> float i / 100.0)
        return lo, lo + width
    }

let private formulationLimit (a: float) (b: float) =
    Corpus.json (
        sprintf
            """{"formulation": [[
                 {"chemical": {"SMILES": "C1COC(=O)O1", "InChIKey": "KMTRUDSVKNLOMY-UHFFFAOYSA-N"}, "fraction": [{"min": 0, "max": 0}, {"min": %s, "max": %s}], "fraction_type": ["molPerMol"]},
                 {"chemical": {"SMILES": "CCOC(=O)OC", "InChIKey": "JBTWLSYIZRCDFO-UHFFFAOYSA-N"}, "fraction": [{"min": 0, "max": 1}], "fraction_type": ["molPerMol"]}]]}"""
            (num a)
            (num b)
    )
    |> parseOk

let private formulationRequest (ecFraction: float option) (fractionType: string) =
    let ec =
        match ecFraction with
        | Some f ->
            sprintf
                """{"chemical": {"SMILES": "C1COC(=O)O1", "InChIKey": "KMTRUDSVKNLOMY-UHFFFAOYSA-N"}, "fraction": %s, "fraction_type": "%s"},"""
                (num f)
                fractionType
        | None -> ""

    Corpus.json (
        sprintf
            """{"formulation": [%s {"chemical": {"SMILES": "CCOC(=O)OC", "InChIKey": "JBTWLSYIZRCDFO-UHFFFAOYSA-N"}, "fraction": 0.5, "fraction_type": "%s"}]}"""
            ec
            fractionType
    )

[<Tests>]
let tests =
    testList
        "Limitations"
        [ test "every limitation example and tenant limitation parses" {
              Expect.equal Corpus.limitations.Length 14 "7 example documents and 7 tenant entries"

              for (source, q, m, l) in Corpus.limitations do
                  Expect.isOk (Limitations.parse l) (sprintf "%s %s/%s parses" source q m)
          }

          testList
              "each corpus pair gets its documented verdict"
              [ for KeyValue((source, q, m), expected) in expectedVerdicts ->
                    test (sprintf "%s on the %s/%s request" source q m) {
                        let verdict = Limitations.check [ limitationOf source q m ] (requestFor q m)
                        Expect.equal (paths verdict) (List.sort expected) "the violated limits, exactly"
                        Expect.equal (Result.isOk verdict) expected.IsEmpty "admitted iff nothing is violated"
                    } ]

          test "every corpus limitation has a documented verdict" {
              for (source, q, m, _) in Corpus.limitations do
                  Expect.isTrue (expectedVerdicts.ContainsKey(source, q, m)) (sprintf "%s %s/%s documented" source q m)
          }

          test "messages name the field, the value and the allowed range" {
              match
                  Limitations.check
                      [ limitationOf
                            "examples/limitations/conductivity/two_electrode.json"
                            "conductivity"
                            "two_electrode" ]
                      (requestFor "conductivity" "two_electrode")
              with
              | Ok() -> failtest "not admitted"
              | Error issues ->
                  let t = issues |> List.find (fun i -> i.Path = [ "temperature" ])
                  Expect.stringContains t.Message "298.15" "the value"
                  Expect.stringContains t.Message "301.15" "the allowed value"
                  Expect.equal t.Kind "limitations" "kind"
                  let f = issues |> List.find (fun i -> i.Path = [ "formulation"; "2"; "fraction" ])
                  Expect.stringContains f.Message "0.0895" "the fraction"
                  Expect.stringContains f.Message "0.4..1" "the range"
                  let c = issues |> List.find (fun i -> i.Path = [ "formulation"; "1" ])
                  Expect.stringContains c.Message "COC(=O)OC" "the unknown component"
          }

          test "the polynomial interpolation request at 250 K is admitted and at 400 K rejected at temperature" {
              let l =
                  limitationOf
                      "examples/limitations/conductivity/polynomial_interpolation.json"
                      "conductivity"
                      "polynomial_interpolation"

              let request = requestFor "conductivity" "polynomial_interpolation"
              Expect.isOk (Limitations.check [ l ] request) "250 K in 243..333"

              let hot =
                  Corpus.json (
                      request
                          .GetRawText()
                          .Replace("\"temperature\":250", "\"temperature\":400")
                          .Replace("\"temperature\": 250", "\"temperature\": 400")
                  )

              Expect.equal (paths (Limitations.check [ l ] hot)) [ [ "temperature" ] ] "400 K out of range"
          }

          test "a transport to a place the tenant does not serve is rejected at destination" {
              let l =
                  limitationOf
                      "examples/tenants/transport/Transportation_tenant_tenant.json"
                      "transport"
                      "transport_service"

              let request =
                  Corpus.json ((requestFor "transport" "transport_service").GetRawText().Replace("Tray: 7", "Tray: 99"))

              match Limitations.check [ l ] request with
              | Ok() -> failtest "Tray: 99 is not served"
              | Error issues ->
                  Expect.equal
                      (issues |> List.map (fun i -> i.Path))
                      [ [ "destination" ] ]
                      "the whole location is not among the admitted ones"

                  Expect.stringContains issues.Head.Message "Tray: 99" "names the value"
                  Expect.stringContains issues.Head.Message "88 in all" "says how many are admitted"
          }

          test "a listed component missing from the request must admit fraction 0" {
              let l =
                  parseOk (
                      Corpus.json
                          """{"formulation": [[{"chemical": {"SMILES": "A", "InChIKey": "KA"}, "fraction": [{"min": 0.1, "max": 0.2}]}, {"chemical": {"SMILES": "B", "InChIKey": "KB"}, "fraction": [{"min": 0, "max": 1}]}]]}"""
                  )

              let request =
                  Corpus.json
                      """{"formulation": [{"chemical": {"SMILES": "B", "InChIKey": "KB"}, "fraction": 1, "fraction_type": "molPerMol"}]}"""

              Expect.equal
                  (paths (Limitations.check [ l ] request))
                  [ [ "formulation" ] ]
                  "A is absent but needs 0.1..0.2"
          }

          test "components match by InChIKey when the SMILES are written differently" {
              let l =
                  parseOk (
                      Corpus.json
                          """{"formulation": [[{"chemical": {"SMILES": "O=C1OCCO1", "InChIKey": "KMTRUDSVKNLOMY-UHFFFAOYSA-N"}, "fraction": [{"min": 0, "max": 1}]}]]}"""
                  )

              let request =
                  Corpus.json
                      """{"formulation": [{"chemical": {"SMILES": "C1COC(=O)O1", "InChIKey": "KMTRUDSVKNLOMY-UHFFFAOYSA-N"}, "fraction": 1, "fraction_type": "molPerMol"}]}"""

              Expect.isOk (Limitations.check [ l ] request) "same InChIKey"
          }

          test "fraction types: molar fraction, mole fraction and mol/mol equal molPerMol; mass fraction does not" {
              let l = formulationLimit 0.1 0.3

              for spelling in
                  [ "molPerMol"
                    "molar fraction"
                    "mole fraction"
                    "mol/mol"
                    " Molar Fraction " ] do
                  Expect.isOk (Limitations.check [ l ] (formulationRequest (Some 0.2) spelling)) spelling

              Expect.equal
                  (paths (Limitations.check [ l ] (formulationRequest (Some 0.2) "mass fraction")))
                  [ [ "formulation"; "0"; "fraction_type" ]
                    [ "formulation"; "1"; "fraction_type" ] ]
                  "mass fraction is another quantity"
          }

          test "an empty list is unconstrained, null in the request is an omitted field, extra request keys are free" {
              let l =
                  parseOk (Corpus.json """{"cell_info": [], "rate": [{"min": 0, "max": 1}]}""")

              Expect.isOk
                  (Limitations.check [ l ] (Corpus.json """{"cell_info": {"x": 1}, "rate": null, "other": 5}"""))
                  "admitted"
          }

          test "minimum/maximum are read as min/max and a step restricts the grid" {
              let l =
                  parseOk (Corpus.json """{"volume": [{"minimum": 10, "maximum": 80, "step": 5}]}""")

              Expect.isOk (Limitations.check [ l ] (Corpus.json """{"volume": 35}""")) "on the grid"

              Expect.equal
                  (paths (Limitations.check [ l ] (Corpus.json """{"volume": 36}""")))
                  [ [ "volume" ] ]
                  "off the grid"

              Expect.equal
                  (paths (Limitations.check [ l ] (Corpus.json """{"volume": 85}""")))
                  [ [ "volume" ] ]
                  "above maximum"
          }

          test "no tenant offering the capability admits the request (it waits in the queue)" {
              Expect.isOk (Limitations.check [] (Corpus.json """{"temperature": 1e9}""")) "nobody to object"
          }

          test "the closest alternative's issues are reported" {
              let l =
                  parseOk (Corpus.json """[{"a": [1], "b": [1], "c": [1]}, {"a": [2], "b": [2], "c": [3]}]""")

              Expect.equal
                  (paths (Limitations.check [ l ] (Corpus.json """{"a": 2, "b": 2, "c": 2}""")))
                  [ [ "c" ] ]
                  "second alternative is one off"
          }

          test "bad documents are refused naming the path and the value" {
              match Limitations.parse (Corpus.json """{"temperature": [{"min": "cold", "max": 300}]}""") with
              | Ok _ -> failtest "min must be a number"
              | Error e ->
                  Expect.stringContains e "limitations.temperature[0].min" "the path"
                  Expect.stringContains e "\"cold\"" "the value"

              match Limitations.parse (Corpus.json """{"temperature": [{"min": 300, "max": 200}]}""") with
              | Ok _ -> failtest "min > max"
              | Error e -> Expect.stringContains e "limitations.temperature[0]" "the path"

              Expect.isError (Limitations.parse (Corpus.json "5")) "a number is not a limitation document"
          }

          testProperty "a value inside a range is admitted, outside rejected"
          <| Prop.forAll (Arb.fromGen (Gen.zip rangeGen (Gen.choose (0, 1000)))) (fun ((lo, hi), k) ->
              let l = temperatureAlternatives [ lo, hi ]
              let inside = lo + (hi - lo) * float k / 1000.0
              let outsideAbove = hi + (hi - lo) * (1.0 + float k) / 1000.0
              let outsideBelow = lo - (1.0 + float k) / 100.0

              Result.isOk (Limitations.check [ l ] (withTemperature inside))
              && paths (Limitations.check [ l ] (withTemperature outsideAbove)) = [ [ "temperature" ] ]
              && paths (Limitations.check [ l ] (withTemperature outsideBelow)) = [ [ "temperature" ] ])

          testProperty "either 0 or [a,b]: a fraction is admitted iff it is 0 (or absent) or within [a,b]"
          <| Prop.forAll
              (Arb.fromGen (Gen.zip3 (Gen.choose (1, 400)) (Gen.choose (1, 400)) (Gen.choose (0, 1000))))
              (fun (ai, wi, fi) ->
                  let a = float ai / 1000.0
                  let b = a + float wi / 1000.0
                  let l = formulationLimit a b
                  let f = float fi / 1000.0
                  let expected = f = 0.0 || (f >= a && f <= b)

                  Result.isOk (Limitations.check [ l ] (formulationRequest (Some f) "molPerMol")) = expected
                  && Result.isOk (Limitations.check [ l ] (formulationRequest None "molPerMol")))

          testProperty "alternatives are OR-ed, across documents and within one"
          <| Prop.forAll (Arb.fromGen (Gen.zip3 rangeGen rangeGen (Gen.choose (-150000, 300000)))) (fun (r1, r2, ti) ->
              let t = float ti / 100.0
              let inRange (lo, hi) = t >= lo && t <= hi
              let expected = inRange r1 || inRange r2

              let separate =
                  Limitations.check
                      [ temperatureAlternatives [ r1 ]; temperatureAlternatives [ r2 ] ]
                      (withTemperature t)

              let together =
                  Limitations.check [ temperatureAlternatives [ r1; r2 ] ] (withTemperature t)

              Result.isOk separate = expected && Result.isOk together = expected)

          testProperty "the order of alternatives does not change the verdict"
          <| Prop.forAll
              (Arb.fromGen (Gen.zip (Gen.listOfLength 4 rangeGen) (Gen.choose (-150000, 300000))))
              (fun (ranges, ti) ->
                  let t = float ti / 100.0

                  let verdict rs =
                      Limitations.check [ temperatureAlternatives rs ] (withTemperature t)
                      |> Result.isOk

                  let v = verdict ranges

                  verdict (List.rev ranges) = v
                  && verdict (List.permute (fun i -> (i + 1) % 4) ranges) = v
                  && Limitations.check
                      (ranges |> List.map (fun r -> temperatureAlternatives [ r ]))
                      (withTemperature t)
                     |> Result.isOk = v) ]
