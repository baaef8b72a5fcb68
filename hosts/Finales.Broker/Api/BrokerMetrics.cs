using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Finales.Broker;

/// <summary>
/// The broker's Prometheus metrics (a DI singleton): responses counted per route and status code, and the text
/// exposition of those with the store's gauges and counters. Metric names are part of the operators' interface.
/// </summary>
public sealed class BrokerMetrics
{
    private readonly ConcurrentDictionary<(string Route, int Code), long> _responses = new();

    /// <summary>Counts one response of <paramref name="route"/> (the endpoint's display name) with <paramref name="code"/>.</summary>
    public void Count(string route, int code) => _responses.AddOrUpdate((route, code), 1, (_, n) => n + 1);

    /// <summary>The Prometheus text exposition (format 0.0.4) of everything the broker measures.</summary>
    public async Task<string> RenderAsync(IBrokerStore store, CancellationToken ct)
    {
        var counts = await store.StatusCountsAsync(ct);
        var sb = new StringBuilder();
        sb.AppendLine("# TYPE finales_requests gauge");
        foreach (var (status, n) in counts) sb.AppendLine($"finales_requests{{status=\"{status}\"}} {n}");
        sb.AppendLine("# TYPE finales_http_responses_total counter");
        foreach (var (key, n) in _responses.OrderBy(k => k.Key.Route).ThenBy(k => k.Key.Code))
            sb.AppendLine($"finales_http_responses_total{{route=\"{key.Route}\",code=\"{key.Code}\"}} {n}");
        foreach (var counter in store.Counters) Metric(sb, counter.Name, "counter", counter.Help, counter.Value);
        Metric(sb, "finales_pending_waiters", "gauge", "Clients long-polling GET /pending_requests/ now.", store.Signals.Waiters);
        Metric(sb, "finales_pending_waiter_wakeups_total", "counter", "Long-polling waiters woken by a write that made a matching request pending.", store.Signals.Wakeups);
        using var p = Process.GetCurrentProcess();
        sb.AppendLine("# TYPE process_resident_memory_bytes gauge");
        sb.AppendLine($"process_resident_memory_bytes {p.WorkingSet64}");
        return sb.ToString();
    }

    /// <summary>One unlabelled Prometheus metric: its HELP and TYPE lines and its value.</summary>
    private static void Metric(StringBuilder sb, string name, string type, string help, long value)
    {
        sb.AppendLine($"# HELP {name} {help}");
        sb.AppendLine($"# TYPE {name} {type}");
        sb.AppendLine($"{name} {value}");
    }
}
