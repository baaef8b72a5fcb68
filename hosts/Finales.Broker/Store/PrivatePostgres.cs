using System.Diagnostics;
using Npgsql;

namespace Finales.Broker;

/// <summary>
/// A private PostgreSQL cluster in a directory of its own, started on a given loopback port: what
/// `bench broker --private-postgres` measures on (with the server's defaults, fsync on) and what the tests' stores run on
/// (with their own server options). initdb refuses to run as root, so as root the server's tools run as the
/// <c>postgres</c> user. A cluster already in the directory (PG_VERSION present) is started again instead of created.
/// Disposing stops the server; the caller deletes the directory. Failures are <see cref="InvalidOperationException"/>s
/// naming the tool and its output.
/// </summary>
public sealed class PrivatePostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _data;
    private readonly bool _asPostgres;
    private bool _started;

    private PrivatePostgres(string bin, string dir, int port)
    {
        _bin = bin;
        Directory = dir;
        Port = port;
        _data = Path.Combine(dir, "data");
        _asPostgres = Environment.UserName == "root";
    }

    /// <summary>The cluster's directory (data, socket, server log).</summary>
    public string Directory { get; }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>Whether the directory held a cluster already (started again, with its databases).</summary>
    public bool Kept { get; private set; }

    /// <summary>The server's version (e.g. "PostgreSQL 15.14"), read once it runs.</summary>
    public string Version { get; private set; } = "";

    /// <summary>The connection string of <paramref name="database"/> in this cluster.</summary>
    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database}";

    /// <summary>The newest server binaries under /usr/lib/postgresql (Debian's layout), or null.</summary>
    public static string? FindBinaries() =>
        System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
                .FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")))
            : null;

    /// <summary>
    /// Creates and starts a cluster in <paramref name="dir"/> on <paramref name="port"/>, or starts the one a kept run
    /// left there; <paramref name="serverOptions"/> go to the server (e.g. "-c fsync=off"), none for its defaults.
    /// </summary>
    public static PrivatePostgres Start(string dir, int port, Action<string> progress, string serverOptions = "")
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "a private PostgreSQL cluster needs the server binaries under /usr/lib/postgresql (apt-get install postgresql)");
        var pg = new PrivatePostgres(bin, dir, port);
        try
        {
            pg.Init(progress, serverOptions);
            return pg;
        }
        catch
        {
            pg.Dispose();
            throw;
        }
    }

    private void Init(Action<string> progress, string serverOptions)
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (_asPostgres) Run("chown", "chown", "postgres", Directory);
        Kept = File.Exists(Path.Combine(_data, "PG_VERSION"));
        if (!Kept)
        {
            progress($"private PostgreSQL: initdb {_data}");
            Tool("initdb", "-D", _data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale");
        }
        progress($"private PostgreSQL: starting {(Kept ? "the kept cluster " : "")}on 127.0.0.1:{Port} " +
                 (serverOptions.Length == 0 ? "(fsync on, the server's defaults)" : $"({serverOptions})"));
        Tool("pg_ctl", "-D", _data, "-o", $"-p {Port} -k {Directory} -c listen_addresses=127.0.0.1 {serverOptions}".TrimEnd(),
            "-l", Path.Combine(Directory, "server.log"), "-w", "start");
        _started = true;
        using var c = Admin();
        using var version = new NpgsqlCommand("SELECT current_setting('server_version')", c);
        Version = "PostgreSQL " + ((string)version.ExecuteScalar()!).Split(' ')[0];
    }

    /// <summary>Creates the database <paramref name="name"/>; returns its connection string.</summary>
    public string CreateDatabase(string name)
    {
        using var c = Admin();
        using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
        create.ExecuteNonQuery();
        return ConnectionString(name);
    }

    private NpgsqlConnection Admin()
    {
        var c = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        c.Open();
        return c;
    }

    /// <summary>User + system CPU seconds of the server's processes (the postmaster and its children) that are running now.</summary>
    public double CpuSeconds()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(_data, "postmaster.pid")).First());
        var seconds = 0.0;
        foreach (var proc in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(proc), out var pid) && ProcStat.Read(pid) is (var parent, var cpu)
                && (pid == postmaster || parent == postmaster))
                seconds += cpu;
        }
        return seconds;
    }

    /// <summary>Runs one of the server's tools (as the postgres user when this process is root).</summary>
    private void Tool(string name, params string[] args)
    {
        var exe = Path.Combine(_bin, name);
        if (_asPostgres) Run(name, "runuser", ["-u", "postgres", "--", exe, .. args]);
        else Run(name, exe, args);
    }

    private static void Run(string name, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {name}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{name} failed (exit {p.ExitCode}): {(stderr + stdout.Result).Trim()}");
    }

    public void Dispose()
    {
        if (!_started) return;
        _started = false;
        try { Tool("pg_ctl", "-D", _data, "-m", "fast", "stop"); }
        catch (InvalidOperationException e) { Console.Error.WriteLine("private PostgreSQL: " + e.Message); }
    }
}
