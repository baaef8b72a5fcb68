using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Client;
using Microsoft.Extensions.Logging;

namespace Finales.Hosting;

/// <summary>
/// The tenant loop, independent of the generic host so tests and tools can run it directly:
/// log in, detect the broker's protocol, register limitations, recover the journal, then repeatedly
/// claim work, keep its lease alive, let the worker process it, journal and post the result.
/// Broker outages are retried with seeded exponential backoff (logged once per outage).
/// </summary>
public sealed class TenantRunner : IDisposable
{
    private readonly ITenantWorker _worker;
    private readonly TenantOptions _o;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly BrokerOutage _outage;
    private int _nextCapability;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public BrokerClient Client { get; }
    public TenantJournal Journal { get; }
    /// <summary>True once the broker is known to offer claim + heartbeat (our broker); false on stock FINALES2.</summary>
    public bool UsesExtensions { get; private set; }
    /// <summary>Completes when start-up (login, limitations, journal recovery) is done and the loop looks for work.</summary>
    public Task Ready => _ready.Task;
    /// <summary>Results this runner posted (or found already posted for its journal entries).</summary>
    public int PostedCount => _posted;
    private int _posted;

    /// <param name="worker">The science or hardware part.</param>
    /// <param name="options">The broker connection and the loop's timing.</param>
    /// <param name="logger">Structured log of every step.</param>
    /// <param name="http">Optional HTTP client; otherwise one with <c>Tenant:HttpTimeoutSeconds</c>, disposed with the runner.</param>
    /// <param name="time">The clock of polling, heartbeats, backoff and the shutdown grace; <see cref="TimeProvider.System"/> if null.</param>
    public TenantRunner(ITenantWorker worker, TenantOptions options, ILogger logger, HttpClient? http = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Problems();
        if (problems.Count > 0) throw new ArgumentException("invalid tenant options: " + string.Join("; ", problems), nameof(options));
        if (worker.Capabilities.Count == 0) throw new ArgumentException("the worker serves no capability", nameof(worker));
        _worker = worker;
        _o = options;
        _log = logger;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(options.HttpTimeoutSeconds) };
        _time = time ?? TimeProvider.System;
        _outage = new BrokerOutage(options, logger, _time);
        Client = new BrokerClient(options.BrokerUrl, options.Username, options.Password, _http);
        Journal = new TenantJournal(options.JournalPath);
    }

    private string Caps => string.Join(", ", _worker.Capabilities);

    // ------------------------------------------------------------------ the loop

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled; work in hand is finished or released first.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        _log.LogInformation("Tenant {Tenant} starting: serves {Capabilities} on {Broker} as {User}; journal {Journal}",
            _o.TenantUuid, Caps, _o.BrokerUrl, _o.Username, Journal.Path);
        try
        {
            await Broker("logging in", async ct => { await Client.LoginAsync(ct); return true; }, stoppingToken);
            await DetectProtocolAsync(stoppingToken);
            await RegisterLimitationsAsync(stoppingToken);
            await RecoverAsync(stoppingToken);
            _ready.TrySetResult();
            while (!stoppingToken.IsCancellationRequested)
            {
                var item = await Broker("looking for work", FindWorkAsync, stoppingToken);
                if (item is null)
                {
                    await Task.Delay(TimeSpan.FromSeconds(_o.PollIntervalSeconds), _time, stoppingToken);
                    continue;
                }
                await HandleAsync(item, resumed: false, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _ready.TrySetException(e);
            throw;
        }
        finally
        {
            _ready.TrySetCanceled(CancellationToken.None);
        }
        _log.LogInformation("Tenant {Tenant} stopped; {Open} open journal entries", _o.TenantUuid, Journal.Open(_o.TenantUuid).Count);
    }

    private async Task DetectProtocolAsync(CancellationToken ct)
    {
        if (_o.Protocol == "finales2") { UsesExtensions = false; }
        else if (_o.Protocol == "extensions") { UsesExtensions = true; }
        else
        {
            UsesExtensions = await Broker("probing GET /healthz", async c =>
            {
                using var resp = await _http.GetAsync(Client.BaseUrl + "/healthz", c);
                if ((int)resp.StatusCode >= 500) throw new HttpRequestException($"GET /healthz answered {(int)resp.StatusCode}");
                return resp.IsSuccessStatusCode;
            }, ct);
        }
        _log.LogInformation(UsesExtensions
            ? "Broker offers claim + heartbeat: claiming in one round trip with a {Lease} s lease, heartbeat every {Period} s"
            : "Stock FINALES2 protocol: pending_requests + update_status reserved, no heartbeats (lease {Lease} s ignored; heartbeat {Period} s unused)",
            _o.LeaseSeconds, _o.HeartbeatPeriod.TotalSeconds);
    }

    private async Task RegisterLimitationsAsync(CancellationToken ct)
    {
        if (!_o.RegisterLimitations) { _log.LogInformation("Limitations not registered (Tenant:RegisterLimitations is false)"); return; }
        var json = _worker.LimitationsJson();
        try
        {
            await Broker("registering limitations", async c => { await Client.SetLimitationsAsync(_o.TenantUuid, json, c); return true; }, ct);
            _log.LogInformation("Registered limitations of tenant {Tenant} for {Capabilities}", _o.TenantUuid, Caps);
        }
        catch (BrokerException e) when (!UsesExtensions && e.StatusCode is 404 or 405)
        {
            _log.LogWarning("This broker cannot take limitations from tenants (PUT /tenants/{Tenant}/limitations answered {Status}, a stock FINALES2 server); " +
                            "continuing with the limitations the administrator registered", _o.TenantUuid, e.StatusCode);
        }
        catch (BrokerException e)
        {
            throw new InvalidOperationException(
                $"registering the limitations of tenant {_o.TenantUuid:D} failed with {e.StatusCode}: {e.Detail}" +
                (e.StatusCode == 404 ? " (register the tenant first: POST /admin/tenants or ./finales admin tenant add)" : ""), e);
        }
    }

    /// <summary>Finishes what the journal says this tenant held when it last stopped.</summary>
    private async Task RecoverAsync(CancellationToken ct)
    {
        var open = Journal.Open(_o.TenantUuid);
        if (open.Count == 0) return;
        _log.LogInformation("Journal holds {Count} open entries from a previous run; recovering them", open.Count);
        foreach (var entry in open)
        {
            ct.ThrowIfCancellationRequested();
            var capability = new TenantCapability(entry.Quantity, entry.Method);
            if (entry.State == JournalState.ResultReady && entry.ResultJson is not null)
            {
                _log.LogInformation("Recovering {RequestId}: posting the journaled result", entry.RequestId);
                await PostAsync(entry.RequestId, entry.ResultJson, ct, ct);
                continue;
            }
            var info = await Broker("reading a journaled request", c => Client.RequestAsync(entry.RequestId, c), ct);
            string? notOurs = info is null ? "the broker does not know it"
                : info.Status != "reserved" ? $"its status is now {info.Status}"
                : null;
            if (notOurs is null && UsesExtensions)
            {
                try { await Broker("checking our lease", async c => { await Client.HeartbeatAsync(entry.RequestId, _o.LeaseSeconds, c); return true; }, ct); }
                catch (BrokerException e) when (e.StatusCode is 404 or 409) { notOurs = e.Detail; }
            }
            if (notOurs is not null)
            {
                _log.LogInformation("Recovering {RequestId}: no longer reserved by us ({Reason}); nothing to do", entry.RequestId, notOurs);
                Journal.Abandoned(entry.RequestId, "at restart: " + notOurs);
            }
            else if (_o.ResumeOnRestart)
            {
                _log.LogInformation("Recovering {RequestId}: still reserved by us; redoing the work", entry.RequestId);
                await HandleAsync(WorkItem.For(info!, capability), resumed: true, ct);
            }
            else
            {
                _log.LogInformation("Recovering {RequestId}: still reserved by us; releasing it (Tenant:ResumeOnRestart is false)", entry.RequestId);
                await ReleaseAsync(entry.RequestId, "tenant restarted and does not resume work", ct);
            }
        }
    }

    /// <summary>
    /// Claims (or reserves) one request. The claiming call itself is not cancelled by a stop: once the broker has
    /// committed a claim, its answer must reach this tenant, which then releases the work on shutdown; cut off, it would
    /// leave the request reserved by nobody until its lease ran out. The HTTP timeout bounds that one call.
    /// </summary>
    private async Task<WorkItem?> FindWorkAsync(CancellationToken ct)
    {
        var caps = _worker.Capabilities;
        for (var k = 0; k < caps.Count; k++)
        {
            var cap = caps[(_nextCapability + k) % caps.Count];
            if (UsesExtensions)
            {
                try
                {
                    ct.ThrowIfCancellationRequested();
                    var claimed = await Client.ClaimAsync(cap.Quantity, cap.Method, _o.LeaseSeconds, _o.TenantUuid, CancellationToken.None);
                    if (claimed is not null)
                    {
                        _nextCapability = (_nextCapability + k + 1) % caps.Count;
                        return WorkItem.For(claimed, cap);
                    }
                    continue;
                }
                catch (BrokerException e) when (e.StatusCode is 404 or 405 && _o.Protocol == "auto")
                {
                    _log.LogWarning("POST /requests/claim answered {Status}; falling back to the stock FINALES2 routes", e.StatusCode);
                    UsesExtensions = false;
                }
            }
            var pending = await Client.PendingAsync(cap.Quantity, cap.Method, null, ct);
            foreach (var r in pending.OrderBy(r => r.Ctime, StringComparer.Ordinal))
            {
                ct.ThrowIfCancellationRequested();
                if (await Client.ReserveAsync(r.Uuid, CancellationToken.None))
                {
                    _nextCapability = (_nextCapability + k + 1) % caps.Count;
                    return WorkItem.For(r, cap);
                }
                _log.LogDebug("{RequestId} was reserved by someone else first", r.Uuid);
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ one request

    private async Task HandleAsync(WorkItem item, bool resumed, CancellationToken stoppingToken)
    {
        var id = item.RequestId;
        if (!resumed) Journal.Claimed(id, _o.TenantUuid, item.Capability, RequestInfoJson(item.Request));
        var attempts = Journal.Get(id)?.Attempts ?? 1;
        if (attempts > _o.MaxAttempts)
        {
            _log.LogError("{RequestId} failed {Attempts} times in this tenant; parking it (kept reserved until its lease runs out, no further attempts)", id, attempts - 1);
            Journal.Abandoned(id, $"parked after {attempts - 1} failed attempts");
            return;
        }
        _log.LogInformation(resumed ? "Resuming {RequestId} for {Capability} (attempt {Attempt})" : "Claimed {RequestId} for {Capability} (attempt {Attempt})",
            id, item.Capability, attempts);

        // grace: cancelled ShutdownGraceSeconds after the host starts stopping; work: grace or a lost lease.
        using var grace = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        using var stopReg = stoppingToken.Register(() => { try { grace.CancelAfter(TimeSpan.FromSeconds(_o.ShutdownGraceSeconds)); } catch (ObjectDisposedException) { } });
        using var work = CancellationTokenSource.CreateLinkedTokenSource(grace.Token);
        using var heartbeatStop = new CancellationTokenSource();
        var lostLease = (string?)null;
        var heartbeat = UsesExtensions ? HeartbeatLoopAsync(id, reason => { lostLease = reason; work.Cancel(); }, heartbeatStop.Token) : Task.CompletedTask;
        try
        {
            Journal.Working(id);
            WorkOutcome outcome;
            try
            {
                outcome = await _worker.ProcessAsync(item, work.Token);
            }
            catch (OperationCanceledException) when (work.IsCancellationRequested)
            {
                if (lostLease is not null)
                {
                    _log.LogWarning("Abandoned {RequestId}: the lease was lost ({Reason}); nothing posted", id, lostLease);
                    Journal.Abandoned(id, "lease lost: " + lostLease);
                }
                else
                {
                    _log.LogWarning("Stopping before {RequestId} was done; releasing it", id);
                    await ReleaseOnceAsync(id, "tenant shutting down before the work was done");
                }
                return;
            }
            catch (Exception e)
            {
                _log.LogError(e, "Processing {RequestId} failed: {Error}; releasing it", id, e.Message);
                if (attempts >= _o.MaxAttempts)
                {
                    _log.LogError("{RequestId} failed {Attempts} times; parking it (kept reserved until its lease runs out)", id, attempts);
                    Journal.Abandoned(id, $"parked after {attempts} failed attempts; last error: {e.Message}");
                    return;
                }
                await ReleaseAsync(id, $"tenant {_o.TenantUuid:D} failed: {e.Message}", grace.Token);
                await Task.Delay(TimeSpan.FromSeconds(_o.PollIntervalSeconds * attempts), _time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            }
            var body = ResultBody(item, outcome, _o.TenantUuid);
            Journal.ResultReady(id, body, outcome.Message);
            _log.LogInformation("Computed {RequestId}: success {Success}{Message}", id, outcome.Success,
                string.IsNullOrEmpty(outcome.Message) ? "" : " (" + outcome.Message + ")");
            await PostAsync(id, body, grace.Token, stoppingToken);
        }
        finally
        {
            heartbeatStop.Cancel();
            await heartbeat;
        }
    }

    private async Task HeartbeatLoopAsync(Guid id, Action<string> onLost, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try { await Task.Delay(_o.HeartbeatPeriod, _time, stop); }
            catch (OperationCanceledException) { return; }
            try
            {
                await Client.HeartbeatAsync(id, _o.LeaseSeconds, stop);
                _outage.Succeeded();
                _log.LogDebug("Heartbeat for {RequestId}: lease extended by {Lease} s", id, _o.LeaseSeconds);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
            catch (BrokerException e) when (e.StatusCode is 404 or 409)
            {
                onLost(e.Detail);
                return;
            }
            catch (Exception e) when (IsOutage(e, stop))
            {
                _outage.Failed("sending a heartbeat", e, out _);
            }
        }
    }

    /// <summary>Posts a journaled result until the broker takes it (or says it already has it); marks the journal.</summary>
    private async Task PostAsync(Guid id, string body, CancellationToken ct, CancellationToken stoppingToken)
    {
        try
        {
            var resultId = await Broker("posting a result", c => Client.PostResultJsonAsync(body, c), ct);
            Journal.Posted(id, resultId, "");
            Interlocked.Increment(ref _posted);
            _log.LogInformation("Posted result {ResultId} for {RequestId}", resultId, id);
        }
        catch (BrokerException e) when (e.StatusCode == 409)
        {
            var cur = await Broker("checking the current result", c => Client.ResultForRequestAsync(id, c), ct);
            if (cur is not null && Guid.TryParse(cur.TenantUuid, out var t) && t == _o.TenantUuid)
            {
                var same = SameData(cur.Data, body);
                Journal.Posted(id, cur.Uuid, same ? "already posted (found on the broker after a 409)" : "a result of this tenant was already posted (data differ)");
                Interlocked.Increment(ref _posted);
                _log.LogInformation("Result for {RequestId} was already posted as {ResultId} ({Same}); journal marked posted",
                    id, cur.Uuid, same ? "same data" : "different data from another process of this tenant");
            }
            else
            {
                Journal.Abandoned(id, "broker refused the result: " + e.Detail);
                _log.LogWarning("Broker refused the result for {RequestId} ({Detail}); the current result is {Current}; abandoned",
                    id, e.Detail, cur is null ? "none" : $"{cur.Uuid} from tenant {cur.TenantUuid}");
            }
        }
        catch (BrokerException e)
        {
            Journal.Abandoned(id, $"broker rejected the result ({e.StatusCode}): {e.Detail}");
            _log.LogError("Broker rejected the result for {RequestId} with {Status}: {Detail}; the request stays reserved until its lease runs out", id, e.StatusCode, e.Detail);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _log.LogWarning("Stopped before the result for {RequestId} was posted; it stays in the journal and is posted at the next start", id);
            if (!stoppingToken.IsCancellationRequested) throw;
        }
    }

    /// <summary>Sets the request back to pending (with retries while the broker is down).</summary>
    private async Task ReleaseAsync(Guid id, string message, CancellationToken ct)
    {
        try
        {
            var ok = await Broker("releasing a request", c => Client.UpdateRequestStatusAsync(id, "pending", message, c), ct);
            if (ok) { Journal.Released(id, message); _log.LogInformation("Released {RequestId}: {Message}", id, message); }
            else { Journal.Abandoned(id, "release refused (409): no longer ours"); _log.LogInformation("{RequestId} was no longer ours to release", id); }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _log.LogWarning("Could not release {RequestId} before stopping; the journal resumes or releases it at the next start", id);
        }
    }

    /// <summary>One release attempt with a short deadline (used while stopping).</summary>
    private async Task ReleaseOnceAsync(Guid id, string message)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Min(5, _o.HttpTimeoutSeconds)), _time);
        try
        {
            var ok = await Client.UpdateRequestStatusAsync(id, "pending", message, deadline.Token);
            if (ok) { Journal.Released(id, message); _log.LogInformation("Released {RequestId}: {Message}", id, message); }
            else Journal.Abandoned(id, "release refused (409): no longer ours");
        }
        catch (Exception e) when (e is not BrokerException)
        {
            _log.LogWarning("Could not release {RequestId} while stopping ({Error}); the journal resumes or releases it at the next start", id, e.Message);
        }
    }

    // ------------------------------------------------------------------ outages

    private static bool IsOutage(Exception e, CancellationToken ct) =>
        e is HttpRequestException
        || (e is TaskCanceledException && !ct.IsCancellationRequested)
        || (e is BrokerException b && (b.StatusCode >= 500 || b.StatusCode == 429))
        || (e is IOException);

    /// <summary>Runs one broker call, retrying transport failures and 5xx with backoff until it succeeds or
    /// <paramref name="ct"/> is cancelled. 4xx answers are thrown as <see cref="BrokerException"/>.</summary>
    private async Task<T> Broker<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var r = await call(ct);
                _outage.Succeeded();
                return r;
            }
            catch (Exception e) when (IsOutage(e, ct))
            {
                _outage.Failed(what, e, out _);
                await _outage.BackOffAsync(what, ct);
            }
        }
    }

    // ------------------------------------------------------------------ JSON

    /// <summary>The FINALES2 result body: {data, quantity, method:[m], parameters:{m: params}, tenant_uuid, request_uuid}.</summary>
    public static string ResultBody(WorkItem item, WorkOutcome outcome, Guid tenant)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(outcome);
        if (outcome.Data.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"result data must be a JSON object, got {outcome.Data.ValueKind}", nameof(outcome));
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WritePropertyName("data"); outcome.Data.WriteTo(w);
            w.WriteString("quantity", item.Capability.Quantity);
            w.WriteStartArray("method"); w.WriteStringValue(item.Capability.Method); w.WriteEndArray();
            w.WriteStartObject("parameters"); w.WritePropertyName(item.Capability.Method); item.Parameters.WriteTo(w); w.WriteEndObject();
            w.WriteString("tenant_uuid", tenant.ToString("D"));
            w.WriteString("request_uuid", item.RequestId.ToString("D"));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static string RequestInfoJson(RequestInfo r)
    {
        var o = new JsonObject
        {
            ["uuid"] = r.Uuid.ToString("D"),
            ["ctime"] = r.Ctime,
            ["status"] = r.Status,
            ["request"] = JsonNode.Parse(r.Request.GetRawText()),
        };
        return o.ToJsonString();
    }

    private static bool SameData(JsonElement current, string body)
    {
        using var doc = JsonDocument.Parse(body);
        return JsonElement.DeepEquals(current, doc.RootElement.GetProperty("data"));
    }

    public void Dispose()
    {
        Journal.Dispose();
        ((IDisposable)Client).Dispose();
        if (_ownsHttp) _http.Dispose();
    }
}
