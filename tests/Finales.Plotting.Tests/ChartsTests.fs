/// The Plotly.NET charts: what each fragment's figure JSON holds (traces, axes, shapes), that a fragment is safe inside
/// a page (no URL, no script source, labels cannot close the script) and that equal data give equal text.
module Finales.Plotting.Tests.ChartsTests

open System
open System.Text.Json.Nodes
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Plotting

/// The figure ({data, layout}) a fragment draws: the JSON between "var f=" and ";Plotly.newPlot(".
let private figure (fragment: string) : JsonNode =
    let start = fragment.IndexOf "var f="
    let stop = fragment.IndexOf ";Plotly.newPlot("
    Expect.isGreaterThan start 0 "the fragment defines its figure"
    Expect.isGreaterThan stop start "and draws it with the global Plotly"
    JsonNode.Parse(fragment.Substring(start + 6, stop - start - 6))

let private items (n: JsonNode) : JsonNode list = n.AsArray() |> List.ofSeq

let private traces (fragment: string) : JsonNode list =
    let f = figure fragment
    items f.["data"]

let private num (n: JsonNode) : float = n.GetValue<float>()

let private flag (n: JsonNode) : bool = n.GetValue<bool>()

let private floats (n: JsonNode) : float list =
    if isNull n then [] else items n |> List.map num

let private str (n: JsonNode) =
    if isNull n then null else n.GetValue<string>()

let private finite (p: ScatterPoint) =
    Double.IsFinite p.X && Double.IsFinite p.Y

/// Scatter data: finite or not, up to four series, some points with an error.
type ScatterData = { Points: ScatterPoint list }

/// Line data: up to four series of up to 30 points, finite or not.
type LineData = { Series: LineSeries list }

/// Band data: one or two series of 1..30 evaluations with positive low <= median <= high.
type BandData = { Bands: BandSeries list }

/// Text a label may hold: markup, quotes, a closing script tag, a comment opener, a line separator.
type Label = { Text: string }

type Arbitraries =
    static member Coordinate() : Gen<float> =
        Gen.frequency
            [ 8, Gen.choose (-100000, 100000) |> Gen.map (fun i -> float i / 100.0)
              1, Gen.elements [ nan; infinity; -infinity ] ]

    static member Scatter() : Arbitrary<ScatterData> =
        let c = Arbitraries.Coordinate()

        let error = Gen.frequency [ 2, Gen.constant (Nullable()); 1, c |> Gen.map Nullable ]

        gen {
            let! n = Gen.choose (0, 40)

            let! pts =
                Gen.listOfLength
                    n
                    (gen {
                        let! x = c
                        let! y = c
                        let! s = Gen.choose (0, 3)
                        let! e = error
                        return ScatterPoint(x, y, s, e)
                    })

            return { Points = pts }
        }
        |> Arb.fromGen

    static member Lines() : Arbitrary<LineData> =
        let c = Arbitraries.Coordinate()

        let series k =
            gen {
                let! n = Gen.choose (0, 30)
                let! xs = Gen.arrayOfLength n c
                let! ys = Gen.arrayOfLength n c
                return LineSeries(sprintf "x = 0.%d" k, xs, ys)
            }

        gen {
            let! k = Gen.choose (0, 4)
            let! s = [ 1..k ] |> List.map series |> Gen.sequenceToList
            return { Series = s }
        }
        |> Arb.fromGen

    static member Bands() : Arbitrary<BandData> =
        let positive = Gen.choose (-80, 40) |> Gen.map (fun e -> 10.0 ** (float e / 10.0))

        let series label =
            gen {
                let! n = Gen.choose (1, 30)
                let! triples = Gen.listOfLength n (Gen.listOfLength 3 positive |> Gen.map List.sort)

                return
                    BandSeries(
                        label,
                        triples
                        |> List.mapi (fun i t -> BandPoint(i + 1, t.[1], t.[0], t.[2]))
                        |> Array.ofList
                    )
            }

        gen {
            let! k = Gen.choose (1, 2)
            let! s = [ "GP-UCB"; "random" ] |> List.take k |> List.map series |> Gen.sequenceToList
            return { Bands = s }
        }
        |> Arb.fromGen

    static member Label() : Arbitrary<Label> =
        Gen.elements
            [ "x <a & b>"
              "</script><script>alert(1)</script>"
              "y \"c\" 'd'"
              "<!-- x"
              "LiPF6 0.1 \u2028 EC" ]
        |> Gen.map (fun t -> { Text = t })
        |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<Arbitraries> ]
        maxTest = 100 }

