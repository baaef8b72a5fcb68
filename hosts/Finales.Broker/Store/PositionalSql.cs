using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;

namespace Finales.Broker;

/// <summary>
/// The store's statements (written with @p0, @p1... for both dialects) in PostgreSQL's positional form ($1, $2...),
/// rewritten once per statement text. Npgsql sends a command with positional parameters as it is; with named ones it
/// parses and rewrites the SQL on every execution, which the profile showed as the broker's top Npgsql cost.
/// </summary>
internal static partial class PositionalSql
{
    /// <summary>A statement in positional form: its text, the arguments it sends in order, and their learned types.</summary>
    private sealed record Statement(string Text, int[] Args, int[] NullTypes);

    private static readonly ConcurrentDictionary<string, Statement> Rewritten = new();

    /// <summary>
    /// Sets <paramref name="text"/> to <paramref name="sql"/> in positional form and adds the arguments it uses, in the
    /// order of their first use (an argument the statement does not use is not sent: PostgreSQL refuses extra ones).
    /// A null argument is sent with the type a value at its place had before: Npgsql runs a prepared statement only
    /// with the parameter types it was prepared with, so an untyped null (e.g. the lease of an event that has none)
    /// would make every other execution of the statement parse and plan again.
    /// </summary>
    public static void Bind(string sql, object?[] args, NpgsqlParameterCollection parameters, out string text)
    {
        var statement = Rewritten.GetOrAdd(sql, s =>
        {
            var (t, order) = Rewrite(s);
            return new Statement(t, order, new int[order.Length]);
        });
        var at = 0;
        foreach (var i in statement.Args)
        {
            var value = args[i];
            var p = new NpgsqlParameter { Value = value ?? DBNull.Value };
            // The learned type is kept as (NpgsqlDbType + 1), 0 for none yet: one int, written and read atomically.
            if (value is null)
            {
                if (Volatile.Read(ref statement.NullTypes[at]) is var known and > 0) p.NpgsqlDbType = (NpgsqlDbType)(known - 1);
            }
            else if (statement.NullTypes[at] == 0 && TypeOf(value) is { } type)
                Volatile.Write(ref statement.NullTypes[at], (int)type + 1);
            parameters.Add(p);
            at++;
        }
        text = statement.Text;
    }

    /// <summary>The PostgreSQL type Npgsql infers for a value of the store's argument types, or null for another type.</summary>
    private static NpgsqlDbType? TypeOf(object value) => value switch
    {
        string => NpgsqlDbType.Text,
        long => NpgsqlDbType.Bigint,
        int => NpgsqlDbType.Integer,
        double => NpgsqlDbType.Double,
        bool => NpgsqlDbType.Boolean,
        _ => null,
    };

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
