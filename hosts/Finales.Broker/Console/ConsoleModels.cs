namespace Finales.Broker.WebConsole;

/// <summary>A tenant row of the overview: registration and recent activity.</summary>
public sealed record TenantStatusRow(Guid Uuid, string Name, bool IsActive, string? LastSeen, double? AgeSeconds, long Held, long ResultsLastHour);

/// <summary>What the overview's live panel shows.</summary>
public sealed record OverviewModel(IReadOnlyList<StatusCount> Counts, IReadOnlyList<TenantStatusRow> Tenants, long ResultsLastHour, string At);

/// <summary>The queue page's filter as typed (kept in the form) and the rows found.</summary>
public sealed record QueueModel(
    string Capability, string Status, string Tenant, string From, string To, string Text,
    IReadOnlyList<string> Capabilities, IReadOnlyList<TenantRecord> Tenants, IReadOnlyList<QueueRow> Rows, long? Next);

/// <summary>A result on the request page: its row, pretty data and rating.</summary>
public sealed record ResultView(ResultRow Row, string Data, string? Rating);

/// <summary>The request page: the request, who holds it, its history, results, lineage and the buttons allowed.</summary>
public sealed record RequestModel(
    RequestRow Row, RequestHolder Holder, string RequesterName, string? HolderName, string Parameters, IReadOnlyList<HistoryEntry> History,
    IReadOnlyList<ResultView> Results, RequestFamily Family, ConsoleButtons Buttons);
