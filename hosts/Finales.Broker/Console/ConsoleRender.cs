using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;

namespace Finales.Broker.WebConsole;

/// <summary>
/// Renders a console page: a Razor component rendered to HTML on the server (static rendering with
/// <see cref="HtmlRenderer"/>, which HTML-encodes every value), answered as text/html.
/// </summary>
public static class ConsoleRender
{
    public static async Task<IResult> Page<T>(HttpContext ctx, object parameters, int status = StatusCodes.Status200OK) where T : IComponent
    {
        var html = await Html<T>(ctx, parameters);
        return Results.Content(html, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }

    public static async Task<string> Html<T>(HttpContext ctx, object parameters) where T : IComponent
    {
        await using var renderer = new HtmlRenderer(ctx.RequestServices, ctx.RequestServices.GetRequiredService<ILoggerFactory>());
        var values = parameters.GetType().GetProperties().ToDictionary(p => p.Name, p => p.GetValue(parameters));
        return await renderer.Dispatcher.InvokeAsync(async () =>
            (await renderer.RenderComponentAsync<T>(ParameterView.FromDictionary(values))).ToHtmlString());
    }
}
