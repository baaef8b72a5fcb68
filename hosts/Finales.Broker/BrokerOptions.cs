using System.Globalization;
using Finales.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Finales.Broker;

/// <summary>
/// Broker settings, bound from configuration (<see cref="BrokerConfiguration"/>: FINALES_* environment variables,
/// then the flags of <c>serve</c>, which map to the same keys) and validated before the broker starts
/// (<see cref="BrokerOptionsValidation"/>). Each configuration key is named in <see cref="ConfigurationKeyNameAttribute"/>.
/// </summary>
public sealed class BrokerOptions
{
    /// <summary>SQLite file (default ./finales.db) unless <see cref="Postgres"/> is set.</summary>
    [ConfigurationKeyName("db")]
    public string DbPath { get; set; } = "finales.db";
    [ConfigurationKeyName("postgres")]
    public string? Postgres { get; set; }
    [ConfigurationKeyName("urls")]
    public string Urls { get; set; } = "http://127.0.0.1:13371";
    /// <summary>
    /// Lease of a reservation made through the stock update_status route (long: stock clients never heartbeat);
    /// unless set, 6 h or the maximum lease when that is shorter.
    /// </summary>
    public double DefaultLeaseSeconds => LeaseSeconds ?? Math.Min(6 * 3600, MaxLeaseSeconds);
    /// <summary>The update_status lease as configured (null: not set, see <see cref="DefaultLeaseSeconds"/>).</summary>
    [ConfigurationKeyName("lease_seconds")]
    public double? LeaseSeconds { get; set; }
    /// <summary>Longest lease anyone may ask for (claim, heartbeat) or configure; longer ones are refused with 422.</summary>
    [ConfigurationKeyName("max_lease_seconds")]
    public double MaxLeaseSeconds { get; set; } = 6 * 3600;
    /// <summary>Failed logins allowed per client address per <see cref="LoginFailureWindow"/> (then 429).</summary>
    [ConfigurationKeyName("login_failures_per_address")]
    public int LoginFailuresPerAddress { get; set; } = 10;
    /// <summary>Failed logins allowed per username per <see cref="LoginFailureWindow"/> (then 429); looser than per address.</summary>
    [ConfigurationKeyName("login_failures_per_user")]
    public int LoginFailuresPerUser { get; set; } = 30;
    [ConfigurationKeyName("login_failure_window")]
    public TimeSpan LoginFailureWindow { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary><see cref="LoginFailureWindow"/> in seconds (the flag's unit).</summary>
    [ConfigurationKeyName("login_failure_window_seconds")]
    public double LoginFailureWindowSeconds
    {
        get => LoginFailureWindow.TotalSeconds;
        set => LoginFailureWindow = TimeSpan.FromSeconds(value);
    }
    [ConfigurationKeyName("max_body_bytes")]
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;
    [ConfigurationKeyName("dump_key")]
    public string? DumpKey { get; set; }
    /// <summary>What happens to requests outside every tenant's limitations: reject, warn or off.</summary>
    [ConfigurationKeyName("limitations")]
    public string LimitationsMode { get; set; } = "reject";
    /// <summary>What happens to result data that break the capability's result schema: reject (default), warn or off.</summary>
    [ConfigurationKeyName("result_validation")]
    public string ResultValidationMode { get; set; } = "reject";
    public LimitationPolicy Policy => PolicyOf(LimitationsMode, "--limitations");
    public LimitationPolicy ResultPolicy => PolicyOf(ResultValidationMode, "--result-validation");
    [ConfigurationKeyName("token_lifetime")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);
    /// <summary><see cref="TokenLifetime"/> in minutes (the flag's unit).</summary>
    [ConfigurationKeyName("token_minutes")]
    public double TokenMinutes
    {
        get => TokenLifetime.TotalMinutes;
        set => TokenLifetime = TimeSpan.FromMinutes(value);
    }
    [ConfigurationKeyName("admin_password")]
    public string? AdminPassword { get; set; }
    [ConfigurationKeyName("quiet")]
    public bool Quiet { get; set; }
    /// <summary>Caps on methods, names, parameter arrays and limitation sizes (422 above them).</summary>
    [ConfigurationKeyName("input_limits")]
    public InputLimits Limits { get; set; } = InputLimitsModule.defaults;

    /// <summary>A policy name (reject, warn, off); anything else is a programmer error here, since validation refused it.</summary>
    internal static LimitationPolicy? TryPolicy(string mode) => mode switch
    {
        "reject" => LimitationPolicy.Reject,
        "warn" => LimitationPolicy.Warn,
        "off" => LimitationPolicy.Off,
        _ => null,
    };

    private static LimitationPolicy PolicyOf(string mode, string flag) =>
        TryPolicy(mode) ?? throw new InvalidOperationException($"{flag} is '{mode}', which validation should have refused");
}

/// <summary>The checks of <see cref="BrokerOptions"/>; each failure names the flag (and so the FINALES_ variable) and the value.</summary>
public sealed class BrokerOptionsValidation : IValidateOptions<BrokerOptions>
{
    public ValidateOptionsResult Validate(string? name, BrokerOptions o)
    {
        var failures = new List<string>();
        if (!(o.MaxLeaseSeconds >= 1)) failures.Add($"--max-lease-seconds must be at least 1, got {o.MaxLeaseSeconds}");
        else if (!(o.DefaultLeaseSeconds >= 1 && o.DefaultLeaseSeconds <= o.MaxLeaseSeconds))
            failures.Add($"--lease-seconds must be between 1 and --max-lease-seconds ({o.MaxLeaseSeconds}), got {o.DefaultLeaseSeconds}");
        if (o.LoginFailuresPerAddress < 1 || o.LoginFailuresPerUser < 1 || !(o.LoginFailureWindow.TotalSeconds >= 1))
            failures.Add("--login-failures-per-address and --login-failures-per-user must be at least 1, --login-failure-window-seconds at least 1");
        if (BrokerOptions.TryPolicy(o.LimitationsMode) is null) failures.Add($"--limitations must be reject, warn or off; got '{o.LimitationsMode}'");
        if (BrokerOptions.TryPolicy(o.ResultValidationMode) is null) failures.Add($"--result-validation must be reject, warn or off; got '{o.ResultValidationMode}'");
        if (o.MaxBodyBytes < 1) failures.Add($"--max-body-bytes must be at least 1, got {o.MaxBodyBytes}");
        if (!(o.TokenLifetime > TimeSpan.Zero)) failures.Add($"--token-minutes must be positive, got {o.TokenLifetime.TotalMinutes.ToString(CultureInfo.InvariantCulture)}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Validates <paramref name="options"/>; an <see cref="OptionsValidationException"/> names every bad option.</summary>
    public static BrokerOptions Check(BrokerOptions options)
    {
        var result = new BrokerOptionsValidation().Validate(null, options);
        return result.Failed ? throw new OptionsValidationException(Options.DefaultName, typeof(BrokerOptions), result.Failures) : options;
    }
}

/// <summary>Where the broker's settings come from: FINALES_* environment variables, overridden by command-line flags.</summary>
public static class BrokerConfiguration
{
    /// <summary>The flags of <c>serve</c> (and the store flags of <c>admin</c>) and the configuration keys they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--db"] = "db",
        ["--postgres"] = "postgres",
        ["--urls"] = "urls",
        ["--lease-seconds"] = "lease_seconds",
        ["--max-lease-seconds"] = "max_lease_seconds",
        ["--login-failures-per-address"] = "login_failures_per_address",
        ["--login-failures-per-user"] = "login_failures_per_user",
        ["--login-failure-window-seconds"] = "login_failure_window_seconds",
        ["--limitations"] = "limitations",
        ["--result-validation"] = "result_validation",
        ["--dump-key"] = "dump_key",
        ["--max-body-bytes"] = "max_body_bytes",
        ["--token-minutes"] = "token_minutes",
        ["--quiet"] = "quiet",
    };

    /// <summary>
    /// Binds and validates the options from the environment and <paramref name="args"/> (a flag's value follows it or
    /// an '='; <c>--quiet</c> takes none). Only the flags in <see cref="Switches"/> are read. A value that is not of
    /// its option's type, or one the checks refuse, is an <see cref="OptionsValidationException"/> naming the flag.
    /// </summary>
    public static BrokerOptions Load(IEnumerable<string> args)
    {
        // Only the known flags and their values reach the command-line source: positional words and paths of
        // `admin` (which may start with '/', a switch prefix to it) and other flags stay out.
        var list = args.ToList();
        var known = new List<string>();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a == "--quiet") known.Add("--quiet=true");
            else if (a.Contains('=') && Switches.ContainsKey(a.Split('=', 2)[0])) known.Add(a);
            else if (Switches.ContainsKey(a) && i + 1 < list.Count) known.AddRange([a, list[++i]]);
        }
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables("FINALES_")
            .AddCommandLine(known.ToArray(), Switches.ToDictionary(k => k.Key, k => k.Value))
            .Build();
        var options = new BrokerOptions();
        try
        {
            configuration.Bind(options);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key ("Failed to convert configuration value at 'max_lease_seconds' to type ..."):
            // say it as the flag, with the value and what it must be.
            var (flag, key) = Switches.Select(s => (s.Key, s.Value)).FirstOrDefault(s => e.Message.Contains($"'{s.Value}'"));
            if (key is null) throw new OptionsValidationException(Options.DefaultName, typeof(BrokerOptions), [e.Message]);
            var type = typeof(BrokerOptions).GetProperties()
                .First(p => p.GetCustomAttributes(typeof(ConfigurationKeyNameAttribute), false).Cast<ConfigurationKeyNameAttribute>().Any(n => n.Name == key)).PropertyType;
            var kind = type == typeof(bool) ? "true or false" : type == typeof(int) || type == typeof(long) ? "an integer" : "a number";
            throw new OptionsValidationException(Options.DefaultName, typeof(BrokerOptions), [$"{flag} must be {kind}, got '{configuration[key]}'"]);
        }
        return BrokerOptionsValidation.Check(options);
    }
}
