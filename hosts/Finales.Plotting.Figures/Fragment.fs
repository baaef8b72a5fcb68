namespace Finales.Plotting.Figures

open System
open System.Security.Cryptography
open System.Text
open Plotly.NET

/// The HTML fragment of a chart: a <div> and the <script> that draws the figure into it with the page's global
/// `Plotly` (plotly.js is included once per page, never fetched). Deterministic: the div's id is a hash of the
/// figure, so equal charts give equal text.
[<RequireQualifiedAccess>]
module Fragment =

    /// JSON made safe inside a <script> element: no "</script>", no "<!--", no HTML entity can start in it
    /// (the escapes are valid JSON string escapes; outside strings these characters do not occur in JSON).
    let scriptSafe (json: string) : string =
        json
            .Replace("<", "\\u003c")
            .Replace(">", "\\u003e")
            .Replace("&", "\\u0026")
            .Replace("\u2028", "\\u2028")
            .Replace("\u2029", "\\u2029")

    /// The plotly.js config of every chart: responsive, no link to plotly's site in the mode bar.
    let private config = """{"responsive":true,"displaylogo":false}"""

    /// The fragment of a Plotly.NET chart of the given size in pixels.
    let ofChart (width: int) (height: int) (chart: GenericChart) : string =
        let figure = scriptSafe (GenericChart.toFigureJson chart)

        let id =
            SHA256.HashData(Encoding.UTF8.GetBytes figure)
            |> Convert.ToHexString
            |> fun h -> "finales-chart-" + h.Substring(0, 16).ToLowerInvariant()

        // The script draws into the <div> just before it (document.currentScript), so two equal charts on one
        // page are both drawn; the id is the fallback for a script run without currentScript (e.g. by eval).
        $"<div class=\"finales-chart\" id=\"{id}\" style=\"width:{width}px;height:{height}px\"></div>"
        + "<script>(function(){var s=document.currentScript;"
        + $"var e=(s&&s.previousElementSibling)||document.getElementById(\"{id}\");var f={figure};"
        + $"Plotly.newPlot(e,f.data,f.layout,{config});}})();</script>"
