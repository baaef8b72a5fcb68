using Microsoft.Data.Sqlite;

namespace Finales.Storage;

/// <summary>
/// One SQLite file opened for a durable write-ahead journal: its directory created, one unpooled connection in WAL
/// mode with synchronous=FULL (a committed row survives a crash or power loss), the schema created when missing, and
/// every statement run behind one lock (thread-safe). Statement arguments bind to @p0, @p1, ... (null as SQL NULL).
/// The source is linked into each host that keeps a journal (Finales.Hpc, Finales.Hosting), which share no project.
/// </summary>
internal sealed class DurableSqlite : IDisposable
{
    private readonly SqliteConnection _c;
    private readonly object _gate = new();

    /// <summary>The journal file (absolute).</summary>
    public string Path { get; }

    /// <summary>Opens (or creates) the file at <paramref name="path"/> and runs <paramref name="schema"/> (idempotent DDL).</summary>
    public DurableSqlite(string path, string schema)
    {
        Path = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        _c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false, DefaultTimeout = 30 }.ToString());
        _c.Open();
        Execute("PRAGMA journal_mode=WAL");
        Execute("PRAGMA synchronous=FULL");
        Execute(schema);
    }

    /// <summary>Runs one statement; the number of rows it changed.</summary>
    public int Execute(string sql, params object?[] args)
    {
        lock (_gate)
        {
            using var cmd = Command(sql, args);
            return cmd.ExecuteNonQuery();
        }
    }

    /// <summary>Runs one query; each row read by <paramref name="read"/>, in the query's order.</summary>
    public List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params object?[] args)
    {
        lock (_gate)
        {
            using var cmd = Command(sql, args);
            using var r = cmd.ExecuteReader();
            var rows = new List<T>();
            while (r.Read()) rows.Add(read(r));
            return rows;
        }
    }

    private SqliteCommand Command(string sql, object?[] args)
    {
        var cmd = _c.CreateCommand();
        cmd.CommandText = sql;
        for (var i = 0; i < args.Length; i++) cmd.Parameters.AddWithValue($"@p{i}", args[i] ?? DBNull.Value);
        return cmd;
    }

    public void Dispose() => _c.Dispose();
}
