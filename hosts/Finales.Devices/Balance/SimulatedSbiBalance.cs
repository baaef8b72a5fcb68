using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Devices.Balance;

/// <summary>A fault the simulated balance injects into its next answer (ESC P, ESC x1_, ESC x2_ or auto-print line).</summary>
public abstract record SbiFault
{
    private SbiFault() { }

    /// <summary>Answers <c>Stat</c>.</summary>
    public sealed record Stat : SbiFault;
    /// <summary>Answers <c>High</c>.</summary>
    public sealed record High : SbiFault;
    /// <summary>Answers <c>Low</c>.</summary>
    public sealed record Low : SbiFault;
    /// <summary>Answers <c>Stat     ERR ###</c>.</summary>
    public sealed record Error(int Code) : SbiFault;
    /// <summary>Answers the given raw bytes instead of a line (malformed output).</summary>
    public sealed record Garbage(string Text) : SbiFault;
    /// <summary>Does not answer at all (the driver times out).</summary>
    public sealed record Silence : SbiFault;
    /// <summary>Answers the current value as unstable (no unit).</summary>
    public sealed record Unstable : SbiFault;
}

/// <summary>Options of the simulated balance.</summary>
public sealed record SimulatedSbiBalanceOptions
{
    public string Model { get; init; } = "ENTRIS224I-1S";
    public string SerialNumber { get; init; } = "SIM0000001";
    /// <summary>Decimals printed (0.1 mg resolution for a 220 g analytical balance).</summary>
    public int Decimals { get; init; } = 4;
    public string Unit { get; init; } = "g";
    /// <summary>Above this gross load the balance prints <c>High</c>.</summary>
    public double CapacityGrams { get; init; } = 220.0;
    /// <summary>Below minus this gross load the balance prints <c>Low</c>.</summary>
    public double UnderloadGrams { get; init; } = 2.0;
    /// <summary>Bytes per write: 0 writes each line at once, 1 writes byte by byte (exercises partial reads).</summary>
    public int WriteChunkSize { get; init; }
    /// <summary>Simulated delay before each answer.</summary>
    public TimeSpan ResponseDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    /// <summary>When set, the balance streams a value this often (simulated time) without being asked (auto-print).</summary>
    public TimeSpan? AutoPrintInterval { get; init; }
    /// <summary>Time compression for every simulated wait.</summary>
    public DeviceClock Clock { get; init; } = DeviceClock.RealTime;
}

/// <summary>
/// A simulated Sartorius Entris II that speaks the same SBI bytes as the real one, over any duplex stream
/// (<see cref="ServeAsync"/>), over TCP (<see cref="SimulatedSbiBalanceServer"/>) or an in-memory pipe
/// (<see cref="ConnectInMemory"/>). The load on the pan comes from <see cref="LoadSource"/> (by default the settable
/// <see cref="PanLoadGrams"/>, to which a pump simulator adds dispensed liquid via <see cref="AddLoad"/>).
/// </summary>
public sealed class SimulatedSbiBalance
{
    private readonly ConcurrentQueue<SbiFault> _faults = new();
    private readonly ILogger _logger;
    private readonly object _sync = new();
    private double _panLoad;
    private double _zeroOffset;
    private double? _tare;
    private int _commands;

    public SimulatedSbiBalance(SimulatedSbiBalanceOptions? options = null, ILogger<SimulatedSbiBalance>? logger = null)
    {
        Options = options ?? new SimulatedSbiBalanceOptions();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        LoadSource = () => PanLoadGrams;
    }

    public SimulatedSbiBalanceOptions Options { get; }

    /// <summary>The gross load on the pan in grams, read at every print. Replace it to drive the balance from a model.</summary>
    public Func<double> LoadSource { get; set; }

    /// <summary>The load used by the default <see cref="LoadSource"/>.</summary>
    public double PanLoadGrams
    {
        get { lock (_sync) return _panLoad; }
        set { lock (_sync) _panLoad = value; }
    }

