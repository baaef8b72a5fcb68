
namespace Finales.Broker;

/// <summary>The request routes: FINALES2's post, lookup, listings and status change, plus claim, heartbeat and history.</summary>
public static class RequestsApi
{
    public static IEndpointRouteBuilder MapRequestsApi(this IEndpointRouteBuilder app, ILogger log)
    {
        var requests = app.MapGroup("/requests");

        requests.MapRoute("/requests", "GET", "/{object_id}", "One request (RequestInfo) or null.", Policies.User, "requests", async ctx =>
        {
            var row = await Svc(ctx).Store.RequestAsync(PathUuid(ctx, "object_id"), ctx.RequestAborted);
            return row is null ? ApiResults.Null : ApiResults.Raw(WireJson.RequestInfo(row));
        });

        requests.MapRoute("/requests", "POST", "/", "Post a request (validated against the active capability and the tenants' limitations); returns its id.", Policies.Tenant, "requests", async ctx =>
        {
            var user = Caller(ctx);
            using var doc = await Body(ctx);
            var svc = Svc(ctx);
            if (!BrokerApiCore.TryDecodeRequest(svc.Options.Limits, doc.RootElement, out var request, out var issues))
                throw ApiError.Validation(issues);
            CheckActsFor(svc, user, BrokerApiCore.TenantOf(request));
            var snapshot = svc.Current;
            if (!BrokerApiCore.TryValidateRequest(svc.Options.Limits, snapshot.Catalog, svc.Options.Policy, request, out var warnings, out issues))
                throw ApiError.Validation(issues);
            if (BrokerApiCore.ParentRequest(request) is { } parent && await svc.Store.RequestAsync(parent, ctx.RequestAborted) is null)
                throw ApiError.ValidationOne(["body", "parent_request"], $"parent_request {parent:D} does not exist", "value_error");
            foreach (var w in warnings)
                log.LogWarning("Request outside every tenant's limitations accepted (policy warn): {Warning}", w);
            var id = await svc.Store.PostRequestAsync(request, user);
            return ApiResults.String(id.ToString("D"));
        });

        app.MapRoute("", "GET", "/pending_requests/", "Pending requests, optionally for one quantity and method; wait_seconds long-polls; limit and after page.", Policies.User, "requests", async ctx =>
        {
            var svc = Svc(ctx);
            var store = svc.Store;
            var q = Q(ctx, "quantity");
            var m = Q(ctx, "method");
            var wait = QDouble(ctx, "wait_seconds", 0, 60) ?? 0;
            var (after, limit) = await PagingAsync(ctx, store.RequestSeqAsync);
            if (wait > 0)
            {
                // Wait until a write makes a matching request pending (no polling): register before each look, so a
                // signal between the look and the wait is not lost. Another process sharing a PostgreSQL database
                // does not signal this one, hence the slow re-check there.
                var deadline = svc.Time.GetUtcNow().AddSeconds(wait);
                var recheck = TimeSpan.FromSeconds(store.IsPostgres ? 1 : 5);
                while (!ctx.RequestAborted.IsCancellationRequested)
                {
                    using var waiter = store.Signals.Wait(q, m);
                    if (await AnyAsync(store.StreamPendingAsync(q, m, after, 1, ctx.RequestAborted))) break;
                    var left = deadline - svc.Time.GetUtcNow();
                    if (left <= TimeSpan.Zero) break;
                    await Task.WhenAny(waiter.Fired, Task.Delay(left < recheck ? left : recheck, svc.Time, ctx.RequestAborted));
                }
            }
            return ApiResults.Stream(store.StreamPendingAsync(q, m, after, limit, ctx.RequestAborted), WireJson.RequestInfo);
        });

        app.MapRoute("", "GET", "/all_requests/", "Every request, every status, oldest first; limit and after page.", Policies.User, "requests", async ctx =>
        {
            var store = Svc(ctx).Store;
            var (after, limit) = await PagingAsync(ctx, store.RequestSeqAsync);
            return ApiResults.Stream(store.StreamAllRequestsAsync(after, limit, ctx.RequestAborted), WireJson.RequestInfo);
        });

        requests.MapRoute("/requests", "POST", "/{object_id}/update_status/", "Change a request's status (query request_id, new_status, status_change_message).", Policies.Tenant, "requests", async ctx =>
        {
            var user = Caller(ctx);
            var svc = Svc(ctx);
            var id = QueryUuid(ctx, "request_id") ?? PathUuid(ctx, "object_id");
            var raw = Q(ctx, "new_status") ?? throw ApiError.ValidationOne(["query", "new_status"], "field required", "value_error.missing");
            if (!BrokerApiCore.TryParseRequestState(raw, out var status))
                throw ApiError.ValidationOne(["query", "new_status"], $"new_status must be one of pending, reserved, resolved, retracted, unsolicited; got '{raw}'", "type_error.enum");
            var message = Q(ctx, "status_change_message") ?? "";
            var tenant = ActingTenant(ctx, svc, user);
            if (!BrokerApiCore.TryCommandFor(status, tenant, svc.Options.DefaultLeaseSeconds, out var command, out var refusal))
                throw new ApiError(409, refusal);
            if (status == RequestStatusCode.Reserved)
            {
                // The reservation policy sees the request's quantity and methods as read with its locked state (no
                // separate read); it refuses (403) before the lifecycle decides.
                var catalog = svc.Current.Catalog;
                await svc.Store.ExecuteAsync(id, user, tenant, LifecycleCommand.OfCore(command), message, capability => CheckMayReserve(catalog, user, tenant, capability.Quantity, capability.Methods));
            }
            else await svc.Store.ExecuteAsync(id, user, tenant, LifecycleCommand.OfCore(command), message);
            return ApiResults.String($"Successful change of status to {raw}");
        });

        requests.MapRoute("/requests", "POST", "/claim", "Atomically reserve the oldest matching pending request (RequestInfo), or 204 when none. Query quantity, method, lease_seconds, tenant_uuid.", Policies.Tenant, "extensions", async ctx =>
        {
            var user = Caller(ctx);
            var svc = Svc(ctx);
            var lease = LeaseSeconds(ctx, svc, 300);
            var tenant = ActingTenant(ctx, svc, user);
            var (quantity, method) = (Q(ctx, "quantity"), Q(ctx, "method"));
            if (!user.IsAdmin)
            {
                // Tenants claim only what their limitations offer. Without quantity or method, the claim is for the
                // one capability the tenant offers that fits what was given; when that is ambiguous, 422 asks for them.
                var offered = BrokerApiCore.Offerings(svc.Current.Catalog, tenant)
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
                if (offered.Count == 0 && !BrokerApiCore.IsKnown(svc.Current.Catalog, quantity, method))
                    return TypedResults.NoContent();
                CheckMayReserve(svc, user, tenant, quantity, [method]);
            }
            var row = await svc.Store.ClaimAsync(quantity, method, user, tenant, lease);
            return row is null ? TypedResults.NoContent() : ApiResults.Raw(WireJson.RequestInfo(row));
        });

        requests.MapRoute("/requests", "POST", "/{object_id}/heartbeat", "Extend the caller's lease on a reserved request (query lease_seconds).", Policies.Tenant, "extensions", async ctx =>
        {
            var user = Caller(ctx);
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "object_id");
            var lease = LeaseSeconds(ctx, svc, 300);
            var state = await svc.Store.ExecuteAsync(id, user, ActingTenant(ctx, svc, user), LifecycleCommand.OfCore(BrokerApiCore.Heartbeat(lease)), "heartbeat");
            return ApiResults.Json(new Dictionary<string, object?>
            {
                ["uuid"] = id.ToString("D"),
                ["status"] = state.StatusName,
                ["lease_until"] = state.LeaseUntil is { } until ? Finales.Core.WireFormat.ctime(until) : null,
            });
        });

        requests.MapRoute("/requests", "GET", "/{object_id}/history", "Status events of a request, oldest first.", Policies.User, "extensions", async ctx =>
        {
            var id = PathUuid(ctx, "object_id");
            return ApiResults.Json((await Svc(ctx).Store.HistoryAsync(id, null, ctx.RequestAborted)).Select(WireJson.History).ToList());
        });

        return app;
    }

    /// <summary>Whether <paramref name="rows"/> has a first row (read, then the reader is closed).</summary>
    private static async Task<bool> AnyAsync(IAsyncEnumerable<RequestRow> rows)
    {
        await using var e = rows.GetAsyncEnumerator();
        return await e.MoveNextAsync();
    }
}
