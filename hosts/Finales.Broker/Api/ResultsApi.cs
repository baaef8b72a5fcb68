using System.Text;
using System.Text.Json;
using Finales.Core;

namespace Finales.Broker;

/// <summary>The result routes: FINALES2's post (solicited and unsolicited), lookups and status change, plus history and lineage.</summary>
public static class ResultsApi
{
    public static IEndpointRouteBuilder MapResultsApi(this IEndpointRouteBuilder app, ILogger log)
    {
        var results = app.MapGroup("/results");

        results.MapRoute("/results", "GET", "/{object_id}", "One result (ResultInfo) or null.", Policies.User, "results", async ctx =>
        {
            var row = await Svc(ctx).Store.ResultAsync(PathUuid(ctx, "object_id"), ctx.RequestAborted);
            return row is null ? ApiResults.Null : ApiResults.Raw(WireJson.ResultInfo(row));
        });

        results.MapRoute("/results", "POST", "/", "Post a result for a pending request or one reserved by the posting tenant; resolves it.", Policies.Tenant, "results", async ctx =>
        {
            var (user, svc, result) = await ResultBodyOf(ctx, solicited: true);
            var requestId = BrokerApiCore.RequestOf(result) ?? throw new InvalidOperationException("a solicited result carries its request_uuid");
            var catalog = svc.Current.Catalog;
            var id = await svc.Store.PostResultAsync(requestId, result, user, stored =>
            {
                if (stored is null)
                    throw ApiError.ValidationOne(["body", "request_uuid"], $"request {requestId:D} does not exist", "value_error");
                CheckResult(log, svc, catalog, stored, result);
            });
            return ApiResults.String(id.ToString("D"));
        });

        results.MapRoute("/results", "POST", "/post_unsolicited_result", "Post a result nobody requested; an 'unsolicited' request is created for it.", Policies.Tenant, "results", async ctx =>
        {
            var (user, svc, result) = await ResultBodyOf(ctx, solicited: false);
            CheckResult(log, svc, svc.Current.Catalog, null, result);
            var id = await svc.Store.PostUnsolicitedAsync(result, user);
            return ApiResults.String(id.ToString("D"));
        });

        app.MapRoute("", "GET", "/results_requested/{request_id}", "The current result of a request (not a deleted one), or null.", Policies.User, "results", async ctx =>
        {
            var row = await Svc(ctx).Store.CurrentResultAsync(PathUuid(ctx, "request_id"), ctx.RequestAborted);
            return row is null ? ApiResults.Null : ApiResults.Raw(WireJson.ResultInfo(row));
        });

        app.MapRoute("", "GET", "/results_requested/", "All results (all statuses), optionally for one quantity and method, min_rating filters by data.*.meta.rating; limit and after page.", Policies.User, "results", async ctx =>
        {
            var store = Svc(ctx).Store;
            var minRating = QDouble(ctx, "min_rating", 0, 5);
            var (after, limit) = await PagingAsync(ctx, store.ResultSeqAsync);
            return ApiResults.Stream(store.StreamResultsAsync(Q(ctx, "quantity"), Q(ctx, "method"), minRating, after, limit, ctx.RequestAborted), WireJson.ResultInfo);
        });

        results.MapRoute("/results", "POST", "/{object_id}/update_status/", "Change a result's status (query result_id, new_status: deleted or amended).", Policies.Tenant, "results", async ctx =>
        {
            var user = Caller(ctx);
            var id = QueryUuid(ctx, "result_id") ?? PathUuid(ctx, "object_id");
            var raw = Q(ctx, "new_status") ?? throw ApiError.ValidationOne(["query", "new_status"], "field required", "value_error.missing");
            if (!BrokerApiCore.TryParseResultStatus(raw, out var status))
                throw ApiError.ValidationOne(["query", "new_status"], $"new_status must be one of original, deleted, amended; got '{raw}'", "type_error.enum");
            await Svc(ctx).Store.SetResultStatusAsync(id, user, StoreShapes.resultStatus(status), Q(ctx, "status_change_message") ?? "");
            return ApiResults.String($"Successful change of status to {raw}");
        });

        results.MapRoute("/results", "GET", "/{object_id}/history", "Status events of a result, oldest first.", Policies.User, "extensions", async ctx =>
        {
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "object_id");
            var ct = ctx.RequestAborted;
            var req = await svc.Store.RequestOfResultAsync(id, ct);
            if (req is null) return ApiResults.Null;
            return ApiResults.Json((await svc.Store.HistoryAsync(req.Value, id, ct)).Select(h => WireJson.History(h.Kind == "result_posted" ? h with { Status = "original" } : h)).ToList());
        });

        app.MapRoute("", "GET", "/lineage/{object_id}", "From a request or result id: the request, its events, results, parent and children.", Policies.User, "extensions", async ctx =>
        {
            var svc = Svc(ctx);
            var id = PathUuid(ctx, "object_id");
            var ct = ctx.RequestAborted;
            var requestId = await svc.Store.RequestAsync(id, ct) is not null ? id : await svc.Store.RequestOfResultAsync(id, ct);
            if (requestId is null) return ApiResults.Null;
            var req = (await svc.Store.RequestAsync(requestId.Value, ct))!;
            var (parent, children) = await svc.Store.FamilyAsync(requestId.Value, ct);
            var history = await svc.Store.HistoryAsync(requestId.Value, null, ct);
            var results = await svc.Store.ResultsOfAsync(requestId.Value, ct);
            var json = new StringBuilder();
            json.Append("{\"request\":").Append(WireJson.RequestInfo(req));
            json.Append(",\"history\":").Append(JsonSerializer.Serialize(history.Select(WireJson.History)));
            json.Append(",\"results\":").Append(WireJson.Array(results.Select(WireJson.ResultInfo)));
            json.Append(",\"parent\":").Append(parent is null ? "null" : WireJson.String(parent.Value.ToString("D")));
            json.Append(",\"children\":").Append(JsonSerializer.Serialize(children.Select(c => c.ToString("D"))));
            json.Append('}');
            return ApiResults.Raw(json.ToString());
        });

        return app;
    }

    /// <summary>Reads and decodes a result body (422 naming the path) and checks the caller may act for its tenant.</summary>
    private static async Task<(UserRecord User, BrokerService Svc, ResultBody Result)> ResultBodyOf(HttpContext ctx, bool solicited)
    {
        var user = Caller(ctx);
        using var doc = await Body(ctx);
        var svc = Svc(ctx);
        if (!BrokerApiCore.TryDecodeResult(svc.Options.Limits, solicited, doc.RootElement, out var result, out var issues))
            throw ApiError.Validation(issues);
        CheckActsFor(svc, user, BrokerApiCore.TenantOf(result));
        return (user, svc, result);
    }

    /// <summary>
    /// Result-data validation under the configured policy, against the request as stored (null: unsolicited):
    /// refusals become 422, warnings are logged.
    /// </summary>
    private static void CheckResult(ILogger log, BrokerService svc, Catalog catalog, string? storedRequest, ResultBody result)
    {
        if (!BrokerApiCore.TryValidateResult(catalog, svc.Options.ResultPolicy, storedRequest, result, out var warnings, out var issues))
            throw ApiError.Validation(issues);
        foreach (var w in warnings)
            log.LogWarning("Result data outside its capability's schema accepted (result validation warn): {Warning}", w);
    }
}