    /// <summary>Adds (or with a negative value removes) mass on the pan: the hook for dispensed liquid.</summary>
    public void AddLoad(double grams)
    {
        lock (_sync) _panLoad += grams;
    }

    /// <summary>The ambient filter last selected by ESC K/L/M/N.</summary>
    public BalanceFilter Filter { get; private set; } = BalanceFilter.Stable;

    /// <summary>How many times ESC Q sounded the beeper.</summary>
    public int Beeps { get; private set; }

    /// <summary>How many times ESC S restarted the balance.</summary>
    public int Restarts { get; private set; }

    /// <summary>How many commands the balance has received.</summary>
    public int CommandsReceived => Volatile.Read(ref _commands);

    /// <summary>True while a tare is active (values print as net, id <c>N     </c>).</summary>
    public bool IsTared { get { lock (_sync) return _tare.HasValue; } }

    /// <summary>Queues a fault for one of the next answers (first in, first out).</summary>
    public void InjectFault(SbiFault fault) => _faults.Enqueue(fault ?? throw new ArgumentNullException(nameof(fault)));

    /// <summary>The line the balance would print now (without faults).</summary>
    public string CurrentLine(bool stable = true)
    {
        double gross, shown;
        bool net;
        lock (_sync)
        {
            gross = LoadSource() - _zeroOffset;
            net = _tare.HasValue;
            shown = gross - (_tare ?? 0.0);
        }
        if (gross > Options.CapacityGrams) return SbiLine.FormatRange(true);
        if (gross < -Options.UnderloadGrams) return SbiLine.FormatRange(false);
        return SbiLine.FormatReading(net ? BalanceValueKind.Net : BalanceValueKind.Gross, shown, Options.Decimals, Options.Unit, stable);
    }

