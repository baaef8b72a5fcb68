namespace Finales.Plotting.Figures

open System
open Plotly.NET
open Plotly.NET.LayoutObjects

/// The charts of Finales as Plotly.NET figures, each returned as an HTML fragment (<see cref="Fragment"/>).
/// Called from C# (Finales.Plotting.Charts) with plain arrays: NaN stands for "none", null for "not given".
/// Every chart is built with UseDefaults = false: Plotly.NET's default template would add about 10 KB to each figure
/// and take about a second to serialise (plotly.js' own defaults draw the same axes).
/// Non-finite points are left out; a chart without a finite point says "no data".
[<AbstractClass; Sealed>]
type Figure =

    /// The palette of categorical charts (scatter series, legend entries).
    static member internal Categorical = [| "#1f77b4"; "#ff7f0e"; "#2ca02c"; "#d62728" |]

    /// The palette of method comparisons (first method blue, second red).
    static member internal Methods = [| "#1f77b4"; "#d62728"; "#2ca02c" |]

    static member internal Colour(palette: string[], index: int) =
        palette[((index % palette.Length) + palette.Length) % palette.Length]

    static member private NoData(chart: GenericChart) =
        chart
        |> Chart.withAnnotation (
            Annotation.init (X = 0.5, Y = 0.5, XRef = "paper", YRef = "paper", Text = "no data", ShowArrow = false)
        )

    static member private Axes(xLabel: string, yLabel: string) =
        Chart.withXAxisStyle (TitleText = xLabel)
        >> Chart.withYAxisStyle (TitleText = yLabel)

    static member private Frame(width: int, height: int, legend: bool) =
        Chart.withSize (width, height)
        >> Chart.withLayoutStyle (ShowLegend = legend)
        >> Chart.withMarginSize (Left = 60, Right = 15, Top = 30, Bottom = 50)

    /// A scatter (or line) plot, 480 x 360: one trace per series (colour from the categorical palette, legend name
    /// from <paramref name="legend"/>; null = no legend), error bars where a point has a finite error, with
    /// <paramref name="line"/> each series joined in x order, with <paramref name="diagonal"/> square equal ranges
    /// on both axes and a dashed y = x line (requested vs achieved).
    static member Scatter
        (
            xs: float[],
            ys: float[],
            errors: float[],
            series: int[],
            legend: string[],
            xLabel: string,
            yLabel: string,
            diagonal: bool,
            line: bool
        ) : string =
        let points =
            [ for i in 0 .. xs.Length - 1 do
                  if Double.IsFinite xs[i] && Double.IsFinite ys[i] then
                      yield xs[i], ys[i], errors[i], series[i] ]

        let name s =
            if not (isNull legend) && s >= 0 && s < legend.Length then
                legend[s]
            else
                $"series {s}"

        let chart =
            if points.IsEmpty then
                Chart.Invisible() |> Figure.NoData
            else
                let traces =
                    points
                    |> List.groupBy (fun (_, _, _, s) -> s)
                    |> List.sortBy fst
                    |> List.map (fun (s, ps) ->
                        let ps = if line then List.sortBy (fun (x, _, _, _) -> x) ps else ps
                        let colour = Color.fromString (Figure.Colour(Figure.Categorical, s))

                        let trace =
                            Chart.Scatter(
                                x = List.map (fun (x, _, _, _) -> x) ps,
                                y = List.map (fun (_, y, _, _) -> y) ps,
                                mode =
                                    (if line then
                                         StyleParam.Mode.Lines_Markers
                                     else
                                         StyleParam.Mode.Markers),
                                Name = name s,
                                MarkerColor = colour,
                                LineColor = colour,
                                UseDefaults = false
                            )

                        if ps |> List.exists (fun (_, _, e, _) -> Double.IsFinite e) then
                            let bars =
                                ps |> List.map (fun (_, _, e, _) -> if Double.IsFinite e then abs e else 0.0)

                            trace
                            |> Chart.withYError (TraceObjects.Error.init (Array = bars, Symmetric = true))
                        else
                            trace)

                let combined = Chart.combine traces

                if diagonal then
                    let all = points |> List.collect (fun (x, y, _, _) -> [ x; y ])
                    let lo, hi = List.min all, List.max all
                    let lo, hi = if hi - lo < 1e-12 then lo - 0.5, hi + 0.5 else lo, hi
                    let pad = (hi - lo) * 0.05
                    let lo, hi = lo - pad, hi + pad

                    combined
                    |> Chart.withShape (
                        Shape.init (
                            ShapeType = StyleParam.ShapeType.Line,
                            X0 = lo,
                            Y0 = lo,
                            X1 = hi,
                            Y1 = hi,
                            Line =
                                Plotly.NET.Line.init (
                                    Color = Color.fromString "#bbbbbb",
                                    Dash = StyleParam.DrawingStyle.Dash
                                )
                        )
                    )
                    |> Chart.withXAxisStyle (MinMax = (lo, hi))
                    |> Chart.withYAxisStyle (MinMax = (lo, hi))
                else
                    combined

        chart
        |> Figure.Axes(xLabel, yLabel)
        |> Figure.Frame(480, 360, not (isNull legend))
        |> Fragment.ofChart 480 360

    /// One line per series (plotly's colour sequence, a legend entry with its label), 640 x 400.
    static member Lines
        (labels: string[], xs: float[][], ys: float[][], xLabel: string, yLabel: string, title: string)
        : string =
        let traces =
            [ for k in 0 .. labels.Length - 1 do
                  let pts =
                      Array.zip (Array.truncate ys[k].Length xs[k]) (Array.truncate xs[k].Length ys[k])
                      |> Array.filter (fun (x, y) -> Double.IsFinite x && Double.IsFinite y)

                  if pts.Length > 0 then
                      yield
                          Chart.Line(
                              x = Array.map fst pts,
                              y = Array.map snd pts,
                              Name = labels[k],
                              UseDefaults = false
                          ) ]

        let chart =
            if traces.IsEmpty then
                Chart.Invisible() |> Figure.NoData
            else
                Chart.combine traces

        chart
        |> (if isNull title then id else Chart.withTitle title)
        |> Figure.Axes(xLabel, yLabel)
        |> Figure.Frame(640, 400, true)
        |> Fragment.ofChart 640 400

    /// Median curves with a shaded band each (e.g. interquartile range) on a log10 y axis, 640 x 400, one colour per
    /// series (methods palette) and a legend. x runs from 1 to the largest point, labelled at <paramref name="xTicks"/>
    /// within it; y from the smallest positive value (at least 1e-8; <paramref name="dataMin"/> when given) to at
    /// least ten times it (<paramref name="dataMax"/> when larger), a tick at every decade; values at or below the
    /// bottom are drawn on it.
    static member LogBands
        (
            labels: string[],
            xs: int[][],
            medians: float[][],
            lows: float[][],
            highs: float[][],
            title: string,
            xLabel: string,
            xTicks: int[],
            dataMin: Nullable<float>,
            dataMax: Nullable<float>
        ) : string =
        let values =
            [ for k in 0 .. labels.Length - 1 do
                  yield! medians[k]
                  yield! lows[k]
                  yield! highs[k] ]
            |> List.filter (fun v -> v > 0.0)

        let lowest =
            if dataMin.HasValue then Some dataMin.Value
            elif values.IsEmpty then None
            else Some(List.min values)

        let highest =
            if dataMax.HasValue then Some dataMax.Value
            elif values.IsEmpty then None
            else Some(List.max values)

        let ymin = lowest |> Option.map (fun v -> max 1e-8 v) |> Option.defaultValue 1e-6

        let ymax =
            highest |> Option.map (fun v -> max (ymin * 10.0) v) |> Option.defaultValue 1.0

        let clip (v: float) = max ymin v

        let evals =
            xs
            |> Array.map (fun x -> if x.Length = 0 then 0 else Array.max x)
            |> Array.fold max 0

        let traces =
            [ for k in 0 .. labels.Length - 1 do
                  if xs[k].Length > 0 then
                      let colour = Figure.Colour(Figure.Methods, k)

                      let band = Color.fromString (colour + "26")
                      let x = xs[k]

                      let bound (ys: float[]) =
                          Chart.Line(
                              x = x,
                              y = Array.map clip ys,
                              ShowLegend = false,
                              LineColor = band,
                              LineWidth = 0.0
                          )

                      yield
                          Chart.combine
                              [ bound highs[k] |> Chart.withTraceInfo (Name = labels[k] + " upper")
                                bound lows[k]
                                |> Chart.withTraceInfo (Name = labels[k] + " lower")
                                |> GenericChart.mapTrace (
                                    Trace2DStyle.Scatter(Fill = StyleParam.Fill.ToNext_y, FillColor = band)
                                )
                                Chart.Line(
                                    x = x,
                                    y = Array.map clip medians[k],
                                    Name = labels[k],
                                    LineColor = Color.fromString colour,
                                    LineWidth = 2.0,
                                    UseDefaults = false
                                ) ]
                          |> Chart.withTraceInfo (LegendGroup = labels[k]) ]

        let chart =
            if traces.IsEmpty then
                Chart.Invisible() |> Figure.NoData
            else
                Chart.combine traces

        chart
        |> Chart.withTitle title
        |> Chart.withXAxis (
            LinearAxis.init (
                Title = Title.init (Text = xLabel),
                Range = StyleParam.Range.MinMax(1.0, float (max 2 evals)),
                TickVals = (xTicks |> Array.filter (fun e -> e <= evals))
            )
        )
        |> Chart.withYAxis (
            LinearAxis.init (
                AxisType = StyleParam.AxisType.Log,
                Range = StyleParam.Range.MinMax(log10 ymin, log10 ymax),
                DTick = 1,
                ExponentFormat = StyleParam.ExponentFormat.Power
            )
        )
        |> Figure.Frame(640, 400, true)
        |> Fragment.ofChart 640 400
