/// The campaign figures' data (hosts/Finales.Plotting/CampaignData.cs) and the console's split of a chart fragment.
module Finales.Console.Tests.CampaignFiguresTests

open System
open System.Text.Json.Nodes
open Expecto
open FsCheck
open Finales.Plotting
open Finales.Broker.WebConsole

let private entry (smiles: string) (key: string) (x: float) =
    JsonObject(
        dict
            [ "chemical",
              (JsonObject(
                  dict
                      [ "SMILES", (JsonValue.Create smiles :> JsonNode)
                        "InChIKey", JsonValue.Create key ]
              )
              :> JsonNode)
              "fraction", JsonValue.Create x
              "fraction_type", JsonValue.Create "molPerMol" ]
    )
    :> JsonNode

/// LiPF6 at `lipf6`, EC at the rest.
let formulation (lipf6: float) =
    JsonArray(
        [| entry "[Li+].F[P-](F)(F)(F)(F)F" "AXPLOJNSKRXQPA-UHFFFAOYSA-N" lipf6
           entry "C1COC(=O)O1" "KMTRUDSVKNLOMY-UHFFFAOYSA-N" (1.0 - lipf6) |]
    )

let private quantityOutput (values: float list) =
    JsonObject(
        dict
            [ "values",
              (JsonArray(values |> List.map (fun v -> JsonValue.Create v :> JsonNode) |> List.toArray) :> JsonNode)
              "temperature", JsonValue.Create 298.15
              "meta", JsonNode.Parse """{"success": true, "rating": 3}""" ]
    )
    :> JsonNode

/// The data of one result of (quantity, method): requested LiPF6 `lipf6`, achieved `achieved`, value `v`.
let data (quantity: string) (method: string) (achieved: float) (v: float) : JsonObject =
    let runInfo () =
        JsonObject(
            dict
                [ "formulation", (formulation achieved :> JsonNode)
                  "internal_reference", JsonValue.Create "t" ]
        )

    match quantity, method with
    | "density", _ ->
        JsonObject(
            dict
                [ "run_info", (runInfo () :> JsonNode)
                  "density", quantityOutput [ v ]
                  "viscosity", quantityOutput [ 2.0 * v + 1.0 ] ]
        )
    | "radial_density_function", _ ->
        JsonObject.Parse(
            sprintf
                """{"radius": [1.0, 2.0, 3.0], "pair_title": ["Li-PF6"], "RDF": [[0.0, %g, 1.0]], "cell_volume": 1000.0, "cell_formula": "Li16 P16 F96", "meta": {"success": true, "rating": 3}}"""
                v
        )
        :?> JsonObject
    | _ ->
        let info = runInfo ()

        if method = "molecular_dynamics" then
            info["analysis"] <- JsonNode.Parse """{"conductivity_einstein_helfand_err_s_per_m": 0.01}"""

        JsonObject(dict [ "run_info", (info :> JsonNode); "conductivity", quantityOutput [ v ] ])

/// A FINALES2 result body (unsolicited: it carries its parameters) by `tenant`.
let resultBody (tenant: Guid) (quantity: string) (method: string) (lipf6: float) (achieved: float) (v: float) =
    let parameters =
        JsonObject(
            dict
                [ method,
                  (JsonObject(
                      dict
                          [ "formulation", (formulation lipf6 :> JsonNode)
                            "temperature", JsonValue.Create 298.15 ]
                  )
                  :> JsonNode) ]
        )

    JsonObject(
        dict
            [ "data", (data quantity method achieved v :> JsonNode)
              "quantity", JsonValue.Create quantity
              "method", (JsonArray([| JsonValue.Create method :> JsonNode |]) :> JsonNode)
              "parameters", (parameters :> JsonNode)
              "tenant_uuid", JsonValue.Create(tenant.ToString "D")
              "request_uuid", JsonValue.Create(Guid.NewGuid().ToString "D") ]
    )
        .ToJsonString()

let private requestBody (method: string) (lipf6: float) =
    sprintf
        """{"parameters": {"%s": {"formulation": %s, "temperature": 298.15}}}"""
        method
        ((formulation lipf6).ToJsonString())

let private record
    (order: int64)
    (requester: Guid)
    (quantity: string)
    (method: string)
    (lipf6: float)
    (achieved: float)
    (v: float)
    =
    CampaignRecord(
        Guid.NewGuid(),
        order,
        quantity,
        method,
        requester,
        requestBody method lipf6,
        resultBody requester quantity method lipf6 achieved v
    )

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = 200 }

