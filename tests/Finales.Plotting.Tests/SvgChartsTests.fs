/// The static SVG band chart of the optimizer bench's image files (docs/bench/regret-*.svg).
module Finales.Plotting.Tests.SvgChartsTests

open System
open System.Globalization
open System.Xml.Linq
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Plotting

let private svg (text: string) : XElement = XDocument.Parse(text).Root

let private ns = XNamespace.Get "http://www.w3.org/2000/svg"

let private all (root: XElement) (name: string) : XElement list =
    root.Descendants(ns + name) |> List.ofSeq

/// "x,y x,y ..." of a polyline or polygon.
let private points (e: XElement) : (float * float) list =
    e.Attribute(XName.Get "points").Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
    |> Array.map (fun p ->
        let xy = p.Split(',')
        Double.Parse(xy[0], CultureInfo.InvariantCulture), Double.Parse(xy[1], CultureInfo.InvariantCulture))
    |> List.ofArray

/// Band data: one or two series of 1..30 evaluations with positive low <= median <= high.
type BandData = { Series: BandSeries list }

type BandArbitraries =
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
                        |> List.mapi (fun i t -> BandPoint(i + 1, t[1], t[0], t[2]))
                        |> Array.ofList
                    )
            }

        gen {
            let! k = Gen.choose (1, 2)
            let! s = [ "GP-UCB"; "random" ] |> List.take k |> List.map series |> Gen.sequenceToList
            return { Series = s }
        }
        |> Arb.fromGen

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<BandArbitraries> ]
        maxTest = 100 }

[<Tests>]
let tests =
    testList
        "SvgCharts"
        [ testPropertyWithConfig
              config
              "band charts draw a median line and a band per series inside the axes"
              (fun (d: BandData) ->
                  let root =
                      svg (SvgCharts.LogBands(Array.ofList d.Series, BandOptions("t", "evaluations", [| 1; 10; 25 |])))

                  let lines = all root "polyline"
                  let bands = all root "polygon"
                  Expect.equal lines.Length d.Series.Length "one median line per series"
                  Expect.equal bands.Length d.Series.Length "one band per series"

                  for e in lines @ bands do
                      for (x, y) in points e do
                          Expect.isTrue (x >= 70.0 - 1e-9 && x <= 620.0 + 1e-9) (sprintf "x %g inside [70, 620]" x)
                          Expect.isTrue (y >= 40.0 - 0.01 && y <= 350.0 + 0.01) (sprintf "y %g inside [40, 350]" y))
          testPropertyWithConfig
              config
              "on the log axis a lower median is drawn lower (larger y) or level"
              (fun (d: BandData) ->
                  let s = d.Series.Head

                  let root = svg (SvgCharts.LogBands([| s |], BandOptions("t", "evaluations", [||])))

                  let ys = points (all root "polyline" |> List.exactlyOne) |> List.map snd
                  let medians = s.Points |> Seq.map (fun p -> p.Median) |> List.ofSeq

                  for (m1, y1), (m2, y2) in List.allPairs (List.zip medians ys) (List.zip medians ys) do
                      if m1 < m2 then
                          Expect.isGreaterThanOrEqual (y1 + 0.01) y2 (sprintf "median %g below %g" m1 m2))
          test "a band chart labels every decade of its range and the x ticks within the curve" {
              let s =
                  BandSeries(
                      "m",
                      [| BandPoint(1, 1.0, 0.5, 2.0)
                         BandPoint(2, 0.1, 0.01, 0.5)
                         BandPoint(3, 0.01, 0.001, 0.1) |]
                  )

              let texts =
                  all (svg (SvgCharts.LogBands([| s |], BandOptions("title", "evals", [| 1; 3; 10 |])))) "text"
                  |> List.map (fun t -> t.Value)

              for decade in [ "1e-3"; "1e-2"; "1e-1"; "1e0" ] do
                  Expect.contains texts decade (sprintf "decade %s labelled" decade)

              Expect.contains texts "3" "x tick within the curve"
              Expect.isFalse (List.contains "10" texts) "x tick beyond the curve left out"
              Expect.contains texts "m" "legend"
          }
          test "the data range, when given, sets the log axis instead of the band" {
              let s =
                  BandSeries("m", [| BandPoint(1, 1.0, 1.0, 1.0); BandPoint(2, 1.0, 1.0, 1.0) |])

              let texts =
                  all
                      (svg (SvgCharts.LogBands([| s |], BandOptions("t", "e", [||], DataMin = 1e-4, DataMax = 10.0))))
                      "text"
                  |> List.map (fun t -> t.Value)

              Expect.contains texts "1e-4" "bottom decade from the data"
              Expect.contains texts "1e1" "top decade from the data"
          } ]
