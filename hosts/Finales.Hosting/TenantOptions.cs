namespace Finales.Hosting;

/// <summary>How the kit talks to the broker. Bound from the <c>Tenant</c> section of the configuration
/// (appsettings JSON given with <c>--config FILE</c>, then environment variables <c>FINALES_Tenant__Password</c>, ...).</summary>
public sealed class TenantOptions
{
    public const string Section = "Tenant";

    /// <summary>Broker base URL, e.g. http://127.0.0.1:13371.</summary>
    public string BrokerUrl { get; set; } = "";
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    /// <summary>The tenant this process acts for (results carry it as <c>tenant_uuid</c>).</summary>
    public Guid TenantUuid { get; set; }
    /// <summary>SQLite file journaling the work in progress (created if missing).</summary>
    public string JournalPath { get; set; } = "tenant-journal.db";
    /// <summary>Pause between looks for work when the queue is empty.</summary>
    public double PollIntervalSeconds { get; set; } = 2;
    /// <summary>Lease asked for when claiming and on every heartbeat (our broker only).</summary>
    public double LeaseSeconds { get; set; } = 60;
    /// <summary>Heartbeat period; 0 means a third of the lease.</summary>
    public double HeartbeatSeconds { get; set; }
    /// <summary><c>auto</c> (detect), <c>extensions</c> (claim + heartbeat) or <c>finales2</c> (stock routes only).</summary>
    public string Protocol { get; set; } = "auto";
    /// <summary>Replace the tenant's limitations on the broker at start (PUT /tenants/{uuid}/limitations).</summary>
    public bool RegisterLimitations { get; set; } = true;
    /// <summary>On restart, redo journaled work whose request is still reserved by us (true), or release it (false).</summary>
    public bool ResumeOnRestart { get; set; } = true;
    /// <summary>Attempts per request (worker exceptions) before the tenant parks it instead of releasing it again.</summary>
    public int MaxAttempts { get; set; } = 3;
    /// <summary>First retry delay after a broker outage; doubles up to <see cref="MaxBackoffSeconds"/>.</summary>
    public double InitialBackoffSeconds { get; set; } = 0.5;
    public double MaxBackoffSeconds { get; set; } = 15;
    /// <summary>Seed of the retry jitter (deterministic delays for a given seed).</summary>
    public int Seed { get; set; } = 1;
    /// <summary>Timeout of one HTTP call; a hung broker counts as an outage after it.</summary>
    public double HttpTimeoutSeconds { get; set; } = 20;
    /// <summary>On shutdown, how long work in hand may still run before it is cancelled and released.</summary>
    public double ShutdownGraceSeconds { get; set; } = 10;

    /// <summary>Effective heartbeat period.</summary>
    public TimeSpan HeartbeatPeriod => TimeSpan.FromSeconds(HeartbeatSeconds > 0 ? HeartbeatSeconds : Math.Max(0.5, LeaseSeconds / 3));

    /// <summary>Every problem with these options, each naming the field and the value (empty when valid).</summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (!Uri.TryCreate(BrokerUrl, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
            p.Add($"Tenant:BrokerUrl is '{BrokerUrl}'; it must be an http(s) URL such as http://127.0.0.1:13371");
        if (string.IsNullOrWhiteSpace(Username)) p.Add("Tenant:Username is empty; give the broker user this tenant logs in as");
        if (string.IsNullOrEmpty(Password)) p.Add("Tenant:Password is empty; set it in the config file or in FINALES_Tenant__Password");
        if (TenantUuid == Guid.Empty) p.Add("Tenant:TenantUuid is missing or all zeros; give the registered tenant's uuid");
        if (string.IsNullOrWhiteSpace(JournalPath)) p.Add("Tenant:JournalPath is empty; give a file for the SQLite work journal");
        if (!(PollIntervalSeconds > 0)) p.Add($"Tenant:PollIntervalSeconds is {PollIntervalSeconds}; it must be > 0");
        if (!(LeaseSeconds >= 1)) p.Add($"Tenant:LeaseSeconds is {LeaseSeconds}; it must be >= 1");
        if (HeartbeatSeconds < 0 || (HeartbeatSeconds > 0 && HeartbeatSeconds >= LeaseSeconds))
            p.Add($"Tenant:HeartbeatSeconds is {HeartbeatSeconds}; it must be 0 (a third of the lease) or below LeaseSeconds ({LeaseSeconds})");
        if (Protocol is not ("auto" or "extensions" or "finales2"))
            p.Add($"Tenant:Protocol is '{Protocol}'; it must be auto, extensions or finales2");
        if (!(InitialBackoffSeconds > 0)) p.Add($"Tenant:InitialBackoffSeconds is {InitialBackoffSeconds}; it must be > 0");
        if (!(MaxBackoffSeconds >= InitialBackoffSeconds)) p.Add($"Tenant:MaxBackoffSeconds is {MaxBackoffSeconds}; it must be >= InitialBackoffSeconds ({InitialBackoffSeconds})");
        if (!(HttpTimeoutSeconds > 0)) p.Add($"Tenant:HttpTimeoutSeconds is {HttpTimeoutSeconds}; it must be > 0");
        if (ShutdownGraceSeconds < 0) p.Add($"Tenant:ShutdownGraceSeconds is {ShutdownGraceSeconds}; it must be >= 0");
        return p;
    }
}
