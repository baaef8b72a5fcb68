using System.Text.Json;

namespace Finales.Broker.WebConsole;

/// <summary>
/// The new-request form: generated from the capability's schema (<see cref="ConsoleForm"/>), checked there for the
/// fields' syntax and the fractions, then decoded, validated against the schema and the tenants' limitations and
/// stored exactly as <c>POST /requests/</c> does (the core's decoder and validator, the store's post).
/// </summary>
public static class ConsoleNewRequest
{
    public static void MapNewRequest(this RouteGroupBuilder ui)
    {
        ui.MapPage("/new", (HttpContext ctx) => ConsoleGuard.Page(ctx, (session, svc) =>
            session.CanWrite
                ? Show(ctx, svc, session, null, new Dictionary<string, string[]>(), 200)
                : ConsoleGuard.Refused(ctx, session, new ApiError(403, $"user {session.User.Username} has roles [{string.Join(", ", session.User.Roles)}]; posting needs role tenant or admin"))));

        ui.MapForm("/new", (HttpContext ctx) => ConsoleGuard.Form(ctx, ConsoleGuard.Need.Write, async (session, svc, form) =>
        {
            var values = form.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => v ?? "").ToArray());
            var capability = Chosen(ctx, svc) ?? throw ApiError.ValidationOne(["query", "capability"], "capability: choose an active capability", "value_error");
            var fields = ConsoleForm.Fields(capability.Specification);
            var chemicals = ConsoleForm.Chemicals(svc.Current.TenantRecords, capability.Quantity, capability.Method);
            var (body, errors) = ConsoleForm.Body(capability, fields, chemicals, form);
            if (body is null) return await Show(ctx, svc, session, string.Join("; ", errors), values, 422);
            using var doc = JsonDocument.Parse(body.ToJsonString());
            var limits = svc.Options.Limits;
            if (!BrokerApiCore.TryDecodeRequest(limits, doc.RootElement, out var request, out var issues))
                return await Show(ctx, svc, session, Fields(issues, capability.Method), values, 422);
            Access.CheckActsFor(svc, session.User, BrokerApiCore.TenantOf(request));
            if (!BrokerApiCore.TryValidateRequest(limits, svc.Current.Catalog, svc.Options.Policy, request, out _, out issues))
                return await Show(ctx, svc, session, Fields(issues, capability.Method), values, 422);
            var id = await svc.Store.PostRequestAsync(request, session.User);
            return Results.Redirect($"/ui/requests/{id:D}");
        }));
    }

    /// <summary>The issues as "field: problem", the field path taken below parameters.&lt;method&gt;.</summary>
    private static string Fields(IReadOnlyList<Issue> issues, string method) =>
        string.Join("; ", issues.Select(i =>
        {
            var path = i.Path.Count >= 2 && i.Path[0] == "parameters" && i.Path[1] == method ? i.Path.Skip(2) : i.Path;
            return (path.Any() ? ValidationPath(path) + ": " : "") + i.Message;
        }));

    private static string ValidationPath(IEnumerable<string> path) =>
        string.Concat(path.Select((p, n) => int.TryParse(p, out _) ? $"[{p}]" : (n == 0 ? p : "." + p)));

    private static CapabilityRecord? Chosen(HttpContext ctx, BrokerService svc) =>
        long.TryParse(ctx.Request.Query["capability"].ToString(), out var id) ? svc.Current.CapabilityRecords.FirstOrDefault(c => c.Id == id && c.IsActive) : null;

    private static Task<IResult> Show(HttpContext ctx, BrokerService svc, ConsoleSession session, string? error, IReadOnlyDictionary<string, string[]> values, int status)
    {
        var active = svc.Current.CapabilityRecords.Where(c => c.IsActive).OrderBy(c => c.Quantity, StringComparer.Ordinal).ThenBy(c => c.Method, StringComparer.Ordinal).ToList();
        var chosen = Chosen(ctx, svc);
        var tenants = svc.Current.TenantRecords.Where(t => t.IsActive && (session.IsAdmin || session.User.Tenants.Contains(t.Uuid))).ToList();
        var model = chosen is null
            ? new NewRequestModel(active, null, [], [], tenants, 0, values)
            : new NewRequestModel(active, chosen, ConsoleForm.Fields(chosen.Specification), ConsoleForm.Chemicals(svc.Current.TenantRecords, chosen.Quantity, chosen.Method),
                tenants, ConsoleForm.FormulationRows, values);
        return ConsoleRender.Page<NewRequestPage>(ctx, new { Session = session, Model = model, Error = error }, status);
    }
}
