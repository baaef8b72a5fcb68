using System.Security.Cryptography;
using System.Text;
using Finales.Plotting;

namespace Finales.Broker.WebConsole;

/// <summary>
/// The console's scripts and styles, embedded in the broker and served by it (no CDN: the console works offline):
/// console.css, console.js, campaign.js and plotly.min.js (<see cref="PlotlyJs.Source"/>, the plotly.js that
/// Plotly.NET embeds).
/// </summary>
public static class ConsoleStatic
{
    private sealed record File(string ContentType, byte[] Bytes, string ETag);

    private static readonly Lazy<Dictionary<string, File>> Files = new(Load);

    private static Dictionary<string, File> Load()
    {
        var asm = typeof(ConsoleStatic).Assembly;
        var files = new Dictionary<string, File>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8"), ("campaign.js", "text/javascript; charset=utf-8") })
        {
            using var s = asm.GetManifestResourceStream("console/" + name) ?? throw new InvalidOperationException($"the console's {name} is not embedded");
            using var m = new MemoryStream();
            s.CopyTo(m);
            files[name] = Of(type, m.ToArray());
        }
        files["plotly.min.js"] = Of("text/javascript; charset=utf-8", Encoding.UTF8.GetBytes(PlotlyJs.Source));
        return files;
    }

    private static File Of(string contentType, byte[] bytes) => new(contentType, bytes, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..20] + "\"");

    /// <summary>
    /// A static file with an ETag (its content's hash) and <c>Cache-Control: public, max-age=3600</c>: a browser keeps
    /// it an hour, then asks again and gets a 304 while it is unchanged (plotly.js is 3.6 MB).
    /// </summary>
    public static IResult Serve(HttpContext ctx, string name)
    {
        if (!Files.Value.TryGetValue(name, out var file)) return Results.NotFound();
        ctx.Response.Headers.CacheControl = "public, max-age=3600";
        ctx.Response.Headers.ETag = file.ETag;
        if (ctx.Request.Headers.IfNoneMatch.ToString().Contains(file.ETag, StringComparison.Ordinal)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(file.Bytes, file.ContentType);
    }
}
