using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker;

/// <summary>One documented route: drives both the mapping and /openapi.json, /docs.</summary>
public sealed record RouteDoc(string Method, string Path, string Summary, bool Auth, string Tag);

/// <summary>
/// The documented routes of one broker (a DI singleton, so two brokers in one process keep their own), and the
/// /openapi.json and /docs pages rendered from them.
/// </summary>
public sealed partial class RouteDocs
{
    private readonly List<RouteDoc> _routes = [];

    public IReadOnlyList<RouteDoc> Routes
    {
        get { lock (_routes) return _routes.ToArray(); }
    }

    public void Add(RouteDoc route)
    {
        lock (_routes) _routes.Add(route);
    }

    [GeneratedRegex("{([^}]+)}")]
    private static partial Regex PathParameter();

    /// <summary>The OpenAPI 3.1 document of the routes.</summary>
    public string OpenApi()
    {
        var paths = new JsonObject();
        foreach (var r in Routes)
        {
            var item = paths[r.Path] as JsonObject ?? new JsonObject();
            var parameters = new JsonArray();
            foreach (Match m in PathParameter().Matches(r.Path))
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

    /// <summary>The human-readable route table served at /docs and /redoc.</summary>
    public string Html()
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Finales broker API</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td{padding:.3em .6em;vertical-align:top}code{background:#f3f3f3}</style></head><body>");
        sb.Append("<h1>Finales broker API</h1><p>FINALES2-compatible. Log in with <code>POST /user_management/authenticate</code> (form fields username, password) and send <code>Authorization: Bearer &lt;token&gt;</code>. Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>.</p><table>");
        foreach (var g in Routes.GroupBy(r => r.Tag))
        {
            sb.Append($"<tr><th colspan=3 align=left><h3>{WebUtility.HtmlEncode(g.Key)}</h3></th></tr>");
            foreach (var r in g)
                sb.Append($"<tr><td><b>{r.Method}</b></td><td><code>{WebUtility.HtmlEncode(r.Path)}</code></td><td>{WebUtility.HtmlEncode(r.Summary)}{(r.Auth ? "" : " <i>(no auth)</i>")}</td></tr>");
        }
        sb.Append("</table></body></html>");
        return sb.ToString();
    }
}

/// <summary>Maps a documented route on a group: recorded in <see cref="RouteDocs"/>, named "METHOD /full/path" for /metrics.</summary>
public static class DocumentedRoutes
{
    /// <summary>
    /// Maps <paramref name="path"/> (relative to the group's <paramref name="prefix"/>) for one HTTP method. ASP.NET
    /// Core routing matches a path with or without its trailing slash, so both spellings reach one endpoint.
    /// </summary>
    /// <paramref name="policy"/> is the <see cref="Policies"/> policy the caller must meet; null for a route anyone may call.
    public static RouteHandlerBuilder MapRoute(this IEndpointRouteBuilder group, string prefix, string method, string path, string summary, string? policy, string tag, Func<HttpContext, Task<IResult>> handler)
    {
        var full = prefix + path;
        group.ServiceProvider.GetRequiredService<RouteDocs>().Add(new RouteDoc(method, full, summary, policy is not null, tag));
        var route = group.MapMethods(path, [method], handler).WithDisplayName($"{method} {full}");
        return policy is null ? route : route.RequireAuthorization(policy);
    }

    /// <summary>As <see cref="MapRoute(IEndpointRouteBuilder, string, string, string, string, string?, string, Func{HttpContext, Task{IResult}})"/> for a synchronous handler.</summary>
    public static RouteHandlerBuilder MapRoute(this IEndpointRouteBuilder group, string prefix, string method, string path, string summary, string? policy, string tag, Func<HttpContext, IResult> handler) =>
        group.MapRoute(prefix, method, path, summary, policy, tag, ctx => Task.FromResult(handler(ctx)));
}
