using System.Diagnostics;
using Npgsql;

namespace Finales.Cli;

/// <summary>
/// A private PostgreSQL cluster for `bench broker --self --private-postgres`: initdb in a directory of the bench's
/// own, started on a free loopback port with the server's defaults (fsync and synchronous commit on), one fresh
/// database. initdb refuses to run as root, so as root the server's tools run as the <c>postgres</c> user. Disposing
/// stops the server; the bench deletes the directory with the rest of its store directory.
/// </summary>
internal sealed class PrivatePostgres : IDisposable
{
    private readonly string _bin;
    private readonly string _data;
    private readonly bool _asPostgres;
    private bool _started;

    private PrivatePostgres(string bin, string dir)
    {
        _bin = bin;
        Directory = dir;
        _data = Path.Combine(dir, "data");
        _asPostgres = Environment.UserName == "root";
    }

    /// <summary>The cluster's directory (data, socket, server log).</summary>
    public string Directory { get; }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; private set; }

    /// <summary>The connection string of the cluster's fresh database <c>bench</c>.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=bench";

    /// <summary>The server's version (e.g. "PostgreSQL 15.14"), read once it runs.</summary>
    public string Version { get; private set; } = "";

    /// <summary>The newest server binaries under /usr/lib/postgresql (Debian's layout), or null.</summary>
    public static string? FindBinaries() =>
        System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
                .FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")))
            : null;

    /// <summary>Creates and starts a cluster in <paramref name="dir"/>, or starts the one a kept run left there.</summary>
    public static PrivatePostgres Start(string dir, Action<string> progress)
    {
        var bin = FindBinaries() ?? throw new UsageError(
            "--private-postgres needs the PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)");
        var pg = new PrivatePostgres(bin, dir);
        try
        {
            pg.Init(progress);
            return pg;
        }
        catch
        {
            pg.Dispose();
            throw;
        }
    }

    private void Init(Action<string> progress)
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (_asPostgres) Run("chown", "chown", "postgres", Directory);
        // A cluster kept by an earlier run (--keep) is started again, with the store it holds.
        var kept = File.Exists(Path.Combine(_data, "PG_VERSION"));
        if (!kept)
        {
            progress($"private PostgreSQL: initdb {_data}");
            Tool("initdb", "-D", _data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale");
        }
        Port = Finales.Hosting.Loopback.FreePort();
        progress($"private PostgreSQL: starting {(kept ? "the kept cluster " : "")}on 127.0.0.1:{Port} (fsync on, the server's defaults)");
        Tool("pg_ctl", "-D", _data, "-o", $"-p {Port} -k {Directory} -c listen_addresses=127.0.0.1", "-l", Path.Combine(Directory, "server.log"), "-w", "start");
        _started = true;
        using var c = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false");
        c.Open();
        if (!kept)
            using (var create = new NpgsqlCommand("CREATE DATABASE bench", c)) create.ExecuteNonQuery();
        using var version = new NpgsqlCommand("SELECT current_setting('server_version')", c);
        Version = "PostgreSQL " + ((string)version.ExecuteScalar()!).Split(' ')[0];
    }

    /// <summary>User + system CPU seconds of the server's processes (the postmaster and its children) that are running now.</summary>
    public double CpuSeconds()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(_data, "postmaster.pid")).First());
        var ticks = 0L;
        foreach (var proc in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(proc, "stat")); }
            catch (IOException) { continue; } // exited meanwhile
            // Fields after the command name: state, ppid, ..., utime (14th field overall), stime (15th).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (pid != postmaster && int.Parse(fields[1]) != postmaster) continue;
            ticks += long.Parse(fields[11]) + long.Parse(fields[12]);
        }
        return ticks / 100.0;
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
        using var p = Process.Start(psi) ?? throw new UsageError($"could not start {name}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new UsageError($"{name} failed (exit {p.ExitCode}): {(stderr + stdout.Result).Trim()}");
    }

    public void Dispose()
    {
        if (!_started) return;
        _started = false;
        try { Tool("pg_ctl", "-D", _data, "-m", "fast", "stop"); }
        catch (UsageError e) { Console.Error.WriteLine("private PostgreSQL: " + e.Message); }
    }
}
