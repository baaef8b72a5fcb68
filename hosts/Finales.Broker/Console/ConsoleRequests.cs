namespace Finales.Broker.WebConsole;

/// <summary>The request page and its buttons: retract and release run the same lifecycle commands as the REST status route.</summary>
public static class ConsoleRequests
{
    public static void MapRequestPages(this RouteGroupBuilder ui)
    {
        ui.MapGet("/requests/{id}", (HttpContext ctx, string id) => ConsoleGuard.Page(ctx, (session, svc) => Show(ctx, svc, session, id, null, null, 200)));

        ui.MapPost("/requests/{id}/retract", (HttpContext ctx, string id) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Write, (session, svc, form) =>
            Change(ctx, svc, session, id, RequestStatusCode.Retracted, form["message"].ToString())));

        ui.MapPost("/requests/{id}/release", (HttpContext ctx, string id) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Admin, (session, svc, form) =>
            Change(ctx, svc, session, id, RequestStatusCode.Pending, form["message"].ToString())));
    }

    private static Guid ParseId(string id) =>
        BrokerApiCore.TryParseUuid(id, out var g) ? g : throw new ApiError(400, $"'{ApiError.Echo(id)}' is not a request id (a UUID)");

    private static async Task<IResult> Show(HttpContext ctx, BrokerService svc, ConsoleSession session, string id, string? error, string? notice, int status)
    {
        var model = await ConsoleReads.Request(svc, session, ParseId(id)) ?? throw new ApiError(404, $"request {ApiError.Echo(id)} not found");
        return await ConsoleRender.Page<RequestPage>(ctx, new { Session = session, Model = model, Error = error, Notice = notice }, status);
    }

    private static async Task<IResult> Change(HttpContext ctx, BrokerService svc, ConsoleSession session, string id, RequestStatusCode to, string message)
    {
        var requestId = ParseId(id);
        // Only what the caller may see can be changed (a hidden request is a 404, as on the page).
        if (await ConsoleReads.Request(svc, session, requestId) is null) throw new ApiError(404, $"request {ApiError.Echo(id)} not found");
        var user = session.User;
        var holder = await ConsoleReads.Reads(svc).HolderAsync(requestId);
        // The tenant acted for: the requester when the user may act for it, else the user's first tenant (the REST default).
        Guid? tenant = holder is not null && user.Tenants.Contains(holder.Requester) ? holder.Requester : user.Tenants.Count > 0 ? user.Tenants[0] : null;
        if (tenant is { } t) Access.CheckActsFor(svc, user, t);
        if (!BrokerApiCore.TryCommandFor(to, tenant, svc.Options.DefaultLeaseSeconds, out var command, out var refusal))
            throw new ApiError(409, refusal);
        try
        {
            await svc.Store.ExecuteAsync(requestId, user, tenant, LifecycleCommand.OfCore(command), ApiInput.Text(message, ["body", "message"]));
        }
        catch (LifecycleRejectedException e)
        {
            var error = ApiError.FromLifecycle(e);
            return await Show(ctx, svc, session, id, ConsoleGuard.Describe(error), null, error.Status);
        }
        return Results.Redirect($"/ui/requests/{requestId:D}");
    }
}