/// For the properties that draw every chart kind per case.
let private fewer = { config with maxTest = 30 }

let private scatterOptions = ScatterOptions("x <a & b>", "y \"c\"")

/// Every chart kind on the given data and labels.
let private allCharts (d: ScatterData) (l: LineData) (b: BandData) (label: string) : string list =
    [ Charts.Scatter(Array.ofList d.Points, ScatterOptions(label, label, Diagonal = true, Legend = [| label |]))
      Charts.Scatter(Array.ofList d.Points, ScatterOptions(label, label, Line = true))
      Charts.Lines(Array.ofList l.Series, LineOptions(label, label, label))
      Charts.LogBands(Array.ofList b.Bands, BandOptions(label, label, [| 1; 10 |])) ]

[<Tests>]
let tests =
    testList
        "Charts"
        [ testPropertyWithConfig
              config
              "a scatter has every finite point in one trace per series, and no other point"
              (fun (d: ScatterData) ->
                  let data = traces (Charts.Scatter(Array.ofList d.Points, scatterOptions))
                  let expected = d.Points |> List.filter finite

                  if expected.IsEmpty then
                      let text =
                          (figure (Charts.Scatter(Array.ofList d.Points, scatterOptions))).ToJsonString()

                      Expect.stringContains text "no data" "an empty chart says so"
                  else
                      let drawn =
                          data
                          |> List.collect (fun t -> List.zip (floats t.["x"]) (floats t.["y"]))
                          |> List.sort

                      let want = expected |> List.map (fun p -> p.X, p.Y) |> List.sort
                      Expect.equal drawn want "the finite points, each once"

                      let seriesCount = expected |> List.distinctBy (fun p -> p.Series) |> List.length
                      Expect.equal data.Length seriesCount "one trace per series"

                      for t in data do
                          Expect.equal (str t.["mode"]) "markers" "dots only")

          testPropertyWithConfig
              config
              "a scatter line joins each series' finite points in x order"
              (fun (d: ScatterData) ->
                  let data =
                      traces (Charts.Scatter(Array.ofList d.Points, ScatterOptions("x", "y", Line = true)))

                  let finitePoints = d.Points |> List.filter finite

                  if not finitePoints.IsEmpty then
                      for t in data do
                          let xs = floats t.["x"]
                          Expect.equal xs (List.sort xs) "in x order"
                          Expect.equal (str t.["mode"]) "lines+markers" "joined"

                      Expect.equal
                          (data |> List.sumBy (fun t -> (floats t.["x"]).Length))
                          finitePoints.Length
                          "every point")

          testPropertyWithConfig
              config
              "error bars are the points' errors, and only traces with an error have them"
              (fun (d: ScatterData) ->
                  let data = traces (Charts.Scatter(Array.ofList d.Points, scatterOptions))

                  for t in data do
                      let xs, ys = floats t.["x"], floats t.["y"]

                      let source =
                          List.zip xs ys
                          |> List.map (fun (x, y) ->
                              d.Points
                              |> List.find (fun p -> finite p && p.X = x && p.Y = y && p.Series = p.Series))

                      let errorOf (p: ScatterPoint) =
                          d.Points
                          |> List.filter (fun q -> finite q && q.X = p.X && q.Y = p.Y)
                          |> List.map (fun q -> q.YError)

                      let withError =
                          source
                          |> List.exists (fun p -> p.YError.HasValue && Double.IsFinite p.YError.Value)

                      match t.["error_y"] with
                      | null -> Expect.isFalse withError "no error bar without an error"
                      | e ->
                          Expect.isTrue withError "an error bar only with an error"
                          let bars = floats e.["array"]
                          Expect.equal bars.Length xs.Length "one bar per point"

                          for (p, bar) in List.zip source bars do
                              let candidates =
                                  errorOf p
                                  |> List.map (fun v ->
                                      if v.HasValue && Double.IsFinite v.Value then
                                          abs v.Value
                                      else
                                          0.0)

                              Expect.contains candidates bar "the bar is the point's |error| (0 without one)")

          test "labels and legend entries are the given text, one named trace per series" {
              let fragment =
                  Charts.Scatter(
                      [| ScatterPoint(0.1, 0.2, 0); ScatterPoint(0.3, 0.25, 1, 0.02) |],
                      ScatterOptions("requested <x>", "achieved & y", Diagonal = true, Legend = [| "a<b"; "c&d" |])
                  )

              let f = figure fragment
              Expect.equal (str f.["layout"].["xaxis"].["title"].["text"]) "requested <x>" "x label"
              Expect.equal (str f.["layout"].["yaxis"].["title"].["text"]) "achieved & y" "y label"
              Expect.equal (traces fragment |> List.map (fun t -> str t.["name"])) [ "a<b"; "c&d" ] "legend names"
              Expect.isTrue (flag f.["layout"].["showlegend"]) "a legend"
              Expect.equal (floats (traces fragment).[1].["error_y"].["array"]) [ 0.02 ] "the error bar"
          }

          test "the diagonal of a requested-vs-achieved chart runs corner to corner of equal square ranges" {
              let f =
                  figure (
                      Charts.Scatter(
                          [| ScatterPoint(0.0, 0.5, 0); ScatterPoint(1.0, 0.6, 0) |],
                          ScatterOptions("r", "a", Diagonal = true)
                      )
                  )

              let shape = items f.["layout"].["shapes"] |> List.exactlyOne

              let xr, yr =
                  floats f.["layout"].["xaxis"].["range"], floats f.["layout"].["yaxis"].["range"]

              Expect.equal xr yr "equal ranges"
              Expect.floatClose Accuracy.high xr.[0] -0.05 "0 less 5 % of the span"
              Expect.floatClose Accuracy.high xr.[1] 1.05 "1 plus 5 % of the span"

              for a, b in [ "x0", "y0"; "x1", "y1" ] do
                  Expect.floatClose Accuracy.high (num shape.[a]) (num shape.[b]) "on y = x"

              Expect.floatClose Accuracy.high (num shape.["x0"]) xr.[0] "from the corner"
              Expect.floatClose Accuracy.high (num shape.["x1"]) xr.[1] "to the corner"
              Expect.equal (str shape.["line"].["dash"]) "dash" "dashed"
          }

          testPropertyWithConfig
              config
              "a line chart has one trace per series with finite points, named by its label"
              (fun (l: LineData) ->
                  let fragment =
                      Charts.Lines(Array.ofList l.Series, LineOptions("r / A", "g(r)", "RDF"))

                  let expected =
                      l.Series
                      |> List.map (fun s ->
                          s.Label,
                          Seq.zip s.X s.Y
                          |> Seq.filter (fun (x, y) -> Double.IsFinite x && Double.IsFinite y)
                          |> List.ofSeq)
                      |> List.filter (fun (_, pts) -> not pts.IsEmpty)

                  if expected.IsEmpty then
                      Expect.stringContains ((figure fragment).ToJsonString()) "no data" "an empty chart says so"
                  else
                      let data = traces fragment

                      let drawn =
                          data
                          |> List.map (fun t -> str t.["name"], List.zip (floats t.["x"]) (floats t.["y"]))

                      Expect.equal drawn expected "each series' finite points in order, under its label"

                      for t in data do
                          Expect.equal (str t.["mode"]) "lines" "lines"

                  Expect.equal (str (figure fragment).["layout"].["title"].["text"]) "RDF" "the title")

          testPropertyWithConfig
              config
              "a band chart has a band and a median per series on a log axis over the data"
              (fun (b: BandData) ->
                  let f =
                      figure (Charts.LogBands(Array.ofList b.Bands, BandOptions("t", "evaluations", [| 1; 10; 25 |])))

                  let data = items f.["data"]
                  Expect.equal data.Length (3 * b.Bands.Length) "upper, lower (filled) and median per series"

                  let values =
                      b.Bands
                      |> List.collect (fun s ->
                          s.Points |> Seq.collect (fun p -> [ p.Low; p.Median; p.High ]) |> List.ofSeq)

                  let ymin = max 1e-8 (List.min values)
                  let ymax = max (ymin * 10.0) (List.max values)
                  let axis = f.["layout"].["yaxis"]
                  Expect.equal (str axis.["type"]) "log" "log axis"
                  let range = floats axis.["range"]
                  Expect.floatClose Accuracy.high range.[0] (log10 ymin) "from the smallest value"
                  Expect.floatClose Accuracy.high range.[1] (log10 ymax) "to the largest (at least a decade)"

                  for k, s in List.indexed b.Bands do
                      let median = data.[3 * k + 2]
                      Expect.equal (str median.["name"]) s.Label "the median carries the label"

                      Expect.equal
                          (floats median.["y"])
                          (s.Points |> Seq.map (fun p -> max ymin p.Median) |> List.ofSeq)
                          "medians, clipped to the bottom"

                      Expect.equal (str data.[3 * k + 1].["fill"]) "tonexty" "the band is filled"

                      let evals =
                          b.Bands
                          |> List.map (fun s -> s.Points |> Seq.map (fun p -> p.X) |> Seq.max)
                          |> List.max

                      Expect.equal
                          (floats f.["layout"].["xaxis"].["tickvals"])
                          ([ 1.0; 10.0; 25.0 ] |> List.filter (fun t -> t <= float evals))
                          "x ticks within the curve")

          test "the data range, when given, sets the log axis instead of the band" {
              let s =
                  BandSeries("m", [| BandPoint(1, 1.0, 1.0, 1.0); BandPoint(2, 1.0, 1.0, 1.0) |])

              let f =
                  figure (Charts.LogBands([| s |], BandOptions("t", "e", [||], DataMin = 1e-4, DataMax = 10.0)))

              let range = floats f.["layout"].["yaxis"].["range"]
              Expect.floatClose Accuracy.high range.[0] -4.0 "bottom decade from the data"
              Expect.floatClose Accuracy.high range.[1] 1.0 "top decade from the data"
          }

          testPropertyWithConfig
              fewer
              "no fragment references a URL or a script source, and no label can end its script"
              (fun (d: ScatterData) (l: LineData) (b: BandData) (label: Label) ->
                  for fragment in allCharts d l b label.Text do
                      Expect.isFalse (fragment.Contains "http") "no URL"
                      Expect.isFalse (fragment.Contains "src=") "no script source"
                      Expect.isFalse (fragment.Contains "require") "no require.js"
                      Expect.isFalse (fragment.Contains "<!--") "no comment opener"

                      Expect.equal
                          (fragment.Split("</script>").Length - 1)
                          1
                          "one closing script tag: the fragment's own, at its end"

                      Expect.isTrue (fragment.EndsWith "</script>") "the fragment ends with its script"
                      Expect.isTrue (fragment.StartsWith "<div class=\"finales-chart\"") "and starts with its div")

          testPropertyWithConfig
              fewer
              "equal data give equal fragments; another label, another chart id"
              (fun (d: ScatterData) (l: LineData) (b: BandData) ->
                  let once = allCharts d l b "x"
                  let again = allCharts d l b "x"
                  Expect.equal once again "deterministic"

                  let id (f: string) = f.Substring(f.IndexOf "id=\"", 40)

                  let other = allCharts d l b "y"

                  for a, o in List.zip once other do
                      Expect.notEqual (id a) (id o) "the id follows the content")

          test "plotly.js comes from the Plotly.NET package, inline, once" {
              let js = PlotlyJs.Source
              Expect.isGreaterThan js.Length 1000000 "the full minified bundle"
              Expect.stringContains js ("v" + PlotlyJs.Version) "of the version Plotly.NET embeds"
              let tag = PlotlyJs.InlineTag()
              Expect.isTrue (tag.StartsWith "<script>") "an inline script"
              Expect.isFalse (tag.Substring(0, 100).Contains "src=") "no source URL"
              Expect.equal (tag.Split("</script>").Length - 1) 1 "closed once, at its end"
          } ]
