using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Finales.Broker;

/// <summary>
/// PBKDF2-SHA256 password hashes (<c>pbkdf2-sha256$iterations$salt$hash</c>). 10,000 iterations cost a few
/// milliseconds, so stock FINALES2 clients that log in before every call stay fast.
/// </summary>
public static class Passwords
{
    public const int DefaultIterations = 10_000;

    public static string Hash(string password, int iterations = DefaultIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool Verify(string stored, string password)
    {
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != "pbkdf2-sha256" || !int.TryParse(parts[1], out var iterations)) return false;
        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>
    /// A hash of a random password with the default iterations: logins of unknown or inactive users are verified
    /// against it, so they cost the same work as a wrong password of an existing user (no user enumeration by timing).
    /// </summary>
    public static readonly string Dummy = Hash(Generate());

    /// <summary>A random password for the first admin (printed once).</summary>
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', 'x').Replace('/', 'y');
}

/// <summary>HS256 JSON Web Tokens with claims <c>sub</c> and <c>exp</c>, signed with the store's persisted random key.</summary>
public sealed class TokenService(byte[] key, TimeSpan lifetime)
{
    private static readonly string Header = B64(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));

    public TimeSpan Lifetime => lifetime;

    // Tokens that passed every check of Validate (signature, header, claims), with their expiry. Bounded: at most
    // MaxVerifiedTokens entries (cleared when full) of at most MaxVerifiedTokenLength characters each (a token we
    // issue is a few hundred; longer valid spellings, e.g. with whitespace inside the base64, are checked each time).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string Username, long Version, DateTime Expires)> _verified = new(StringComparer.Ordinal);
    private const int MaxVerifiedTokens = 10_000;
    private const int MaxVerifiedTokenLength = 1024;

    private static string B64(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromB64(string s)
    {
        var t = s.Replace('-', '+').Replace('_', '/');
        t += (t.Length % 4) switch { 2 => "==", 3 => "=", 0 => "", _ => "!" };
        try { return Convert.FromBase64String(t); } catch (FormatException) { return null; }
    }

    /// <summary>A token for <paramref name="username"/> at the user's current token version (claim <c>ver</c>).</summary>
    public string Issue(string username, long version, DateTime now)
    {
        var exp = new DateTimeOffset(now.Add(lifetime)).ToUnixTimeSeconds();
        var payload = B64(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["sub"] = username, ["exp"] = exp, ["ver"] = version }));
        var signingInput = Header + "." + payload;
        return signingInput + "." + B64(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>
    /// The username and token version of a valid, unexpired token signed with our key; null otherwise. Tokens
    /// issued before versions existed carry no <c>ver</c> and count as version 0.
    /// </summary>
    public (string Username, long Version)? Validate(string token, DateTime now) => Validate(token.AsSpan(), now);

    /// <summary>As <see cref="Validate(string, DateTime)"/> for the token's characters (e.g. a slice of the Authorization header).</summary>
    public (string Username, long Version)? Validate(ReadOnlySpan<char> tokenChars, DateTime now)
    {
        // Clients send the same token on every call: its signature and claims are checked once, its expiry every time
        // (looked up by the header's characters, so a known token costs no string).
        if (_verified.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(tokenChars, out var known))
            return known.Expires <= now ? null : (known.Username, known.Version);
        var token = tokenChars.ToString();
        var parts = token.Split('.');
        if (parts.Length != 3) return null;
        var sig = FromB64(parts[2]);
        if (sig is null) return null;
        var expected = HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        if (!CryptographicOperations.FixedTimeEquals(sig, expected)) return null;
        var header = FromB64(parts[0]);
        var payload = FromB64(parts[1]);
        if (header is null || payload is null) return null;
        try
        {
            using var h = JsonDocument.Parse(header);
            if (!h.RootElement.TryGetProperty("alg", out var alg) || alg.GetString() != "HS256") return null;
            using var p = JsonDocument.Parse(payload);
            if (!p.RootElement.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String) return null;
            if (!p.RootElement.TryGetProperty("exp", out var exp) || !exp.TryGetInt64(out var e)) return null;
            if (e > DateTimeOffset.MaxValue.ToUnixTimeSeconds() || e < 0 || DateTimeOffset.FromUnixTimeSeconds(e).UtcDateTime <= now) return null;
            long version = 0;
            if (p.RootElement.TryGetProperty("ver", out var ver) && !ver.TryGetInt64(out version)) return null;
            var username = sub.GetString()!;
            if (token.Length <= MaxVerifiedTokenLength)
            {
                if (_verified.Count >= MaxVerifiedTokens) _verified.Clear();
                _verified[token] = (username, version, DateTimeOffset.FromUnixTimeSeconds(e).UtcDateTime);
            }
            return (username, version);
        }
        catch (JsonException) { return null; }
    }
}

/// <summary>
/// Brute-force protection of the login route: FAILED logins are counted per client address and per username in
/// fixed windows that start at a key's first failure and run on the broker's <see cref="TimeProvider"/> (so tests
/// advance a fake clock instead of sleeping; System.Threading.RateLimiting's limiters read the system clock, and its
/// middleware would count every attempt, successful ones too). While either count is used up, every login for that
/// address or user answers 429 with Retry-After, even with the right password; the window is short, so an attacker
/// cannot lock a legitimate user out for long, and the per-address limit is the tighter one, so one address runs
/// into its own limit before it can lock out the user.
/// </summary>
public sealed class LoginThrottle(int failuresPerAddress, int failuresPerUser, TimeSpan window, TimeProvider time)
{
    private readonly FailureWindows _byAddress = new(failuresPerAddress, window);
    private readonly FailureWindows _byUser = new(failuresPerUser, window);

