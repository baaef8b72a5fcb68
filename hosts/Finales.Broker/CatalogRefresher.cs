using Microsoft.Extensions.Hosting;

namespace Finales.Broker;

/// <summary>
/// Picks up catalog changes made by another process (the CLI's admin commands on the same store, another replica):
/// every <see cref="Interval"/> it reads the stored catalog version and reloads the broker's snapshot when it changed.
/// Changes made through this broker are in the snapshot before their response (see <see cref="BrokerService"/>), so
/// requests never wait for the store to learn the catalog. The interval is wall time, as the bound on staleness it
/// replaces was, so a test on a fake clock still sees another process's changes.
/// </summary>
public sealed class CatalogRefresher(BrokerService svc, ILogger<CatalogRefresher> log) : BackgroundService
{
    /// <summary>How long a change made by another process may go unseen.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await svc.RefreshIfChangedAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogWarning(e, "Catalog refresh failed; serving the cached catalog until the store answers again");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