/// The console's live campaign panel rendered as the broker renders it (static HtmlRenderer), for `view`.
let private renderLive (view: CampaignView) =
    let services =
        Microsoft.Extensions.DependencyInjection.ServiceCollection()
        |> fun s -> Microsoft.Extensions.DependencyInjection.LoggingServiceCollectionExtensions.AddLogging s
        |> fun s ->
            Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider s

    use renderer =
        new Microsoft.AspNetCore.Components.Web.HtmlRenderer(
            services,
            Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<
                Microsoft.Extensions.Logging.ILoggerFactory
             >
                services
        )

    let parameters =
        Microsoft.AspNetCore.Components.ParameterView.FromDictionary(dict [ "View", box view ])

    renderer.Dispatcher
        .InvokeAsync<string>(
            Func<Threading.Tasks.Task<string>>(fun () ->
                task {
                    let! html = renderer.RenderComponentAsync<CampaignLive>(parameters)
                    return html.ToHtmlString()
                })
        )
        .GetAwaiter()
        .GetResult()

[<Tests>]
let tests =
    testList
        "CampaignFigures"
        [ testCase
              "each figure reads its capability: achieved compositions, sources with MD error bars, Pearson r, RDF curves"
              (fun () ->
                  let t = Guid.NewGuid()

                  let records =
                      [ record 1L t "density" "vibrating_tube_densimetry" 0.05 0.051 1.20
                        record 2L t "density" "vibrating_tube_densimetry" 0.06 0.062 1.25
                        record 3L t "density" "vibrating_tube_densimetry" 0.07 0.069 1.31
                        record 4L t "conductivity" "two_electrode" 0.05 0.052 0.4
                        record 5L t "conductivity" "polynomial_interpolation" 0.05 0.05 0.5
                        record 6L t "conductivity" "molecular_dynamics" 0.05 0.05 0.6
                        record 7L t "radial_density_function" "molacular_dynamics" 0.05 0.05 2.5 ]

                  let d = CampaignFigures.Extract records
                  Expect.equal d.Compositions.Count 6 "two chemicals per density measurement"
                  let li = d.Compositions |> Seq.find (fun c -> c.Chemical = "LiPF6")
                  Expect.floatClose Accuracy.veryHigh li.Requested 0.05 "requested from the request's parameters"
                  Expect.floatClose Accuracy.veryHigh li.Achieved 0.051 "achieved from data.run_info.formulation"

                  Expect.equal
                      (d.Conductivity |> Seq.map (fun c -> c.Source) |> Seq.toList)
                      [ CampaignSource.Lab; CampaignSource.Model; CampaignSource.Simulation ]
                      "one point per source"

                  let md = d.Conductivity |> Seq.find (fun c -> c.Source = CampaignSource.Simulation)

                  Expect.equal
                      md.Error
                      (Nullable 0.01)
                      "the MD point's error bar is its Einstein-Helfand standard error"

                  Expect.equal (d.Conductivity |> Seq.head).Error (Nullable()) "one lab value has no error bar"

                  Expect.floatClose
                      Accuracy.veryHigh
                      (d.Conductivity |> Seq.head).LiPF6
                      0.052
                      "the achieved LiPF6 fraction"

                  Expect.floatClose Accuracy.veryHigh d.PearsonR.Value 1.0 "viscosity = 2 density + 1: r = 1"
                  Expect.equal d.Rdfs.Count 1 "one RDF curve"
                  Expect.equal d.Rdfs[0].Pair "Li-PF6" "named by its pair title"
                  Expect.equal (Seq.toList d.Rdfs[0].G) [ 0.0; 2.5; 1.0 ] "g(r) as posted"
                  Expect.equal d.Unreadable 0 "every record was read")

          testCase "a result body that is not its capability's shape is counted, not drawn" (fun () ->
              let t = Guid.NewGuid()

              let bad =
                  CampaignRecord(
                      Guid.NewGuid(),
                      1L,
                      "conductivity",
                      "two_electrode",
                      t,
                      requestBody "two_electrode" 0.05,
                      """{"data": {"conductivity": {"values": ["x"], "meta": {"success": true}}}}"""
                  )

              let broken =
                  CampaignRecord(Guid.NewGuid(), 2L, "conductivity", "two_electrode", t, "{not json", "{}")

              let d = CampaignFigures.Extract [ bad; broken ]
              Expect.equal d.Conductivity.Count 0 "nothing drawn"
              Expect.equal d.Unreadable 1 "the unparsable request is counted"
              // a value that is not a number is skipped by the values filter: no finite value, no point
              Expect.equal d.Progress.Count 0 "no progress without a lab point")

          testPropertyWithConfig
              config
              "progress is, per requester, the running maximum of its lab values in request order"
          <| fun (values: NormalFloat list) (requesters: bool list) ->
              let a, b = Guid.NewGuid(), Guid.NewGuid()

              let records =
                  values
                  |> List.mapi (fun i v ->
                      let who = if List.tryItem i requesters = Some true then b else a
                      who, record (int64 (100 - i)) who "conductivity" "two_electrode" 0.05 0.05 (abs v.Get % 10.0))

              let d = CampaignFigures.Extract(records |> List.map snd)

              for s in d.Progress do
                  let mine =
                      records
                      |> List.filter (fun (w, _) -> w = s.Requester)
                      |> List.sortBy (fun (_, r) -> r.RequestOrder)

                  Expect.equal s.Points.Count mine.Length "every lab result of the requester once"

                  let expected =
                      d.Conductivity
                      |> Seq.filter (fun c -> mine |> List.exists (fun (_, r) -> r.Request = c.Request))
                      |> Seq.sortBy (fun c ->
                          (mine |> List.find (fun (_, r) -> r.Request = c.Request) |> snd).RequestOrder)
                      |> Seq.map (fun c -> c.Value)
                      |> Seq.scan max Double.NegativeInfinity
                      |> Seq.tail
                      |> Seq.toList

                  Expect.equal (s.Points |> Seq.map (fun p -> p.BestSoFar) |> Seq.toList) expected "the running maximum"

                  Expect.equal
                      (s.Points |> Seq.map (fun p -> p.Index) |> Seq.toList)
                      [ 1 .. mine.Length ]
                      "numbered from 1"

          testPropertyWithConfig
              config
              "Pearson r is within [-1, 1], symmetric, and 1 for an increasing linear relation"
          <| fun (pairs: (NormalFloat * NormalFloat) list) (slope: PositiveInt) ->
              let xs = pairs |> List.map (fun (x, _) -> x.Get % 1e6)
              let ys = pairs |> List.map (fun (_, y) -> y.Get % 1e6)

              match CampaignFigures.Pearson(xs, ys) |> Option.ofNullable with
              | Some r ->
                  Expect.isTrue (r >= -1.0 && r <= 1.0) "within [-1, 1]"

                  Expect.floatClose Accuracy.high (CampaignFigures.Pearson(ys, xs).Value) r "symmetric"
              | None -> ()

              let distinct = xs |> List.distinct

              if distinct.Length >= 3 then
                  let linear = distinct |> List.map (fun x -> float slope.Get * x + 3.0)

                  Expect.floatClose
                      { absolute = 1e-6; relative = 1e-6 }
                      (CampaignFigures.Pearson(distinct, linear).Value)
                      1.0
                      "r = 1 on a line"

          testCase "a chart fragment's scripts are split off and its element id made stable" (fun () ->
              let fragment =
                  """<div id="abc-123"><!-- chart --></div><script type="text/javascript">Plotly.newPlot('abc-123', [], {});</script>"""

              let struct (html, js) = CampaignCache.Split(fragment, "campaign-rdf")
              Expect.equal html """<div id="campaign-rdf"><!-- chart --></div>""" "no script left, the stable id"
              Expect.equal js "Plotly.newPlot('campaign-rdf', [], {});" "the script's text draws into the stable id"

              let struct (svg, none) =
                  CampaignCache.Split("<svg><text>x</text></svg>", "campaign-x")

              Expect.equal svg "<svg><text>x</text></svg>" "a fragment without script or id is kept"
              Expect.equal none "" "no script")

          testCase "labels from stored text cannot open or close a tag" (fun () ->
              Expect.equal (CampaignCharts.Label "</script><b>B</b>") "‹/script›‹b›B‹/b›" "angle brackets shown as ‹ ›")

          testCase "the live panel counts the MD results it left out, and says nothing when none were" (fun () ->
              let view simulation rdf =
                  CampaignView(
                      [],
                      "v",
                      [],
                      0,
                      DateTime(2026, 11, 30),
                      TimeSpan.Zero,
                      SimulationSkipped = simulation,
                      RdfSkipped = rdf
                  )

              let skipped = renderLive (view 0 1)
              Expect.stringContains skipped "id=\"campaign-skipped\"" "shown when an RDF was left out"
              Expect.stringContains skipped "1\n" "the count"

              Expect.isTrue
                  (Text.RegularExpressions.Regex.IsMatch(
                      skipped,
                      @"0 conductivity/molecular_dynamics\s+results without .*, 1\s+radial_density_function result without"
                  ))
                  $"both counts, singular where one: {skipped}"

              Expect.isFalse ((renderLive (view 0 0)).Contains "campaign-skipped") "nothing left out, nothing said"

              Expect.stringContains
                  (renderLive (view 2 0))
                  "2 conductivity/molecular_dynamics"
                  "MD conductivity counted") ]
