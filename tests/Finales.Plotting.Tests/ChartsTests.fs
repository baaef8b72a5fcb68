module Finales.Plotting.Tests.ChartsTests

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

let private num (e: XElement) (attribute: string) =
    Double.Parse(e.Attribute(XName.Get attribute).Value, CultureInfo.InvariantCulture)

/// "x,y x,y ..." of a polyline or polygon.
let private points (e: XElement) : (float * float) list =
    e.Attribute(XName.Get "points").Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
    |> Array.map (fun p ->
        let xy = p.Split(',')
        Double.Parse(xy[0], CultureInfo.InvariantCulture), Double.Parse(xy[1], CultureInfo.InvariantCulture))
    |> List.ofArray

/// Scatter data: finite or not, up to four series.
type ScatterData = { Points: ScatterPoint list }

/// Band data: one or two series of 1..30 evaluations with positive low <= median <= high.
type BandData = { Series: BandSeries list }

type Arbitraries =
    static member Scatter() : Arbitrary<ScatterData> =
        let coordinate =
            Gen.frequency
                [ 8, Gen.choose (-100000, 100000) |> Gen.map (fun i -> float i / 100.0)
                  1, Gen.elements [ nan; infinity; -infinity ] ]

        gen {
            let! n = Gen.choose (0, 40)

            let! pts =
                Gen.listOfLength
                    n
                    (Gen.map3 (fun x y s -> ScatterPoint(x, y, s)) coordinate coordinate (Gen.choose (0, 3)))

            return { Points = pts }
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
        arbitrary = [ typeof<Arbitraries> ]
        maxTest = 100 }

let private scatterOptions = ScatterOptions("x <a & b>", "y \"c\"")

[<Tests>]
let tests =
    testList
        "Charts"
        [ testPropertyWithConfig
              config
              "a scatter draws one dot per finite point, inside the plot frame"
              (fun (d: ScatterData) ->
                  let root = svg (Charts.Scatter(Array.ofList d.Points, scatterOptions))

                  let finite =
                      d.Points |> List.filter (fun p -> Double.IsFinite p.X && Double.IsFinite p.Y)

                  let dots = all root "circle"
                  Expect.equal dots.Length finite.Length "one circle per finite point"

                  for c in dots do
                      let cx, cy = num c "cx", num c "cy"
                      Expect.isTrue (cx >= 60.0 && cx <= 445.0) (sprintf "cx %g inside [60, 445]" cx)
                      Expect.isTrue (cy >= 15.0 && cy <= 275.0) (sprintf "cy %g inside [15, 275]" cy)

                  if finite.IsEmpty then
                      Expect.stringContains (root.ToString()) "no data" "an empty chart says so")
          testPropertyWithConfig config "a scatter line joins the finite points in x order" (fun (d: ScatterData) ->
              let finite =
                  d.Points |> List.filter (fun p -> Double.IsFinite p.X && Double.IsFinite p.Y)

              let root =
                  svg (Charts.Scatter(Array.ofList d.Points, ScatterOptions("x", "y", Line = true)))

              match all root "polyline" with
              | [] -> Expect.isLessThan finite.Length 2 "no line for fewer than two points"
              | [ line ] ->
                  let xs = points line |> List.map fst
                  Expect.equal xs.Length finite.Length "every finite point on the line"
                  Expect.equal xs (List.sort xs) "in x order"
              | lines -> failtestf "%d lines; expected one" lines.Length)
          test "labels and legend entries are escaped text, one legend dot per entry" {
              let root =
                  svg (
                      Charts.Scatter(
                          [| ScatterPoint(0.1, 0.2, 0); ScatterPoint(0.3, 0.25, 1) |],
                          ScatterOptions("requested <x>", "achieved & y", Diagonal = true, Legend = [| "a<b"; "c&d" |])
                      )
                  )

              let texts = all root "text" |> List.map (fun t -> t.Value)
              Expect.contains texts "requested <x>" "x label kept as text"
              Expect.contains texts "achieved & y" "y label kept as text"
              Expect.contains texts "a<b" "legend entry kept as text"
              Expect.equal (all root "circle").Length 4 "two dots and two legend dots"
              Expect.equal (all root "line").Length 1 "the diagonal"
          }
          test "the diagonal of a requested-vs-achieved chart runs corner to corner of a square range" {
              let root =
                  svg (
                      Charts.Scatter(
                          [| ScatterPoint(0.0, 0.5, 0); ScatterPoint(1.0, 0.6, 0) |],
                          ScatterOptions("r", "a", Diagonal = true)
                      )
                  )

              let d = all root "line" |> List.exactlyOne
              Expect.floatClose Accuracy.high (num d "x1") 60.0 "starts at the left edge"
              Expect.floatClose Accuracy.high (num d "y1") 275.0 "at the bottom"
              Expect.floatClose Accuracy.high (num d "x2") 445.0 "ends at the right edge"
              Expect.floatClose Accuracy.high (num d "y2") 15.0 "at the top"
          }
          testPropertyWithConfig
              config
              "band charts draw a median line and a band per series inside the axes"
              (fun (d: BandData) ->
                  let root =
                      svg (Charts.LogBands(Array.ofList d.Series, BandOptions("t", "evaluations", [| 1; 10; 25 |])))

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

                  let root = svg (Charts.LogBands([| s |], BandOptions("t", "evaluations", [||])))

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
                  all (svg (Charts.LogBands([| s |], BandOptions("title", "evals", [| 1; 3; 10 |])))) "text"
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
                      (svg (Charts.LogBands([| s |], BandOptions("t", "e", [||], DataMin = 1e-4, DataMax = 10.0))))
                      "text"
                  |> List.map (fun t -> t.Value)

              Expect.contains texts "1e-4" "bottom decade from the data"
              Expect.contains texts "1e1" "top decade from the data"
          } ]
