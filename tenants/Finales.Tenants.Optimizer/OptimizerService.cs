using Finales.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Finales.Tenants.Optimizer;

/// <summary>Runs the <see cref="OptimizerTenant"/> as a hosted service; stops the host after MaxIterations.</summary>
public sealed class OptimizerService(OptimizerTenant tenant, ILogger<OptimizerService> logger, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            await tenant.RunAsync(stoppingToken);
            if (!stoppingToken.IsCancellationRequested) lifetime.StopApplication();
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            logger.LogCritical(e, "Optimizer tenant stopped by an error it cannot retry: {Error}", e.Message);
            Environment.ExitCode = 3;
            lifetime.StopApplication();
        }
    }
}

/// <summary>Composition: <c>builder.Services.AddOptimizerTenant();</c> binds <c>Tenant</c> and <c>Optimizer</c>
/// (validated at start, every problem named), registers <see cref="OptimizerTenant"/> as a singleton (resolve it to
/// watch <see cref="OptimizerTenant.Progress"/>) and the hosted <see cref="OptimizerService"/>.</summary>
public static class OptimizerHosting
{
    public static IServiceCollection AddOptimizerTenant(this IServiceCollection services)
    {
        services.AddOptions<TenantOptions>().BindConfiguration(TenantOptions.Section).ValidateOnStart();
        services.AddOptions<OptimizerOptions>().BindConfiguration(OptimizerOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TenantOptions>, Validator<TenantOptions>>(_ => new Validator<TenantOptions>(o => o.Problems()));
        services.AddSingleton<IValidateOptions<OptimizerOptions>, Validator<OptimizerOptions>>(_ => new Validator<OptimizerOptions>(o => o.Problems()));
        services.AddSingleton(sp => new OptimizerTenant(
            sp.GetRequiredService<IOptions<TenantOptions>>().Value, sp.GetRequiredService<IOptions<OptimizerOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<OptimizerTenant>(), sp.GetService<IOptimizerProgress>()));
        services.AddHostedService<OptimizerService>();
        return services;
    }

    private sealed class Validator<T>(Func<T, IReadOnlyList<string>> problems) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var p = problems(options);
            return p.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(p);
        }
    }
}
