using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Finales.Hosting;

/// <summary>Runs a <see cref="TenantRunner"/> for the registered <see cref="ITenantWorker"/> as a hosted service.</summary>
public sealed class TenantService(ITenantWorker worker, IOptions<TenantOptions> options, ILogger<TenantService> logger, IHostApplicationLifetime lifetime,
    TimeProvider time)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Leave the host's start-up path at once: the loop runs for the lifetime of the host.
        await Task.Yield();
        using var runner = new TenantRunner(worker, options.Value, logger, time: time);
        try
        {
            await runner.RunAsync(stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogCritical(e, "Tenant stopped by an error it cannot retry: {Error}", e.Message);
            Environment.ExitCode = 3;
            lifetime.StopApplication();
        }
    }
}

/// <summary>
/// Composition of a tenant process: configuration (JSON file + <c>FINALES_</c> environment variables), options
/// validated at start, structured console logging, systemd integration and the tenant loop as a hosted service.
/// <code>
/// var builder = TenantKit.CreateBuilder(configFile);
/// builder.Services.AddTenantWorker(sp =&gt; new MyWorker(...));
/// builder.Build().Run();
/// </code>
/// </summary>
public static class TenantKit
{
    /// <summary>A host builder reading <paramref name="configFile"/> (if given) and then environment variables
    /// with the prefix <c>FINALES_</c> (<c>FINALES_Tenant__Password=...</c>).</summary>
    public static HostApplicationBuilder CreateBuilder(string? configFile, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = Directory.GetCurrentDirectory() });
        if (configFile is not null)
        {
            var full = Path.GetFullPath(configFile);
            if (!File.Exists(full)) throw new FileNotFoundException($"config file {full} does not exist", full);
            builder.Configuration.AddJsonFile(full, optional: false, reloadOnChange: false);
        }
        builder.Configuration.AddEnvironmentVariables("FINALES_");
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = false;
        });
        builder.Services.AddSystemd();
        builder.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost);
        return builder;
    }

    /// <summary>Registers the worker, the <see cref="TenantOptions"/> bound from the <c>Tenant</c> section (validated at
    /// start, errors naming field and value), the system <see cref="TimeProvider"/> (unless one is registered) and the
    /// <see cref="TenantService"/>. The host's stop timeout is set to the shutdown grace plus time to release or post.</summary>
    public static IServiceCollection AddTenantWorker(this IServiceCollection services, Func<IServiceProvider, ITenantWorker> factory)
    {
        services.AddSingleton(factory);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<TenantOptions>()
            .BindConfiguration(TenantOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TenantOptions>, TenantOptionsValidator>();
        services.AddOptions<HostOptions>().Configure<IOptions<TenantOptions>>((h, t) =>
            h.ShutdownTimeout = TimeSpan.FromSeconds(t.Value.ShutdownGraceSeconds + Math.Min(10, t.Value.HttpTimeoutSeconds) + 5));
        services.AddHostedService<TenantService>();
        return services;
    }

    private sealed class TenantOptionsValidator : IValidateOptions<TenantOptions>
    {
        public ValidateOptionsResult Validate(string? name, TenantOptions options)
        {
            var p = options.Problems();
            return p.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(p);
        }
    }
}
