namespace Finales.Broker.WebConsole;

/// <summary>The console's scripts and styles, embedded in the broker and served by it (no CDN: the console works offline).</summary>
public static class ConsoleStatic
{
    private static readonly Dictionary<string, (string ContentType, byte[] Bytes)> Files = Load();

    private static Dictionary<string, (string, byte[])> Load()
    {
        var asm = typeof(ConsoleStatic).Assembly;
        var files = new Dictionary<string, (string, byte[])>(StringComparer.Ordinal);
        foreach (var (name, type) in new[] { ("console.css", "text/css; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8"), ("campaign.js", "text/javascript; charset=utf-8") })
        {
            using var s = asm.GetManifestResourceStream("console/" + name) ?? throw new InvalidOperationException($"the console's {name} is not embedded");
            using var m = new MemoryStream();
            s.CopyTo(m);
            files[name] = (type, m.ToArray());
        }
        return files;
    }

    /// <summary>Adds a file served under /ui/static/ (the plots' plotly.js).</summary>
    public static void Add(string name, string contentType, byte[] bytes)
    {
        lock (Files) Files[name] = (contentType, bytes);
    }

    /// <summary>
    /// A static file with an ETag (its content's hash) and <c>Cache-Control: public, max-age=3600</c>: a browser keeps
    /// it an hour, then asks again and gets a 304 while it is unchanged (plotly.js is 3.5 MB).
    /// </summary>
    public static IResult Serve(HttpContext ctx, string name)
    {
        (string ContentType, byte[] Bytes) file;
        lock (Files)
            if (!Files.TryGetValue(name, out file)) return Results.NotFound();
        var tag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file.Bytes))[..20] + "\"");
        ctx.Response.Headers.CacheControl = "public, max-age=3600";
        ctx.Response.Headers.ETag = tag.ToString();
        if (ctx.Request.Headers.IfNoneMatch.ToString().Contains(tag.Tag.ToString(), StringComparison.Ordinal)) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(file.Bytes, file.ContentType);
    }
}
