using System.Text;
using System.Text.Json;

namespace Finales.Broker;

/// <summary>
/// What the broker's handlers return: FINALES2 bodies rendered as JSON, lists streamed from the store, and the one
/// mapping of a failure to the FastAPI <c>{"detail": ...}</c> shape every FINALES2 client parses.
/// </summary>
public static class ApiResults
{
    private static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = false };

    /// <summary>Pre-rendered JSON text (an object, array, string or <c>null</c>).</summary>
    public static IResult Raw(string json, int status = 200) => new RawJson(json, status);

    /// <summary>A value serialized as JSON.</summary>
    public static IResult Json(object? value, int status = 200) => new RawJson(JsonSerializer.Serialize(value, JsonOut), status);

    /// <summary>A JSON string (e.g. a new id or a confirmation).</summary>
    public static IResult String(string value) => new RawJson(JsonSerializer.Serialize(value), 200);

    /// <summary>The JSON <c>null</c> FINALES2 clients poll on for an unknown id.</summary>
    public static IResult Null { get; } = new RawJson("null", 200);

    /// <summary>A list streamed from the store's reader (see <see cref="JsonStream{T}"/>).</summary>
    public static IResult Stream<T>(IAsyncEnumerable<T> rows, Func<T, string> render) => new JsonStream<T>(rows, render);

    /// <summary>The one mapping of a client-visible failure to its status and FastAPI-style body.</summary>
    public static IResult Detail(ApiError error) => new DetailResult(error.Status, error.Detail, error.RetryAfterSeconds);

    /// <summary>A failure with its status and detail (a string or a FastAPI-style list).</summary>
    public static IResult Detail(int status, object detail) => new DetailResult(status, detail, null);

    private sealed class RawJson(string json, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext ctx)
        {
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            return ctx.Response.WriteAsync(json);
        }
    }

    /// <summary>
    /// Writes a JSON array straight from the store's reader to the response, flushing every 32 KB, so a list of any
    /// length costs bounded memory. The first row is read before the status is sent, so a store failure still gets
    /// its proper answer.
    /// </summary>
    private sealed class JsonStream<T>(IAsyncEnumerable<T> rows, Func<T, string> render) : IResult
    {
        public async Task ExecuteAsync(HttpContext ctx)
        {
            await using var e = rows.GetAsyncEnumerator(ctx.RequestAborted);
            var any = await e.MoveNextAsync();
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            var body = ctx.Response.BodyWriter;
            var unflushed = Encoding.UTF8.GetBytes("[", body);
            if (any)
            {
                unflushed += Encoding.UTF8.GetBytes(render(e.Current), body);
                while (await e.MoveNextAsync())
                {
                    unflushed += Encoding.UTF8.GetBytes(",", body) + Encoding.UTF8.GetBytes(render(e.Current), body);
                    if (unflushed < 32 * 1024) continue;
                    unflushed = 0;
                    var flushed = await body.FlushAsync(ctx.RequestAborted);
                    if (flushed.IsCanceled || flushed.IsCompleted) return;
                }
            }
            Encoding.UTF8.GetBytes("]", body);
            await body.FlushAsync(ctx.RequestAborted);
        }
    }

    private sealed class DetailResult(int status, object detail, int? retryAfterSeconds) : IResult
    {
        public Task ExecuteAsync(HttpContext ctx)
        {
            if (ctx.Response.HasStarted) return Task.CompletedTask;
            ctx.Response.Clear();
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            if (status == 401) ctx.Response.Headers.WWWAuthenticate = "Bearer";
            if (retryAfterSeconds is { } after) ctx.Response.Headers.RetryAfter = after.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Messages may quote client input: never echo more than a bounded prefix of it.
            return ctx.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object> { ["detail"] = detail is string s ? ApiError.Echo(s, 1000) : detail }));
        }
    }
}