    /// <summary>Null when a login may be tried; otherwise how long to wait (the address's or the user's failures are used up).</summary>
    public TimeSpan? Blocked(string address, string username)
    {
        var now = time.GetUtcNow();
        return _byAddress.Blocked(address, now) ?? _byUser.Blocked(username, now);
    }

    /// <summary>Counts one failed login against the address and the username.</summary>
    public void Failed(string address, string username)
    {
        var now = time.GetUtcNow();
        _byAddress.Failed(address, now);
        _byUser.Failed(username, now);
    }

    /// <summary>
    /// Failures per key in fixed windows. Bounded: beyond <see cref="MaxKeys"/> keys the ended windows are dropped,
    /// and if all are still running the oldest half of the table is.
    /// </summary>
    private sealed class FailureWindows(int permits, TimeSpan length)
    {
        private const int MaxKeys = 100_000;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

        private sealed class Window(DateTimeOffset start)
        {
            public DateTimeOffset Start = start;
            public int Failures;
        }

        public TimeSpan? Blocked(string key, DateTimeOffset now)
        {
            if (!_windows.TryGetValue(key, out var w)) return null;
            lock (w)
            {
                var left = w.Start + length - now;
                return left > TimeSpan.Zero && w.Failures >= permits ? left : null;
            }
        }

        public void Failed(string key, DateTimeOffset now)
        {
            if (_windows.Count >= MaxKeys) Prune(now);
            var w = _windows.GetOrAdd(key, static (_, start) => new Window(start), now);
            lock (w)
            {
                if (w.Start + length <= now) (w.Start, w.Failures) = (now, 0);
                w.Failures++;
            }
        }

        private void Prune(DateTimeOffset now)
        {
            foreach (var (key, w) in _windows)
                if (w.Start + length <= now) _windows.TryRemove(key, out _);
            if (_windows.Count < MaxKeys) return;
            foreach (var (key, _) in _windows.OrderBy(k => k.Value.Start).Take(_windows.Count / 2).ToList())
                _windows.TryRemove(key, out _);
        }
    }
}
