using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Finales.Cli;

/// <summary>
/// The option kinds of the `finales` commands, each with a description, its default in the generated help, and a parser
/// whose error names the flag and the value ("--workers must be an integer, got 'x'").
/// </summary>
public static class Opt
{
    /// <summary>A free-text option (a path, a URL, a name); null when absent unless it has a default.</summary>
    public static Option<string?> Text(string name, string description, string helpName, string? defaultValue = null)
    {
        var o = new Option<string?>(name) { Description = description, HelpName = helpName };
        if (defaultValue is not null) o.DefaultValueFactory = _ => defaultValue;
        return o;
    }

    /// <summary>A switch: present or not.</summary>
    public static Option<bool> Switch(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>An integer option with a default and an inclusive range.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue, string helpName = "N") =>
        new(name)
        {
            Description = description,
            HelpName = helpName,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseInt(r, name, min, max) ?? defaultValue,
        };

    /// <summary>An integer option without a default: null when absent.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue, string helpName = "N") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = r => ParseInt(r, name, min, max) };

    /// <summary>A number option with a default and an inclusive range (finite numbers only).</summary>
    public static Option<double> Number(string name, string description, double defaultValue, double min = double.MinValue, double max = double.MaxValue, string helpName = "X") =>
        new(name)
        {
            Description = description,
            HelpName = helpName,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseNumber(r, name, min, max) ?? defaultValue,
        };

    /// <summary>A number option without a default: null when absent.</summary>
    public static Option<double?> OptionalNumber(string name, string description, double min = double.MinValue, double max = double.MaxValue, string helpName = "X") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = r => ParseNumber(r, name, min, max) };

    /// <summary>One of a fixed set of words, offered by tab completion; a null default makes it null when absent.</summary>
    public static Option<string> Choice(string name, string description, string? defaultValue, params string[] choices)
    {
        var o = new Option<string>(name)
        {
            Description = description,
            HelpName = string.Join('|', choices),
            CustomParser = r =>
            {
                var raw = Single(r);
                if (choices.Contains(raw)) return raw;
                r.AddError($"{name} must be {Alternatives(choices)}, got '{raw}'");
                return defaultValue;
            },
        };
        if (defaultValue is not null) o.DefaultValueFactory = _ => defaultValue;
        o.CompletionSources.Add(_ => choices.Select(c => new CompletionItem(c)));
        return o;
    }

    /// <summary>"a, b or c".</summary>
    public static string Alternatives(IReadOnlyList<string> choices) =>
        choices.Count == 1 ? choices[0] : string.Join(", ", choices.Take(choices.Count - 1)) + " or " + choices[^1];

    private static string Single(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";

    private static int? ParseInt(ArgumentResult r, string name, int min, int max)
    {
        var raw = Single(r);
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
        {
            r.AddError($"{name} must be an integer, got '{raw}'");
            return null;
        }
        if (v < min || v > max)
        {
            r.AddError($"{name} must be {Range(min, max)}, got {v}");
            return null;
        }
        return v;
    }

    private static double? ParseNumber(ArgumentResult r, string name, double min, double max)
    {
        var raw = Single(r);
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
        {
            r.AddError($"{name} must be a number, got '{raw}'");
            return null;
        }
        if (v < min || v > max)
        {
            r.AddError($"{name} must be {Range(min, max)}, got {v.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        return v;
    }

    private static string Range<T>(T min, T max) where T : IFormattable
    {
        var lo = min.ToString(null, CultureInfo.InvariantCulture);
        var hi = max.ToString(null, CultureInfo.InvariantCulture);
        var noMin = min.Equals(int.MinValue) || min.Equals(double.MinValue);
        var noMax = max.Equals(int.MaxValue) || max.Equals(double.MaxValue);
        return (noMin, noMax) switch
        {
            (true, true) => "a number",
            (true, false) => $"at most {hi}",
            (false, true) => $"at least {lo}",
            _ => $"in {lo}..{hi}",
        };
    }
}
