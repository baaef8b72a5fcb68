using System.Text.Json;
using Finales.Broker.WebConsole;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Finales.Broker;

/// <summary>Composes the broker web application: store, service, error mapping, lease sweeper, routes.</summary>
public static class BrokerHost
{
    /// <summary>Opens the configured store (SQLite file or PostgreSQL) on <paramref name="clock"/> (default: the system clock).</summary>
    public static SqlBrokerStore OpenStore(BrokerOptions o, TimeProvider? clock = null) =>
        string.IsNullOrEmpty(o.Postgres) ? SqlBrokerStore.OpenSqlite(o.DbPath, clock) : SqlBrokerStore.OpenPostgres(o.Postgres, clock);

    /// <summary>
    /// The broker web application for <paramref name="options"/>, its store open and its catalog loaded;
    /// <paramref name="time"/> is its clock (tokens, the login throttle, long polls), <see cref="TimeProvider.System"/>
    /// unless a test drives a fake one.
    /// </summary>
    public static async Task<WebApplication> BuildAsync(BrokerOptions options, string[]? args = null, TimeProvider? time = null, CancellationToken ct = default)
    {
        BrokerOptionsValidation.Check(options);
        time ??= TimeProvider.System;
        // The content root is the (unchanging) install directory, and configuration files are not watched:
        // otherwise every write to a store file in the working directory wakes a file watcher. The broker's settings
        // are the options given (BrokerConfiguration binds them from FINALES_* variables and flags), so the host reads
        // no configuration sources of its own (an empty one holds the host's settings, such as the URLs below).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection();
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(options.Quiet ? LogLevel.Warning : LogLevel.Information);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", options.Quiet ? LogLevel.Warning : LogLevel.Information);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(time);
        // Opened (asynchronously) once the host's logging exists, before anything resolves it; registered through a
        // factory, so the container disposes it (and its store) with the application.
        BrokerService? service = null;
        builder.Services.AddSingleton(_ => service ?? throw new InvalidOperationException("the broker service is resolved before BuildAsync opened it"));
        builder.Services.AddBrokerAuth();
        builder.Services.AddSingleton<RouteDocs>();
        builder.Services.AddSingleton<BrokerMetrics>();
        builder.Services.AddHostedService<LeaseSweeper>();
        builder.Services.AddConsole();
        builder.Services.AddHostedService<CatalogRefresher>();
        var app = builder.Build();
        var store = OpenStore(options, time);
        try
        {
            service = await BrokerService.OpenAsync(store, options, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Finales.Broker.Catalog"), time, ct);
        }
        catch
        {
            store.Dispose();
            await app.DisposeAsync();
            throw;
        }
        app.Use(SecurityHeaders.Add);
        app.UseMiddleware<ErrorMapping>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapBrokerApi();
        app.MapConsole();
        return app;
    }
}

/// <summary>
/// Maps failures to responses in one place: <see cref="ApiError"/> to its status and FastAPI-style body,
/// oversized bodies to 413, malformed HTTP to 400; a genuine bug is logged and answered 500.
/// </summary>
public sealed class ErrorMapping(RequestDelegate next, ILogger<ErrorMapping> log, BrokerMetrics metrics)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        try
        {
            await next(ctx);
        }
        catch (ApiError e)
        {
            await ApiResults.Detail(e).ExecuteAsync(ctx);
        }
        catch (LifecycleRejectedException e)
        {
            await ApiResults.Detail(ApiError.FromLifecycle(e)).ExecuteAsync(ctx);
        }
        catch (BadHttpRequestException e)
        {
            await ApiResults.Detail(e.StatusCode == 413 ? 413 : 400, e.StatusCode == 413 ? "Request body too large" : e.Message).ExecuteAsync(ctx);
        }
        catch (Exception e) when (e is not ApiError && SqlBrokerStore.Unavailable(e) is { } why)
        {
            // The store failed, not the request: 503 with the reason, so clients retry and operators see why.
            log.LogWarning("Store unavailable on {Method} {Path}: {Reason}", ctx.Request.Method, ctx.Request.Path, why);
            await ApiResults.Detail(503, "store unavailable: " + why).ExecuteAsync(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // the client went away
        }
        catch (Exception e)
        {
            log.LogError(e, "Unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            await ApiResults.Detail(500, "Internal server error").ExecuteAsync(ctx);
        }
        finally
        {
            var endpoint = ctx.GetEndpoint()?.DisplayName ?? "unmatched";
            metrics.Count(endpoint, ctx.Response.StatusCode);
        }
    }
}

/// <summary>
/// The usual security headers on every answer (set when the answer starts, so error answers get them too):
/// nosniff, no framing, no referrer, a Content-Security-Policy that allows nothing for JSON and only the inline
/// style of the /docs page there, and Cache-Control: no-store on authenticated answers and the login's token.
/// </summary>
public static class SecurityHeaders
{
    private const string JsonPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    private const string DocsPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
    private const string ConsolePolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    // The RequestDelegate overload of Use and a static OnStarting callback with the context as its state: no closure
    // is allocated per request.
    public static Task Add(HttpContext ctx, RequestDelegate next)
    {
        ctx.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            var h = ctx.Response.Headers;
            var path = ctx.Request.Path;
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "no-referrer";
            h.ContentSecurityPolicy = path.StartsWithSegments("/ui") ? ConsolePolicy : path.StartsWithSegments("/docs") || path.StartsWithSegments("/redoc") ? DocsPolicy : JsonPolicy;
            if (ctx.Request.Headers.Authorization.Count > 0 || path.StartsWithSegments("/user_management/authenticate"))
                h.CacheControl = "no-store";
            return Task.CompletedTask;
        }, ctx);
        return next(ctx);
    }
}

/// <summary>
/// Returns requests with expired leases to pending, every second of the store's clock, so work is never lost to a
/// crashed tenant.
/// </summary>
public sealed class LeaseSweeper(BrokerService svc, ILogger<LeaseSweeper> log) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var store = svc.Store;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var n = await store.ExpireLeasesAsync(force: true, stoppingToken);
                if (n > 0) log.LogInformation("Returned {Count} requests with expired leases to pending", n);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Lease sweep failed; retrying");
            }
            try { await Task.Delay(Period, store.Clock, stoppingToken); } catch (OperationCanceledException) { }
        }
    }
}
