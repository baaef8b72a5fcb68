using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Npgsql;

namespace Finales.Broker;

/// <summary>
/// The store's statements (written with @p0, @p1... for both dialects) in PostgreSQL's positional form ($1, $2...),
/// rewritten once per statement text. Npgsql sends a command with positional parameters as it is; with named ones it
/// parses and rewrites the SQL on every execution, which the profile showed as the broker's top Npgsql cost.
/// </summary>
internal static partial class PositionalSql
{
    private static readonly ConcurrentDictionary<string, (string Text, int[] Args)> Rewritten = new();

    /// <summary>
    /// Sets <paramref name="text"/> to <paramref name="sql"/> in positional form and adds the arguments it uses, in the
    /// order of their first use (an argument the statement does not use is not sent: PostgreSQL refuses extra ones).
    /// </summary>
    public static void Bind(string sql, object?[] args, NpgsqlParameterCollection parameters, out string text)
    {
        var (rewritten, order) = Rewritten.GetOrAdd(sql, Rewrite);
        foreach (var i in order)
            parameters.Add(new NpgsqlParameter { Value = args[i] ?? DBNull.Value });
        text = rewritten;
    }

    internal static (string Text, int[] Args) Rewrite(string sql)
    {
        var order = new List<int>();
        var text = Placeholder().Replace(sql, m =>
        {
            var arg = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var at = order.IndexOf(arg);
            if (at < 0)
            {
                order.Add(arg);
                at = order.Count - 1;
            }
            return "$" + (at + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        return (text, order.ToArray());
    }

    [GeneratedRegex(@"@p([0-9]+)\b")]
    private static partial Regex Placeholder();
}
