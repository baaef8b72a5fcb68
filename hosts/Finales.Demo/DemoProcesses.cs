using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Finales.Demo;

/// <summary>
/// A child process of the demo (`dotnet finales.dll serve|tenant ...`, the CLI that hosts the demo): its output goes to a log file, it can be
/// killed with SIGKILL (chaos) or stopped with SIGTERM (then SIGKILL after a grace period), and restarted with the
/// same arguments.
/// </summary>
public sealed class DemoChild(string name, string arguments, string logPath, IReadOnlyDictionary<string, string> environment) : IDisposable
{
    private Process? _process;
    private StreamWriter? _log;
    private readonly object _gate = new();

    /// <summary>The finales CLI these children run: the entry assembly of this process (finales.dll).</summary>
    private static string Cli => System.Reflection.Assembly.GetEntryAssembly()?.Location
                                 ?? throw new InvalidOperationException("no entry assembly to start children from");

    public string Name { get; } = name;
    public int Starts { get; private set; }
    public int? Pid => _process?.Id;
    public bool IsRunning { get { lock (_gate) return _process is { HasExited: false }; } }

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    public void Start()
    {
        lock (_gate)
        {
            if (_process is { HasExited: false }) throw new InvalidOperationException($"{Name} is already running (pid {_process.Id})");
            _log ??= new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
            var psi = new ProcessStartInfo("dotnet", $"\"{Cli}\" {arguments}")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
            };
            foreach (var (k, v) in environment) psi.Environment[k] = v;
            psi.Environment[ParentWatch.Variable] = "1";
            var p = Process.Start(psi) ?? throw new DemoException($"could not start {Name}");
            var log = _log;
            void Line(string? s) { if (s is null) return; lock (log) log.WriteLine(s); }
            p.OutputDataReceived += (_, e) => Line(e.Data);
            p.ErrorDataReceived += (_, e) => Line(e.Data);
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            lock (log) log.WriteLine($"---- demo: started {Name} (pid {p.Id}): finales {arguments}");
            _process = p;
            Starts++;
        }
    }

    /// <summary>SIGKILL: no shutdown code runs in the child (the chaos kill).</summary>
    public void KillHard()
    {
        lock (_gate)
        {
            if (_process is not { HasExited: false } p) return;
            p.Kill(true);
            p.WaitForExit();
            lock (_log!) _log.WriteLine($"---- demo: killed {Name} (pid {p.Id}) with SIGKILL");
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public void Stop(TimeSpan grace)
    {
        lock (_gate)
        {
            if (_process is not { HasExited: false } p) return;
            SysKill(p.Id, 15);
            if (!p.WaitForExit(grace))
            {
                p.Kill(true);
                p.WaitForExit();
            }
            lock (_log!) _log.WriteLine($"---- demo: stopped {Name} (pid {p.Id}), exit code {p.ExitCode}");
        }
    }

    public int? ExitCode { get { lock (_gate) return _process is { HasExited: true } p ? p.ExitCode : null; } }

    public void Dispose()
    {
        Stop(TimeSpan.FromSeconds(5));
        _process?.Dispose();
        _log?.Dispose();
    }
}

/// <summary>HTTP to the broker for the demo: JSON bodies, a bearer token, and retries while the broker restarts.</summary>
public sealed class DemoHttp(string url, string user, string password) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(20) };
    private string? _token;

    public string Url { get; } = url;

    /// <summary>Waits until GET /healthz answers; fails early when the process has exited.</summary>
    public static async Task WaitUp(string url, DemoChild broker, TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (!broker.IsRunning) throw new DemoException($"the broker exited with code {broker.ExitCode} during start-up (see its log)");
            try { using var r = await http.GetAsync(url + "/healthz", ct); if (r.IsSuccessStatusCode) return; }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            await Task.Delay(100, ct);
        }
        throw new DemoException($"the broker did not answer on {url} within {timeout.TotalSeconds:F0} s");
    }

    private async Task<string> Login(CancellationToken ct)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = user, ["password"] = password });
        using var r = await _http.PostAsync(Url + "/user_management/authenticate", form, ct);
        var body = await r.Content.ReadAsStringAsync(ct);
        if (!r.IsSuccessStatusCode) throw new DemoException($"login as {user} failed: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>
    /// Sends a call; transport errors, timeouts and 5xx are retried for up to <paramref name="patience"/> (a broker restart),
    /// 401 logs in again. Returns status and body of the first non-retried answer.
    /// </summary>
    public async Task<(int Status, string Body)> Send(HttpMethod method, string path, string? json, CancellationToken ct, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(90));
        var delay = 0.2;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                _token ??= await Login(ct);
                using var msg = new HttpRequestMessage(method, Url + path);
                msg.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
                if (json is not null) msg.Content = new StringContent(json, Encoding.UTF8, "application/json");
                using var r = await _http.SendAsync(msg, ct);
                var body = await r.Content.ReadAsStringAsync(ct);
                var status = (int)r.StatusCode;
                if (status == 401) { _token = null; }
                else if (status < 500) return (status, body);
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            if (DateTime.UtcNow > deadline) throw new DemoException($"the broker at {Url} did not answer {method} {path} for {(patience ?? TimeSpan.FromSeconds(90)).TotalSeconds:F0} s");
            await Task.Delay(TimeSpan.FromSeconds(delay), ct);
            delay = Math.Min(2, delay * 2);
        }
    }

    public async Task<string> PostOk(string path, string json, CancellationToken ct)
    {
        var (s, b) = await Send(HttpMethod.Post, path, json, ct);
        if (s >= 300) throw new DemoException($"POST {path} refused: {s} {b}");
        return b;
    }

    public void Dispose() => _http.Dispose();
}
