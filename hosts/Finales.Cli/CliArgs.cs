namespace Finales.Cli;

/// <summary>Minimal `--flag value` / `--switch` parsing shared by the commands; unknown flags are errors.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _flags = new();
    public List<string> Positional { get; } = [];

    public CliArgs(IEnumerable<string> args, params string[] switches)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var a = list[i];
            if (a.StartsWith("--"))
            {
                var eq = a.IndexOf('=');
                if (eq > 0) { _flags[a[2..eq]] = a[(eq + 1)..]; continue; }
                var name = a[2..];
                if (switches.Contains(name) || i + 1 >= list.Count || list[i + 1].StartsWith("--")) _flags[name] = null;
                else _flags[name] = list[++i];
            }
            else Positional.Add(a);
        }
    }

    public bool Has(string name) => _flags.ContainsKey(name);
    public string? Get(string name) => _flags.TryGetValue(name, out var v) ? v : null;
    public string Get(string name, string fallback) => Get(name) ?? fallback;
    public bool Help => Has("help") || Has("h");

    public double GetDouble(string name, double fallback)
    {
        var raw = Get(name);
        if (raw is null) return fallback;
        return double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new CliError($"--{name} must be a number, got '{raw}'");
    }

    public int GetInt(string name, int fallback)
    {
        var raw = Get(name);
        if (raw is null) return fallback;
        return int.TryParse(raw, out var v) ? v : throw new CliError($"--{name} must be an integer, got '{raw}'");
    }

    /// <summary>Fails on flags not in <paramref name="known"/>.</summary>
    public void Only(params string[] known)
    {
        foreach (var k in _flags.Keys)
            if (!known.Contains(k) && k is not ("help" or "h")) throw new CliError($"unknown option --{k}");
    }
}

/// <summary>A user error on the command line: printed without a stack trace, exit code 2.</summary>
public sealed class CliError(string message) : Exception(message);