    /// <summary>Opens an in-memory connection: returns the host end and serves the balance on the other end until it closes or the token fires.</summary>
    public Stream ConnectInMemory(CancellationToken cancellationToken = default)
    {
        var (host, device) = InMemoryDuplexStream.CreatePair();
        _ = Task.Run(async () =>
        {
            try { await ServeAsync(device, cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException) { }
            finally { await device.DisposeAsync().ConfigureAwait(false); }
        }, CancellationToken.None);
        return host;
    }

    /// <summary>Serves SBI on a duplex stream until the peer closes it or the token fires.</summary>
    public async Task ServeAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var writeGate = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task autoPrint = Task.CompletedTask;
        if (Options.AutoPrintInterval is { } interval)
            autoPrint = AutoPrintAsync(stream, writeGate, interval, stop.Token);
        try
        {
            var buffer = new byte[64];
            var command = new List<byte>();
            while (!stop.Token.IsCancellationRequested)
            {
                var n = await stream.ReadAsync(buffer, stop.Token).ConfigureAwait(false);
                if (n == 0) break;
                for (var i = 0; i < n; i++)
                {
                    var b = buffer[i];
                    if (b == SbiLine.Esc) { command.Clear(); command.Add(b); continue; }
                    if (command.Count == 0) continue; // bytes outside a command are ignored, as by the instrument
                    command.Add(b);
                    if (command.Count == 2 && b == (byte)'x') continue; // ESC x n _
                    if (command.Count is 3) continue;
                    var text = Encoding.ASCII.GetString(command.ToArray(), 1, command.Count - 1);
                    command.Clear();
                    await HandleAsync(text, stream, writeGate, stop.Token).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try { await autoPrint.ConfigureAwait(false); } catch (OperationCanceledException) { } catch (IOException) { }
        }
    }

    private async Task HandleAsync(string command, Stream stream, SemaphoreSlim writeGate, CancellationToken ct)
    {
        Interlocked.Increment(ref _commands);
        _logger.LogDebug("Simulated balance received ESC {Command}", command);
        switch (command)
        {
            case "P":
                await AnswerAsync(stable => CurrentLine(stable), stream, writeGate, ct).ConfigureAwait(false);
                break;
            case "T":
                lock (_sync)
                {
                    var gross = LoadSource() - _zeroOffset;
                    _tare = Math.Abs(gross) < Math.Pow(10, -Options.Decimals) ? null : gross;
                }
                break;
            case "V":
                lock (_sync)
                {
                    _zeroOffset = LoadSource();
                    _tare = null;
                }
                break;
            case "K": Filter = BalanceFilter.VeryStable; break;
            case "L": Filter = BalanceFilter.Stable; break;
            case "M": Filter = BalanceFilter.Unstable; break;
            case "N": Filter = BalanceFilter.VeryUnstable; break;
            case "Q": Beeps++; break;
            case "S":
                Restarts++;
                lock (_sync) { _tare = null; _zeroOffset = 0; }
                break;
            case "x1_":
                await AnswerAsync(_ => SbiLine.FormatText(Options.Model), stream, writeGate, ct).ConfigureAwait(false);
                break;
            case "x2_":
                await AnswerAsync(_ => SbiLine.FormatText(Options.SerialNumber), stream, writeGate, ct).ConfigureAwait(false);
                break;
            default:
                _logger.LogWarning("Simulated balance ignored unknown command ESC {Command}", command);
                break;
        }
    }

    private async Task AnswerAsync(Func<bool, string> line, Stream stream, SemaphoreSlim writeGate, CancellationToken ct)
    {
        await Options.Clock.DelayAsync(Options.ResponseDelay, ct).ConfigureAwait(false);
        string? text = _faults.TryDequeue(out var fault)
            ? fault switch
            {
                SbiFault.Stat => SbiLine.FormatStat(),
                SbiFault.High => SbiLine.FormatRange(true),
                SbiFault.Low => SbiLine.FormatRange(false),
                SbiFault.Error e => SbiLine.FormatError(e.Code),
                SbiFault.Garbage g => g.Text,
                SbiFault.Silence => null,
                SbiFault.Unstable => line(false),
                _ => throw new InvalidOperationException($"Unknown fault {fault}."),
            }
            : line(true);
        if (text is null) return;
        await WriteAsync(text, stream, writeGate, ct).ConfigureAwait(false);
    }

    private async Task WriteAsync(string text, Stream stream, SemaphoreSlim writeGate, CancellationToken ct)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        await writeGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var chunk = Options.WriteChunkSize <= 0 ? bytes.Length : Options.WriteChunkSize;
            for (var offset = 0; offset < bytes.Length; offset += chunk)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(chunk, bytes.Length - offset)), ct).ConfigureAwait(false);
                await stream.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            writeGate.Release();
        }
    }

    private async Task AutoPrintAsync(Stream stream, SemaphoreSlim writeGate, TimeSpan interval, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Options.Clock.DelayAsync(interval, ct).ConfigureAwait(false);
            await AnswerAsync(stable => CurrentLine(stable), stream, writeGate, ct).ConfigureAwait(false);
        }
    }
}

/// <summary>Serves a <see cref="SimulatedSbiBalance"/> on a TCP port of 127.0.0.1 (port 0 picks a free one), one session per connection.</summary>
public sealed class SimulatedSbiBalanceServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private readonly Task _accept;

    public SimulatedSbiBalanceServer(SimulatedSbiBalance balance, int port = 0)
    {
        Balance = balance ?? throw new ArgumentNullException(nameof(balance));
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptLoopAsync();
    }

    public SimulatedSbiBalance Balance { get; }

    /// <summary>The port the server listens on (127.0.0.1).</summary>
    public int Port { get; }

    public string Host => "127.0.0.1";

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            client.NoDelay = true;
            lock (_sessions) _sessions.Add(ServeClientAsync(client));
        }
    }

    private async Task ServeClientAsync(TcpClient client)
    {
        using (client)
        {
            try { await Balance.ServeAsync(client.GetStream(), _stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accept.ConfigureAwait(false);
        Task[] sessions;
        lock (_sessions) sessions = [.. _sessions];
        await Task.WhenAll(sessions).ConfigureAwait(false);
        _stop.Dispose();
    }
}
