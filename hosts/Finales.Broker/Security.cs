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

    /// <summary>A random password for the first admin (printed once).</summary>
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', 'x').Replace('/', 'y');
}

/// <summary>HS256 JSON Web Tokens with claims <c>sub</c> and <c>exp</c>, signed with the store's persisted random key.</summary>
public sealed class TokenService(byte[] key, TimeSpan lifetime)
{
    private static readonly string Header = B64(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));

    public TimeSpan Lifetime => lifetime;

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
    public (string Username, long Version)? Validate(string token, DateTime now)
    {
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
            return (sub.GetString()!, version);
        }
        catch (JsonException) { return null; }
    }
}
