using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker;

/// <summary>
/// Reading a request's query, path and body values: each bad value is a 4xx naming the field and the value
/// (the FINALES2 wording where FINALES2 has one), never a 500.
/// </summary>
public static class ApiInput
{
    public static BrokerService Svc(HttpContext ctx) => ctx.RequestServices.GetRequiredService<BrokerService>();

    /// <summary>
    /// The additive paging options of list routes: <c>limit</c> (1..100000) and <c>after</c> (the uuid of the last item
    /// of the previous page; its sequence number comes from <paramref name="seqOf"/>). Without them, everything.
    /// </summary>
    public static async Task<(long After, int? Limit)> PagingAsync(HttpContext ctx, Func<Guid, CancellationToken, Task<long?>> seqOf)
    {
        int? limit = null;
        if (Q(ctx, "limit") is { } rawLimit)
        {
            if (!int.TryParse(rawLimit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > 100_000)
                throw ApiError.ValidationOne(["query", "limit"], $"limit must be an integer from 1 to 100000, got '{ApiError.Echo(rawLimit)}'", "value_error");
            limit = n;
        }
        long after = 0;
        if (Q(ctx, "after") is { } rawAfter)
        {
            var id = BrokerApiCore.TryParseUuid(rawAfter, out var g) ? g
                : throw ApiError.ValidationOne(["query", "after"], $"after must be the uuid of the last item of the previous page, got '{ApiError.Echo(rawAfter)}'", "type_error.uuid");
            after = await seqOf(id, ctx.RequestAborted) ?? throw ApiError.ValidationOne(["query", "after"], $"after names {id:D}, which is not in this list's store", "value_error");
        }
        return (after, limit);
    }

    public static Guid PathUuid(HttpContext ctx, string name)
    {
        var raw = ctx.Request.RouteValues[name]?.ToString() ?? "";
        return BrokerApiCore.TryParseUuid(raw, out var g) ? g : throw new ApiError(400, "badly formed hexadecimal UUID string");
    }

    public static Guid? QueryUuid(HttpContext ctx, string name)
    {
        var raw = ctx.Request.Query[name].ToString();
        if (string.IsNullOrEmpty(raw)) return null;
        return BrokerApiCore.TryParseUuid(raw, out var g) ? g : throw new ApiError(400, "badly formed hexadecimal UUID string");
    }

    /// <summary>A path value as text (see <see cref="Text"/>).</summary>
    public static string PathText(HttpContext ctx, string name) => Text(ctx.Request.RouteValues[name]?.ToString() ?? "", ["path", name]);

    /// <summary>A query value as text (see <see cref="Text"/>), null when absent or empty.</summary>
    public static string? Q(HttpContext ctx, string name) =>
        ctx.Request.Query.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v.ToString()) ? Text(v.ToString(), ["query", name]) : null;

    /// <summary>A query or path value as text a store can hold: a NUL or a lone surrogate is a 422 naming where it is.</summary>
    public static string Text(string value, string[] loc)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0'
                || (char.IsHighSurrogate(c) && (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])))
                || (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(value[i - 1]))))
                throw ApiError.ValidationOne(loc, $"{loc[^1]} holds {(c == '\0' ? "a NUL character" : "a lone surrogate")} at character {i}; it must be text without either", "value_error.unicode");
        }
        return value;
    }

    public static bool QBool(HttpContext ctx, string name, bool fallback)
    {
        var raw = Q(ctx, name);
        if (raw is null) return fallback;
        return raw.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" or "t" or "y" => true,
            "false" or "0" or "no" or "off" or "f" or "n" => false,
            _ => throw ApiError.ValidationOne(["query", name], $"{name} must be a boolean, got '{raw}'", "type_error.bool"),
        };
    }

    public static double? QDouble(HttpContext ctx, string name, double min, double max)
    {
        var raw = Q(ctx, name);
        if (raw is null) return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw ApiError.ValidationOne(["query", name], $"{name} must be a number, got '{raw}'", "type_error.float");
        if (v < min || v > max) throw ApiError.ValidationOne(["query", name], $"{name} must be between {min} and {max}, got {v}", "value_error");
        return v;
    }

    /// <summary>A lease length from the query: 1 s up to the configured maximum (422 above it), or the fallback.</summary>
    public static double LeaseSeconds(HttpContext ctx, BrokerService svc, double fallback) =>
        QDouble(ctx, "lease_seconds", 1, svc.Options.MaxLeaseSeconds) ?? Math.Min(fallback, svc.Options.MaxLeaseSeconds);

    /// <summary>
    /// Reads a JSON body through the core's one strict reader (415 for a non-JSON content type, 413 when too large,
    /// 422 naming the path for malformed JSON, a duplicate member, a non-finite number or text that is not valid
    /// UTF-8), so what is validated is exactly what is stored and served.
    /// </summary>
    public static async Task<JsonDocument> Body(HttpContext ctx)
    {
        var ct = ctx.Request.ContentType;
        if (!string.IsNullOrEmpty(ct) && !ct.Contains("json", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(415, $"Content-Type must be application/json, got '{ct}'");
        // Sized from Content-Length when given (no regrowing copies of a large body); Kestrel enforces the limit.
        var expected = ctx.Request.ContentLength is { } n && n > 0 && n <= Svc(ctx).Options.MaxBodyBytes ? (int)n : 0;
        using var buffer = new MemoryStream(expected);
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
        return BrokerApiCore.TryParseJson(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), [], out var document, out var issue)
            ? document : throw ApiError.Validation([issue], "body");
    }

    /// <summary>
    /// Reads the login form within limits fit for a username and password (no file parts, few and short fields);
    /// a form beyond them or malformed (e.g. multipart without a usable boundary) is a 422 naming the body, not a 500.
    /// </summary>
    public static async Task<IFormCollection> LoginForm(HttpContext ctx)
    {
        var limits = new Microsoft.AspNetCore.Http.Features.FormOptions
        {
            ValueCountLimit = 64,
            KeyLengthLimit = 256,
            ValueLengthLimit = 64 * 1024,
            MultipartBoundaryLengthLimit = 128,
            MultipartHeadersCountLimit = 16,
            MultipartHeadersLengthLimit = 4096,
            MultipartBodyLengthLimit = 256 * 1024,
            BufferBody = false,
        };
        try
        {
            return await ctx.Request.ReadFormAsync(limits, ctx.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !ctx.RequestAborted.IsCancellationRequested && e is not BadHttpRequestException)
        {
            throw ApiError.ValidationOne(["body"], $"the login form could not be read: {e.Message}", "value_error.form");
        }
    }
}
