using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Core;
using Finales.Core.Interop;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Finales.Broker;

/// <summary>The FINALES2-compatible routes (broker-api.md sections 2 and 4) as ASP.NET Core minimal API endpoints.</summary>
public static class BrokerApi
{
    /// <summary>One documented route (drives both the mapping and /openapi.json, /docs).</summary>
    public sealed record RouteDoc(string Method, string Path, string Summary, bool Auth, string Tag);

    public static readonly List<RouteDoc> Routes = [];

    private static readonly JsonSerializerOptions JsonOut = new() { WriteIndented = false };

    // ------------------------------------------------------------ helpers

    private static BrokerService Svc(HttpContext ctx) => ctx.RequestServices.GetRequiredService<BrokerService>();

    private static Task WriteJson(HttpContext ctx, object? value, int status = 200)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(value is string raw && raw.Length > 0 && (raw[0] == '{' || raw[0] == '[' || raw[0] == '"' || raw == "null")
            ? raw : JsonSerializer.Serialize(value, JsonOut));
    }

    private static string JsonString(string s) => JsonSerializer.Serialize(s);

    private static string RequestInfo(RequestRow r) =>
        $"{{\"uuid\":\"{r.Uuid:D}\",\"ctime\":\"{r.Ctime}\",\"status\":\"{r.Status}\",\"request\":{r.Body}}}";

    private static string ResultInfo(ResultRow r) =>
        $"{{\"uuid\":\"{r.Uuid:D}\",\"ctime\":\"{r.Ctime}\",\"status\":\"{r.Status}\",\"result\":{r.Body}}}";

    private static string JsonArray(IEnumerable<string> items) => "[" + string.Join(",", items) + "]";

    /// <summary>
    /// Writes a JSON array straight from the store's reader to the response, flushing every 32 KB, so a list of any
    /// length costs bounded memory. The first row is read before the status is sent, so a store failure still gets
    /// its proper answer.
    /// </summary>
    private static async Task WriteJsonArray<T>(HttpContext ctx, IEnumerable<T> rows, Func<T, string> render)
    {
        using var e = rows.GetEnumerator();
        var any = e.MoveNext();
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        var body = ctx.Response.BodyWriter;
        var unflushed = Encoding.UTF8.GetBytes("[", body);
        if (any)
        {
            unflushed += Encoding.UTF8.GetBytes(render(e.Current), body);
            while (e.MoveNext())
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

    /// <summary>
    /// The additive paging options of list routes: <c>limit</c> (1..100000) and <c>after</c> (the uuid of the last item
    /// of the previous page; its sequence number comes from <paramref name="seqOf"/>). Without them, everything.
    /// </summary>
    private static (long After, int? Limit) Paging(HttpContext ctx, Func<Guid, long?> seqOf)
    {
        int? limit = null;
        if (Q(ctx, "limit") is { } rawLimit)
        {
            if (!int.TryParse(rawLimit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1 || n > 100_000)
                throw ApiError.ValidationOne(["query", "limit"], $"limit must be an integer from 1 to 100000, got '{ApiError.Echo(rawLimit)}'", "value_error");
            limit = n;
        }
        long after = 0;
        if (Q(ctx, "after") is { } rawAfter)
        {
            var id = BrokerCore.TryParseUuid(rawAfter, out var g) ? g
                : throw ApiError.ValidationOne(["query", "after"], $"after must be the uuid of the last item of the previous page, got '{ApiError.Echo(rawAfter)}'", "type_error.uuid");
            after = seqOf(id) ?? throw ApiError.ValidationOne(["query", "after"], $"after names {id:D}, which is not in this list's store", "value_error");
        }
        return (after, limit);
    }

    /// <summary>The authenticated user, or a 401 in the FINALES2 wording.</summary>
    public static UserRecord Caller(HttpContext ctx)
    {
        if (ctx.Items.TryGetValue("user", out var cached) && cached is UserRecord u0) return u0;
        var header = ctx.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(401, "Not authenticated");
        var svc = Svc(ctx);
        var token = svc.Tokens.Validate(header[7..].Trim(), DateTime.UtcNow);
        // A token issued before the user's password changed (or before a deactivation) carries an older version.
        if (token is not { } t || !svc.Current.Users.TryGetValue(t.Username, out var user) || !user.IsActive || user.TokenVersion != t.Version)
            throw new ApiError(401, "Authentication failed. Wrong username or password.");
        ctx.Items["user"] = user;
        return user;
    }

    private static UserRecord Writer(HttpContext ctx)
    {
        var u = Caller(ctx);
        if (!u.CanWrite) throw new ApiError(403, $"user {u.Username} has roles [{string.Join(", ", u.Roles)}]; this needs role tenant or admin");
        return u;
    }

    private static UserRecord Admin(HttpContext ctx)
    {
        var u = Caller(ctx);
        if (!u.IsAdmin) throw new ApiError(403, $"user {u.Username} is not an admin");
        return u;
    }

    private static Guid PathUuid(HttpContext ctx, string name)
    {
        var raw = ctx.Request.RouteValues[name]?.ToString() ?? "";
        return BrokerCore.TryParseUuid(raw, out var g) ? g : throw new ApiError(400, "badly formed hexadecimal UUID string");
    }

    private static Guid? QueryUuid(HttpContext ctx, string name)
    {
        var raw = ctx.Request.Query[name].ToString();
        if (string.IsNullOrEmpty(raw)) return null;
        return BrokerCore.TryParseUuid(raw, out var g) ? g : throw new ApiError(400, "badly formed hexadecimal UUID string");
    }

    private static string? Q(HttpContext ctx, string name) =>
        ctx.Request.Query.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v.ToString()) ? Text(v.ToString(), ["query", name]) : null;

    /// <summary>A query or path value as text a store can hold: a NUL or a lone surrogate is a 422 naming where it is.</summary>
    private static string Text(string value, string[] loc)
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

    private static bool QBool(HttpContext ctx, string name, bool fallback)
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

    private static double? QDouble(HttpContext ctx, string name, double min, double max)
    {
        var raw = Q(ctx, name);
        if (raw is null) return null;
        if (!double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw ApiError.ValidationOne(["query", name], $"{name} must be a number, got '{raw}'", "type_error.float");
        if (v < min || v > max) throw ApiError.ValidationOne(["query", name], $"{name} must be between {min} and {max}, got {v}", "value_error");
        return v;
    }

    /// <summary>
    /// Reads a JSON body through the core's one strict reader (415 for a non-JSON content type, 413 when too large,
    /// 422 naming the path for malformed JSON, a duplicate member, a non-finite number or text that is not valid
    /// UTF-8), so what is validated is exactly what is stored and served.
    /// </summary>
    private static async Task<JsonDocument> Body(HttpContext ctx)
    {
        var ct = ctx.Request.ContentType;
        if (!string.IsNullOrEmpty(ct) && !ct.Contains("json", StringComparison.OrdinalIgnoreCase))
            throw new ApiError(415, $"Content-Type must be application/json, got '{ct}'");
        // Sized from Content-Length when given (no regrowing copies of a large body); Kestrel enforces the limit.
        var expected = ctx.Request.ContentLength is { } n && n > 0 && n <= Svc(ctx).Options.MaxBodyBytes ? (int)n : 0;
        using var buffer = new MemoryStream(expected);
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted);
        return BrokerCore.TryParseJson(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), [], out var document, out var issue)
            ? document : throw ApiError.Validation([issue], "body");
    }

    /// <summary>
    /// Reads the login form within limits fit for a username and password (no file parts, few and short fields);
    /// a form beyond them or malformed (e.g. multipart without a usable boundary) is a 422 naming the body, not a 500.
    /// </summary>
    private static async Task<IFormCollection> LoginForm(HttpContext ctx)
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

    /// <summary>A lookup by the id in the path: its JSON, or `null` (FINALES2 clients poll on that) when unknown.</summary>
    private static Task Lookup<T>(HttpContext ctx, string parameter, Func<SqlBrokerStore, Guid, T?> fetch, Func<T, string> render) where T : class
    {
        Caller(ctx);
        var row = fetch(Svc(ctx).Store, PathUuid(ctx, parameter));
        return WriteJson(ctx, row is null ? "null" : render(row));
    }

    /// <summary>Reads and decodes a result body (422 naming the path) and checks the caller may act for its tenant.</summary>
    private static async Task<(UserRecord User, BrokerService Svc, ResultBody Result)> ResultBodyOf(HttpContext ctx, bool solicited)
    {
        var user = Writer(ctx);
        using var doc = await Body(ctx);
        var svc = Svc(ctx);
        if (!BrokerCore.TryDecodeResult(svc.Options.Limits, solicited, doc.RootElement, out var result, out var issues))
            throw ApiError.Validation(issues);
        CheckActsFor(svc, user, BrokerCore.TenantOf(result));
        return (user, svc, result);
    }

    /// <summary>
    /// Result-data validation under the configured policy, against the request as stored (null: unsolicited):
    /// refusals become 422, warnings are logged.
    /// </summary>
    private static void CheckResult(WebApplication app, BrokerService svc, Catalog catalog, string? storedRequest, ResultBody result)
    {
        if (!BrokerCore.TryValidateResult(catalog, svc.Options.ResultPolicy, storedRequest, result, out var warnings, out var issues))
            throw ApiError.Validation(issues);
        foreach (var w in warnings)
            app.Logger.LogWarning("Result data outside its capability's schema accepted (result validation warn): {Warning}", w);
    }

    /// <summary>
    /// Fix 10: the tenant must be registered, active, and the caller must be allowed to act for it. Every write that
    /// acts for a tenant passes here, so a deactivated tenant can neither post nor reserve, claim or post results
    /// (admins included: reactivate the tenant first); reads stay allowed.
    /// </summary>
    private static void CheckActsFor(BrokerService svc, UserRecord user, Guid tenant)
    {
        var record = svc.Current.TenantRecords.FirstOrDefault(t => t.Uuid == tenant)
            ?? throw new ApiError(403, $"tenant {tenant:D} is not registered with this broker");
        if (!user.IsAdmin && !user.Tenants.Contains(tenant))
            throw new ApiError(403, $"user {user.Username} may not act for tenant {tenant:D}");
        if (!record.IsActive)
            throw new ApiError(403, $"tenant {tenant:D} ({ApiError.Echo(record.Name)}) is deactivated; it may not write until an admin activates it again");
    }

    /// <summary>The tenant a reservation is made for: ?tenant_uuid= if given, else the user's (first) tenant; checked like any write.</summary>
    private static Guid? ActingTenant(HttpContext ctx, BrokerService svc, UserRecord user)
    {
        var given = QueryUuid(ctx, "tenant_uuid");
        if (given is { } g) { CheckActsFor(svc, user, g); return g; }
        if (user.Tenants.Count == 0) return null;
        CheckActsFor(svc, user, user.Tenants[0]);
        return user.Tenants[0];
    }

    /// <summary>A lease length from the query: 1 s up to the configured maximum (422 above it), or the fallback.</summary>
    private static double LeaseSeconds(HttpContext ctx, BrokerService svc, double fallback) =>
        QDouble(ctx, "lease_seconds", 1, svc.Options.MaxLeaseSeconds) ?? Math.Min(fallback, svc.Options.MaxLeaseSeconds);

    /// <summary>The reservation policy of the core (<c>Catalog.mayReserve</c>) as a 403.</summary>
    private static void CheckMayReserve(BrokerService svc, UserRecord user, Guid? tenant, string quantity, IEnumerable<string> methods)
    {
        if (!BrokerCore.MayReserve(svc.Current.Catalog, user.IsAdmin, tenant, quantity, methods, out var refusal))
            throw new ApiError(403, refusal);
    }

    private static void Map(IEndpointRouteBuilder app, string method, string path, string summary, bool auth, string tag, Func<HttpContext, Task> handler)
    {
        Routes.Add(new RouteDoc(method, path, summary, auth, tag));
        // ASP.NET Core routing matches a path with or without its trailing slash, so both spellings reach one endpoint.
        app.MapMethods(path, [method], (RequestDelegate)(ctx => handler(ctx))).WithDisplayName($"{method} {path}");
    }

    // ------------------------------------------------------------ the routes

    public static void MapBrokerApi(this WebApplication app)
    {
        Routes.Clear();
        MapCompatible(app);
        MapExtensions(app);
        MapAdmin(app);
        MapDocs(app);
    }

    private static void MapCompatible(WebApplication app)
    {
        Map(app, "POST", "/user_management/authenticate", "Log in with form fields username and password; returns a bearer token.", false, "auth", async ctx =>
        {
            if (!ctx.Request.HasFormContentType)
                throw ApiError.ValidationOne(["body", "username"], "field required (send username and password as form fields)", "value_error.missing");
            var form = await LoginForm(ctx);
            var username = form["username"].ToString();
            var password = form["password"].ToString();
            if (string.IsNullOrEmpty(username)) throw ApiError.ValidationOne(["body", "username"], "field required", "value_error.missing");
            if (string.IsNullOrEmpty(password)) throw ApiError.ValidationOne(["body", "password"], "field required", "value_error.missing");
            var grant = form["grant_type"].ToString();
            if (grant.Length > 0 && grant != "password")
                throw ApiError.ValidationOne(["body", "grant_type"], $"grant_type must be 'password', got '{ApiError.Echo(grant)}'", "value_error.str.regex");
            var svc = Svc(ctx);
            var address = ctx.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (svc.Logins.Blocked(address, username) is { } wait)
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                throw new ApiError(429, $"too many failed logins from this address or for this user; retry after {seconds} s") { RetryAfterSeconds = seconds };
            }
            // Unknown user and wrong password give the same answer (no user enumeration), and the same work: unknown
            // and inactive users are verified against a dummy hash with the same iterations.
            var known = svc.Current.Users.TryGetValue(username, out var user) && user.IsActive;
            var verified = Passwords.Verify(known ? user!.PasswordHash : Passwords.Dummy, password);
            if (!known || !verified)
            {
                svc.Logins.Failed(address, username);
                ctx.Response.Headers.WWWAuthenticate = "Bearer";
                throw new ApiError(401, "Authentication failed. Wrong username or password.");
            }
            await WriteJson(ctx, new Dictionary<string, string> { ["access_token"] = svc.Tokens.Issue(username, user!.TokenVersion, DateTime.UtcNow), ["token_type"] = "bearer" });
        });

        Map(app, "GET", "/", "Liveness greeting.", false, "misc", ctx => WriteJson(ctx, JsonString("Hello! This is FINALES2.")));

        Map(app, "GET", "/test", "Who am I: username, uuid, usergroups of the caller.", true, "auth", ctx =>
        {
            var u = Caller(ctx);
            var uuid = new Guid(System.Security.Cryptography.MD5.HashData(Encoding.UTF8.GetBytes("finales-user:" + u.Username)));
            return WriteJson(ctx, new Dictionary<string, object> { ["username"] = u.Username, ["uuid"] = uuid.ToString("D"), ["usergroups"] = u.Roles });
        });

        Map(app, "GET", "/requests/{object_id}", "One request (RequestInfo) or null.", true, "requests",
            ctx => Lookup(ctx, "object_id", (store, id) => store.Request(id), RequestInfo));

        Map(app, "GET", "/results/{object_id}", "One result (ResultInfo) or null.", true, "results",
            ctx => Lookup(ctx, "object_id", (store, id) => store.Result(id), ResultInfo));

        Map(app, "POST", "/requests/", "Post a request (validated against the active capability and the tenants' limitations); returns its id.", true, "requests", async ctx =>
        {
            var user = Writer(ctx);
            using var doc = await Body(ctx);
            var svc = Svc(ctx);
            if (!BrokerCore.TryDecodeRequest(svc.Options.Limits, doc.RootElement, out var request, out var issues))
                throw ApiError.Validation(issues);
            CheckActsFor(svc, user, BrokerCore.TenantOf(request));
            var snapshot = svc.Current;
            if (!BrokerCore.TryValidateRequest(svc.Options.Limits, snapshot.Catalog, svc.Options.Policy, request, out var warnings, out issues))
                throw ApiError.Validation(issues);
            if (BrokerCore.ParentRequest(request) is { } parent && svc.Store.Request(parent) is null)
                throw ApiError.ValidationOne(["body", "parent_request"], $"parent_request {parent:D} does not exist", "value_error");
            foreach (var w in warnings)
                app.Logger.LogWarning("Request outside every tenant's limitations accepted (policy warn): {Warning}", w);
            var id = await svc.Store.PostRequestAsync(request, user);
            await WriteJson(ctx, JsonString(id.ToString("D")));
        });

        Map(app, "POST", "/results/", "Post a result for a pending request or one reserved by the posting tenant; resolves it.", true, "results", async ctx =>
        {
            var (user, svc, result) = await ResultBodyOf(ctx, solicited: true);
            var requestId = BrokerCore.RequestOf(result) ?? throw new InvalidOperationException("a solicited result carries its request_uuid");
            var catalog = svc.Current.Catalog;
            var id = await svc.Store.PostResultAsync(requestId, result, user, stored =>
            {
                if (stored is null)
                    throw ApiError.ValidationOne(["body", "request_uuid"], $"request {requestId:D} does not exist", "value_error");
                CheckResult(app, svc, catalog, stored, result);
            });
            await WriteJson(ctx, JsonString(id.ToString("D")));
        });

        Map(app, "POST", "/results/post_unsolicited_result", "Post a result nobody requested; an 'unsolicited' request is created for it.", true, "results", async ctx =>
        {
            var (user, svc, result) = await ResultBodyOf(ctx, solicited: false);
            CheckResult(app, svc, svc.Current.Catalog, null, result);
            var id = await svc.Store.PostUnsolicitedAsync(result, user);
            await WriteJson(ctx, JsonString(id.ToString("D")));
        });

        Map(app, "GET", "/pending_requests/", "Pending requests, optionally for one quantity and method; wait_seconds long-polls; limit and after page.", true, "requests", async ctx =>
        {
            Caller(ctx);
            var store = Svc(ctx).Store;
            var q = Q(ctx, "quantity");
            var m = Q(ctx, "method");
            var wait = QDouble(ctx, "wait_seconds", 0, 60) ?? 0;
            var (after, limit) = Paging(ctx, store.RequestSeq);
            if (wait > 0)
            {
                // Wait until a write makes a matching request pending (no polling): register before each look, so a
                // signal between the look and the wait is not lost. Another process sharing a PostgreSQL database
                // does not signal this one, hence the slow re-check there.
                var deadline = DateTime.UtcNow.AddSeconds(wait);
                var recheck = TimeSpan.FromSeconds(store.IsPostgres ? 1 : 5);
                while (!ctx.RequestAborted.IsCancellationRequested)
                {
                    using var waiter = store.Signals.Wait(q, m);
                    if (store.StreamPending(q, m, after, 1).Any()) break;
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) break;
                    await Task.WhenAny(waiter.Fired, Task.Delay(left < recheck ? left : recheck, ctx.RequestAborted));
                }
            }
            await WriteJsonArray(ctx, store.StreamPending(q, m, after, limit), RequestInfo);
        });

        Map(app, "GET", "/all_requests/", "Every request, every status, oldest first; limit and after page.", true, "requests", async ctx =>
        {
            Caller(ctx);
            var store = Svc(ctx).Store;
            var (after, limit) = Paging(ctx, store.RequestSeq);
            await WriteJsonArray(ctx, store.StreamAllRequests(after, limit), RequestInfo);
        });

        Map(app, "GET", "/results_requested/{request_id}", "The current result of a request (not a deleted one), or null.", true, "results",
            ctx => Lookup(ctx, "request_id", (store, id) => store.CurrentResult(id), ResultInfo));

        Map(app, "GET", "/results_requested/", "All results (all statuses), optionally for one quantity and method, min_rating filters by data.*.meta.rating; limit and after page.", true, "results", async ctx =>
        {
            Caller(ctx);
            var store = Svc(ctx).Store;
            var minRating = QDouble(ctx, "min_rating", 0, 5);
            var (after, limit) = Paging(ctx, store.ResultSeq);
            await WriteJsonArray(ctx, store.StreamResults(Q(ctx, "quantity"), Q(ctx, "method"), minRating, after, limit), ResultInfo);
        });

        Map(app, "GET", "/capabilities/", "Capabilities; with currently_available=true (default) only those some active tenant offers.", true, "capabilities", ctx =>
        {
            Caller(ctx);
            var snap = Svc(ctx).Current;
            var caps = AvailableCapabilities(snap, QBool(ctx, "currently_available", true));
            return WriteJson(ctx, JsonArray(caps.Select(c =>
                $"{{\"quantity\":{JsonString(c.Quantity)},\"method\":{JsonString(c.Method)},\"json_schema_specifications\":{c.Specification},\"json_schema_result_output\":{c.ResultOutput}}}")));
        });

        Map(app, "GET", "/limitations/", "Per capability, the concatenated limitations of the (active) tenants offering it.", true, "capabilities", ctx =>
        {
            Caller(ctx);
            var snap = Svc(ctx).Current;
            var onlyActive = QBool(ctx, "currently_available", true);
            // From the catalog's strictly parsed limitations: an unusable stored entry is not offered, so not listed.
            return WriteJson(ctx, JsonArray(BrokerCore.LimitationGroups(snap.Catalog, onlyActive).Select(g =>
                $"{{\"quantity\":{JsonString(g.Quantity)},\"method\":{JsonString(g.Method)},\"limitations\":{JsonArray(g.Documents.Select(d => d.GetRawText()))}}}")));
        });

        Map(app, "POST", "/requests/{object_id}/update_status/", "Change a request's status (query request_id, new_status, status_change_message).", true, "requests", async ctx =>
        {
            var user = Writer(ctx);
            var svc = Svc(ctx);
            var id = QueryUuid(ctx, "request_id") ?? PathUuid(ctx, "object_id");
            var raw = Q(ctx, "new_status") ?? throw ApiError.ValidationOne(["query", "new_status"], "field required", "value_error.missing");
            if (!BrokerCore.TryParseRequestState(raw, out var status))
                throw ApiError.ValidationOne(["query", "new_status"], $"new_status must be one of pending, reserved, resolved, retracted, unsolicited; got '{raw}'", "type_error.enum");
            var message = Q(ctx, "status_change_message") ?? "";
            var tenant = ActingTenant(ctx, svc, user);
            // Quantity and methods never change, so checking before the locked reservation is race-free.
            if (status == RequestState.Reserved && svc.Store.QuantityAndMethods(id) is { } capability)
                CheckMayReserve(svc, user, tenant, capability.Quantity, capability.Methods);
            if (!BrokerCore.TryCommandFor(status, tenant, svc.Options.DefaultLeaseSeconds, out var command, out var refusal))
                throw new ApiError(409, refusal);
            await svc.Store.ExecuteAsync(id, user, tenant, command, message);
            await WriteJson(ctx, JsonString($"Successful change of status to {raw}"));
        });

        Map(app, "POST", "/results/{object_id}/update_status/", "Change a result's status (query result_id, new_status: deleted or amended).", true, "results", ctx =>
        {
            var user = Writer(ctx);
            var id = QueryUuid(ctx, "result_id") ?? PathUuid(ctx, "object_id");
            var raw = Q(ctx, "new_status") ?? throw ApiError.ValidationOne(["query", "new_status"], "field required", "value_error.missing");
            if (!BrokerCore.TryParseResultStatus(raw, out var status))
                throw ApiError.ValidationOne(["query", "new_status"], $"new_status must be one of original, deleted, amended; got '{raw}'", "type_error.enum");
            Svc(ctx).Store.SetResultStatus(id, user, status, Q(ctx, "status_change_message") ?? "");
            return WriteJson(ctx, JsonString($"Successful change of status to {raw}"));
        });

        Map(app, "GET", "/capabilities/templates/", "Input/output templates of capabilities ('required, float' leaves).", true, "capabilities", ctx =>
        {
            Caller(ctx);
            var snap = Svc(ctx).Current;
            var q = Q(ctx, "quantity");
            var m = Q(ctx, "method");
            var result = new JsonObject();
            foreach (var c in AvailableCapabilities(snap, QBool(ctx, "currently_available", true)))
            {
                if ((q is not null && c.Quantity != q) || (m is not null && c.Method != m)) continue;
                result[$"{c.Quantity}-{c.Method}"] = new JsonObject
                {
                    ["input_template"] = BrokerService.Template(c.Specification),
                    ["output_template"] = BrokerService.Template(c.ResultOutput),
                };
            }
            return WriteJson(ctx, result.ToJsonString());
        });

        Map(app, "GET", "/tenants/", "Every registered tenant, inactive ones included.", true, "tenants", ctx =>
        {
            Caller(ctx);
            return WriteJson(ctx, JsonArray(Svc(ctx).Current.TenantRecords.Select(TenantInfo)));
        });

        Map(app, "GET", "/database_dump/{access_key}", "Export of the whole store (admin, and the key must equal the configured dump key).", true, "admin", ctx =>
        {
            Admin(ctx);
            var svc = Svc(ctx);
            var key = ctx.Request.RouteValues["access_key"]?.ToString() ?? "";
            if (string.IsNullOrEmpty(svc.Options.DumpKey)) throw new ApiError(403, "database dump is disabled: no dump key is configured (--dump-key or FINALES_DUMP_KEY)");
            if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(svc.Options.DumpKey)))
                throw new ApiError(403, "wrong access key");
            return WriteJson(ctx, svc.Store.Dump());
        });
    }

    private static string TenantInfo(TenantRecord t) =>
        $"{{\"tenant_uuid\":\"{t.Uuid:D}\",\"name\":{JsonString(t.Name)},\"limitations\":{t.LimitationsJson},\"contact_person\":{JsonString(t.ContactPerson)},\"is_active\":{(t.IsActive ? "true" : "false")}}}";

    private static IEnumerable<CapabilityRecord> AvailableCapabilities(Snapshot snap, bool onlyOffered)
    {
        var active = snap.CapabilityRecords.Where(c => c.IsActive);
        if (!onlyOffered) return active;
        return active.Where(c => BrokerCore.IsOffered(snap.Catalog, c.Quantity, c.Method));
    }

    private static void MapExtensions(WebApplication app)
    {
        Map(app, "POST", "/requests/claim", "Atomically reserve the oldest matching pending request (RequestInfo), or 204 when none. Query quantity, method, lease_seconds, tenant_uuid.", true, "extensions", async ctx =>
        {
            var user = Writer(ctx);
            var svc = Svc(ctx);
            var lease = LeaseSeconds(ctx, svc, 300);
            var tenant = ActingTenant(ctx, svc, user);
            var (quantity, method) = (Q(ctx, "quantity"), Q(ctx, "method"));
            if (!user.IsAdmin)
            {
                // Tenants claim only what their limitations offer. Without quantity or method, the claim is for the
                // one capability the tenant offers that fits what was given; when that is ambiguous, 422 asks for them.
                var offered = BrokerCore.Offerings(svc.Current.Catalog, tenant)
                    .Where(c => (quantity is null || c.Quantity == quantity) && (method is null || c.Method == method)).ToList();
                if (quantity is null || method is null)
                {
                    if (offered.Count != 1)
                        throw ApiError.ValidationOne(["query", quantity is null ? "quantity" : "method"],
                            $"give quantity and method: the acting tenant offers {offered.Count} capabilities that fit ({ApiError.Echo(string.Join(", ", offered.Select(c => c.Quantity + "/" + c.Method)))})",
                            "value_error.missing");
                    (quantity, method) = (offered[0].Quantity, offered[0].Method);
                }
                // A capability the broker does not know has nothing to claim (204, as before); a known one the
                // tenant does not offer is refused.
                if (offered.Count == 0 && !BrokerCore.IsKnown(svc.Current.Catalog, quantity, method))
                {
                    ctx.Response.StatusCode = 204;
                    return;
                }
                CheckMayReserve(svc, user, tenant, quantity, [method]);
            }
            var row = await svc.Store.ClaimAsync(quantity, method, user, tenant, lease);
            if (row is null) { ctx.Response.StatusCode = 204; return; }
            await WriteJson(ctx, RequestInfo(row));
        });

        Map(app, "POST", "/requests/{object_id}/heartbeat", "Extend the caller's lease on a reserved request (query lease_seconds).", true, "extensions", async ctx =>
        {
            var user = Writer(ctx);
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "object_id");
            var lease = LeaseSeconds(ctx, svc, 300);
            var state = await svc.Store.ExecuteAsync(id, user, ActingTenant(ctx, svc, user), BrokerCore.Heartbeat(lease), "heartbeat");
            await WriteJson(ctx, new Dictionary<string, object?>
            {
                ["uuid"] = id.ToString("D"),
                ["status"] = BrokerCore.StatusName(state),
                ["lease_until"] = BrokerCore.LeaseUntil(state) is { } until ? WireFormat.ctime(until) : null,
            });
        });

        Map(app, "GET", "/requests/{object_id}/history", "Status events of a request, oldest first.", true, "extensions", ctx =>
        {
            Caller(ctx);
            var id = PathUuid(ctx, "object_id");
            return WriteJson(ctx, Svc(ctx).Store.History(id).Select(HistoryJson).ToList());
        });

        Map(app, "GET", "/results/{object_id}/history", "Status events of a result, oldest first.", true, "extensions", ctx =>
        {
            Caller(ctx);
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "object_id");
            var req = svc.Store.RequestOfResult(id);
            if (req is null) return WriteJson(ctx, "null");
            return WriteJson(ctx, svc.Store.History(req.Value, id).Select(h => HistoryJson(h.Kind == "result_posted" ? h with { Status = "original" } : h)).ToList());
        });

        Map(app, "GET", "/lineage/{object_id}", "From a request or result id: the request, its events, results, parent and children.", true, "extensions", ctx =>
        {
            Caller(ctx);
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "object_id");
            var requestId = svc.Store.Request(id) is not null ? id : svc.Store.RequestOfResult(id);
            if (requestId is null) return WriteJson(ctx, "null");
            var req = svc.Store.Request(requestId.Value)!;
            var (parent, children) = svc.Store.Family(requestId.Value);
            var json = new StringBuilder();
            json.Append("{\"request\":").Append(RequestInfo(req));
            json.Append(",\"history\":").Append(JsonSerializer.Serialize(svc.Store.History(requestId.Value).Select(HistoryJson)));
            json.Append(",\"results\":").Append(JsonArray(svc.Store.ResultsOf(requestId.Value).Select(ResultInfo)));
            json.Append(",\"parent\":").Append(parent is null ? "null" : JsonString(parent.Value.ToString("D")));
            json.Append(",\"children\":").Append(JsonSerializer.Serialize(children.Select(c => c.ToString("D"))));
            json.Append('}');
            return WriteJson(ctx, json.ToString());
        });

        Map(app, "PUT", "/tenants/{tenant_uuid}/limitations", "Replace a tenant's limitations (the tenant itself or an admin).", true, "tenants", async ctx =>
        {
            var user = Writer(ctx);
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "tenant_uuid");
            CheckActsFor(svc, user, id);
            using var doc = await Body(ctx);
            svc.SetTenantLimitations(id, doc.RootElement);
            await WriteJson(ctx, JsonString($"limitations of tenant {id:D} replaced"));
        });

        Map(app, "GET", "/healthz", "Liveness and the store's health (read probe, last write failure); 503 when the store is unhealthy.", false, "misc", ctx =>
        {
            var store = Svc(ctx).Store;
            var problem = store.Health();
            return problem is null
                ? WriteJson(ctx, new Dictionary<string, string> { ["status"] = "ok", ["store"] = store.Description })
                : WriteJson(ctx, new Dictionary<string, string> { ["status"] = "unhealthy", ["store"] = store.Description, ["detail"] = "store unavailable: " + problem }, 503);
        });

        Map(app, "GET", "/metrics", "Prometheus text metrics (roles admin or observer).", true, "misc", async ctx =>
        {
            var caller = Caller(ctx);
            if (!caller.IsAdmin && !caller.Roles.Contains("observer"))
                throw new ApiError(403, $"user {caller.Username} has roles [{string.Join(", ", caller.Roles)}]; /metrics needs role admin or observer");
            var svc = Svc(ctx);
            var sb = new StringBuilder();
            sb.AppendLine("# TYPE finales_requests gauge");
            foreach (var (status, n) in svc.Store.StatusCounts()) sb.AppendLine($"finales_requests{{status=\"{status}\"}} {n}");
            sb.AppendLine("# TYPE finales_http_responses_total counter");
            foreach (var (key, n) in Metrics.Snapshot()) sb.AppendLine($"finales_http_responses_total{{route=\"{key.Route}\",code=\"{key.Code}\"}} {n}");
            if (!svc.Store.IsPostgres)
            {
                var (commits, jobs, checkpoints) = svc.Store.WriteStats;
                Metric(sb, "finales_sqlite_commits_total", "counter", "Write transactions committed (group commits).", commits);
                Metric(sb, "finales_sqlite_write_jobs_total", "counter", "Writes carried by those commits (jobs / commits = batch size).", jobs);
                Metric(sb, "finales_sqlite_checkpoints_total", "counter", "Background WAL checkpoints.", checkpoints);
            }
            Metric(sb, "finales_pending_waiters", "gauge", "Clients long-polling GET /pending_requests/ now.", svc.Store.Signals.Waiters);
            Metric(sb, "finales_pending_waiter_wakeups_total", "counter", "Long-polling waiters woken by a write that made a matching request pending.", svc.Store.Signals.Wakeups);
            var p = Process.GetCurrentProcess();
            sb.AppendLine("# TYPE process_resident_memory_bytes gauge");
            sb.AppendLine($"process_resident_memory_bytes {p.WorkingSet64}");
            ctx.Response.ContentType = "text/plain; version=0.0.4";
            await ctx.Response.WriteAsync(sb.ToString());
        });
    }

    /// <summary>One unlabelled Prometheus metric: its HELP and TYPE lines and its value.</summary>
    private static void Metric(StringBuilder sb, string name, string type, string help, long value)
    {
        sb.AppendLine($"# HELP {name} {help}");
        sb.AppendLine($"# TYPE {name} {type}");
        sb.AppendLine($"{name} {value}");
    }

    private static Dictionary<string, object?> HistoryJson(HistoryEntry h) => new()
    {
        ["status"] = h.Status,
        ["time"] = h.Time,
        ["actor"] = h.Actor,
        ["tenant_uuid"] = h.TenantUuid,
        ["message"] = h.Message,
        ["event"] = h.Kind,
        ["result_uuid"] = h.ResultUuid?.ToString("D"),
    };

    private static void MapAdmin(WebApplication app)
    {
        Map(app, "POST", "/admin/users", "Create a user {username, password, roles, tenants}.", true, "admin", async ctx =>
        {
            Admin(ctx);
            using var doc = await Body(ctx);
            var u = Svc(ctx).AddUser(doc.RootElement);
            await WriteJson(ctx, new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive }, 201);
        });
        Map(app, "GET", "/admin/users", "List users (without password hashes).", true, "admin", ctx =>
        {
            Admin(ctx);
            return WriteJson(ctx, Svc(ctx).Store.Users().Select(u => new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive }));
        });
        Map(app, "POST", "/admin/users/{username}", "Change a user's password, roles, tenants or is_active.", true, "admin", async ctx =>
        {
            Admin(ctx);
            using var doc = await Body(ctx);
            var u = Svc(ctx).UpdateUser(Text(ctx.Request.RouteValues["username"]?.ToString() ?? "", ["path", "username"]), doc.RootElement);
            await WriteJson(ctx, new { username = u.Username, roles = u.Roles, tenants = u.Tenants, is_active = u.IsActive });
        });
        Map(app, "POST", "/admin/capabilities", "Register a capability (FINALES2 capability file); deactivates the previous active version.", true, "admin", async ctx =>
        {
            Admin(ctx);
            using var doc = await Body(ctx);
            var (id, old) = Svc(ctx).AddCapability(doc.RootElement);
            await WriteJson(ctx, new { id, deactivated = old }, 201);
        });
        Map(app, "GET", "/admin/capabilities", "Every capability version with id and is_active.", true, "admin", ctx =>
        {
            Admin(ctx);
            return WriteJson(ctx, Svc(ctx).Store.Capabilities().Select(c => new { id = c.Id, quantity = c.Quantity, method = c.Method, is_active = c.IsActive, created = c.Created }));
        });
        foreach (var (verb, active) in new[] { ("activate", true), ("deactivate", false) })
        {
            Map(app, "POST", $"/admin/capabilities/{{id}}/{verb}", $"{verb} a capability version.", true, "admin", ctx =>
            {
                Admin(ctx);
                var raw = ctx.Request.RouteValues["id"]?.ToString();
                if (!long.TryParse(raw, out var id)) throw new ApiError(400, $"capability id must be an integer, got '{raw}'");
                Svc(ctx).SetCapabilityActive(id, active);
                return WriteJson(ctx, JsonString($"capability {id} {verb}d"));
            });
            Map(app, "POST", $"/admin/tenants/{{tenant_uuid}}/{verb}", $"{verb} a tenant.", true, "admin", ctx =>
            {
                Admin(ctx);
                var id = PathUuid(ctx, "tenant_uuid");
                Svc(ctx).SetTenantActive(id, active);
                return WriteJson(ctx, JsonString($"tenant {id:D} {verb}d"));
            });
        }
        Map(app, "POST", "/admin/tenants", "Register a tenant (FINALES2 tenant file plus optional uuid and users); returns its uuid.", true, "admin", async ctx =>
        {
            Admin(ctx);
            using var doc = await Body(ctx);
            var id = Svc(ctx).AddTenant(doc.RootElement);
            await WriteJson(ctx, JsonString(id.ToString("D")), 201);
        });
        Map(app, "GET", "/admin/audit", "Replay the event log and compare with the stored state.", true, "admin", ctx =>
        {
            Admin(ctx);
            var problems = Svc(ctx).Store.Audit();
            return WriteJson(ctx, new { ok = problems.Count == 0, problems });
        });
    }

    private static void MapDocs(WebApplication app)
    {
        app.MapGet("/openapi.json", (HttpContext ctx) => WriteJson(ctx, OpenApi()));
        app.MapGet("/docs", (HttpContext ctx) => { ctx.Response.ContentType = "text/html; charset=utf-8"; return ctx.Response.WriteAsync(DocsHtml()); });
        app.MapGet("/redoc", (HttpContext ctx) => { ctx.Response.ContentType = "text/html; charset=utf-8"; return ctx.Response.WriteAsync(DocsHtml()); });
    }

    private static string OpenApi()
    {
        var paths = new JsonObject();
        foreach (var r in Routes)
        {
            var item = paths[r.Path] as JsonObject ?? new JsonObject();
            var parameters = new JsonArray();
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(r.Path, "{([^}]+)}"))
                parameters.Add(new JsonObject { ["name"] = m.Groups[1].Value, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } });
            var op = new JsonObject
            {
                ["summary"] = r.Summary,
                ["tags"] = new JsonArray(r.Tag),
                ["parameters"] = parameters,
                ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "Successful Response" } },
            };
            if (r.Auth) op["security"] = new JsonArray(new JsonObject { ["OAuth2PasswordBearer"] = new JsonArray() });
            item[r.Method.ToLowerInvariant()] = op;
            paths[r.Path] = item;
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject { ["title"] = "Finales broker (FINALES2-compatible)", ["version"] = "1.1.0-finales" },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject
                {
                    ["OAuth2PasswordBearer"] = new JsonObject
                    {
                        ["type"] = "oauth2",
                        ["flows"] = new JsonObject { ["password"] = new JsonObject { ["scopes"] = new JsonObject(), ["tokenUrl"] = "user_management/authenticate" } },
                    },
                },
            },
        }.ToJsonString();
    }

    private static string DocsHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Finales broker API</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td{padding:.3em .6em;vertical-align:top}code{background:#f3f3f3}</style></head><body>");
        sb.Append("<h1>Finales broker API</h1><p>FINALES2-compatible. Log in with <code>POST /user_management/authenticate</code> (form fields username, password) and send <code>Authorization: Bearer &lt;token&gt;</code>. Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>.</p><table>");
        foreach (var g in Routes.GroupBy(r => r.Tag))
        {
            sb.Append($"<tr><th colspan=3 align=left><h3>{System.Net.WebUtility.HtmlEncode(g.Key)}</h3></th></tr>");
            foreach (var r in g)
                sb.Append($"<tr><td><b>{r.Method}</b></td><td><code>{System.Net.WebUtility.HtmlEncode(r.Path)}</code></td><td>{System.Net.WebUtility.HtmlEncode(r.Summary)}{(r.Auth ? "" : " <i>(no auth)</i>")}</td></tr>");
        }
        sb.Append("</table></body></html>");
        return sb.ToString();
    }
}

/// <summary>Response counters per route and status code, for /metrics.</summary>
public static class Metrics
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Route, int Code), long> Counts = new();
    public static void Count(string route, int code) => Counts.AddOrUpdate((route, code), 1, (_, n) => n + 1);
    public static IEnumerable<KeyValuePair<(string Route, int Code), long>> Snapshot() => Counts.OrderBy(k => k.Key.Route).ThenBy(k => k.Key.Code);
}
