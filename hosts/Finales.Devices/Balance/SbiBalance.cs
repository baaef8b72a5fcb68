using System.IO.Ports;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Finales.Devices.Balance;

/// <summary>Options of the SBI balance driver.</summary>
public sealed record SbiBalanceOptions
{
    /// <summary>How long to wait for the answer to ESC P, ESC x1_, ESC x2_ (wall time).</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The unit reported for unstable values (SBI prints none while the value moves).</summary>
    public string DefaultUnit { get; init; } = "g";

    /// <summary>Pause between attempts of <see cref="IBalance.ReadStableAsync"/> (wall time).</summary>
    public TimeSpan StablePollInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// Sartorius Entris II driver speaking SBI over any byte stream: a serial port (<see cref="OpenSerial"/>),
/// a TCP serial server (<see cref="ConnectTcpAsync"/>) or an in-memory pipe to <see cref="SimulatedSbiBalance"/>.
/// Requests are serialized; bytes split across reads are reassembled; silence is a <see cref="DeviceTimeoutException"/>.
/// </summary>
public sealed class SbiBalance : IBalance, IDisposable
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly SbiLineReader _reader;
    private readonly SbiBalanceOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _endpoint;

    /// <summary>Wraps an open byte stream. <paramref name="endpoint"/> only names the connection in messages.</summary>
    public SbiBalance(Stream stream, SbiBalanceOptions? options = null, ILogger<SbiBalance>? logger = null,
        bool ownsStream = true, string endpoint = "stream")
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _ownsStream = ownsStream;
        _reader = new SbiLineReader(stream);
        _options = options ?? new SbiBalanceOptions();
        if (_options.ResponseTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(options), _options.ResponseTimeout, $"ResponseTimeout is {_options.ResponseTimeout}; it must be > 0.");
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _endpoint = endpoint;
    }

    /// <summary>Connects to a balance behind a TCP serial server (or a <see cref="SimulatedSbiBalanceServer"/>).</summary>
    public static async Task<SbiBalance> ConnectTcpAsync(string host, int port, SbiBalanceOptions? options = null,
        ILogger<SbiBalance>? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            client.Dispose();
            throw new DeviceException($"Balance at {host}:{port} refused or unreachable: {e.Message}", e);
        }
        return new SbiBalance(new OwningNetworkStream(client), options, logger, ownsStream: true, endpoint: $"tcp://{host}:{port}");
    }

    /// <summary>Opens a balance on a serial port, 8N1 as the Entris II ships (9600..115200 baud).</summary>
    public static SbiBalance OpenSerial(string portName, int baudRate = 9600, Handshake handshake = Handshake.None,
        SbiBalanceOptions? options = null, ILogger<SbiBalance>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(portName);
        if (baudRate is < 1200 or > 115200)
            throw new ArgumentOutOfRangeException(nameof(baudRate), baudRate, $"Baud rate is {baudRate}; the Entris II supports 1200..115200.");
        var port = new SerialPort(portName, baudRate, Parity.None, 8, StopBits.One) { Handshake = handshake };
        port.Open();
        return new SbiBalance(new OwningSerialStream(port), options, logger, ownsStream: true, endpoint: $"serial://{portName}@{baudRate}");
    }

    public Task<BalanceReading> ReadAsync(CancellationToken cancellationToken = default) =>
        RequestLineAsync(SbiLine.Print, "ESC P", line => SbiLine.ParseReading(line, _options.DefaultUnit), cancellationToken);

    public async Task<BalanceReading> ReadStableAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        BalanceReading? last = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            last = await ReadAsync(cancellationToken).ConfigureAwait(false);
            if (last.IsStable) return last;
            if (DateTime.UtcNow >= deadline)
                throw new DeviceTimeoutException($"Balance at {_endpoint} gave no stable value within {timeout.TotalSeconds:0.###} s (last: {last.Value} {last.Unit}, unstable).");
            await Task.Delay(_options.StablePollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task TareAsync(CancellationToken cancellationToken = default) => SendAsync(SbiLine.Tare, "ESC T", cancellationToken);
    public Task ZeroAsync(CancellationToken cancellationToken = default) => SendAsync(SbiLine.Zero, "ESC V", cancellationToken);
    public Task SetFilterAsync(BalanceFilter filter, CancellationToken cancellationToken = default) =>
        SendAsync(SbiLine.Filter(filter), $"filter {filter}", cancellationToken);
    public Task BeepAsync(CancellationToken cancellationToken = default) => SendAsync(SbiLine.Beep, "ESC Q", cancellationToken);
    public Task RestartAsync(CancellationToken cancellationToken = default) => SendAsync(SbiLine.Restart, "ESC S", cancellationToken);
    public Task<string> GetModelAsync(CancellationToken cancellationToken = default) =>
        RequestLineAsync(SbiLine.Model, "ESC x1_", SbiLine.ParseText, cancellationToken);
    public Task<string> GetSerialNumberAsync(CancellationToken cancellationToken = default) =>
        RequestLineAsync(SbiLine.SerialNumber, "ESC x2_", SbiLine.ParseText, cancellationToken);

    public async IAsyncEnumerable<BalanceReading> StreamAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var line = await ReadLineWithTimeoutAsync("auto-print", cancellationToken).ConfigureAwait(false);
                yield return SbiLine.ParseReading(line, _options.DefaultUnit);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task SendAsync(byte[] command, string name, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteAsync(command, name, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<T> RequestLineAsync<T>(byte[] command, string name, Func<string, T> parse, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var stale = _reader.DiscardCompleteLines();
            if (stale > 0) _logger.LogDebug("Balance {Endpoint}: discarded {Count} stale lines before {Command}", _endpoint, stale, name);
            await WriteAsync(command, name, cancellationToken).ConfigureAwait(false);
            var line = await ReadLineWithTimeoutAsync(name, cancellationToken).ConfigureAwait(false);
            try
            {
                return parse(line);
            }
            catch (BalanceException e)
            {
                _logger.LogWarning("Balance {Endpoint}: {Command} answered {Line}: {Error}", _endpoint, name, SbiLine.Escape(line), e.Message);
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task WriteAsync(byte[] command, string name, CancellationToken cancellationToken)
    {
        _logger.LogDebug("Balance {Endpoint}: sending {Command}", _endpoint, name);
        try
        {
            await _stream.WriteAsync(command, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new DeviceException($"Balance at {_endpoint}: sending {name} failed: {e.Message}", e);
        }
    }

    private async Task<string> ReadLineWithTimeoutAsync(string name, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ResponseTimeout);
        try
        {
            var line = await _reader.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            _logger.LogDebug("Balance {Endpoint}: received {Line}", _endpoint, SbiLine.Escape(line));
            return line;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DeviceTimeoutException($"Balance at {_endpoint} did not answer {name} within {_options.ResponseTimeout.TotalMilliseconds:0} ms.", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DeviceException($"Balance at {_endpoint}: {e.Message} (waiting for the answer to {name}).", e);
        }
    }

    public void Dispose()
    {
        if (_ownsStream) _stream.Dispose();
        _gate.Dispose();
    }

    /// <summary>A NetworkStream that also disposes its TcpClient.</summary>
    private sealed class OwningNetworkStream(TcpClient client) : NetworkStream(client.Client, ownsSocket: true)
    {
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing) client.Dispose();
        }
    }

    /// <summary>The serial port's stream that also closes the port.</summary>
    private sealed class OwningSerialStream(SerialPort port) : Stream
    {
        private readonly Stream _inner = port.BaseStream;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => _inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _inner.WriteAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        protected override void Dispose(bool disposing)
        {
            if (disposing) port.Dispose();
            base.Dispose(disposing);
        }
    }
}
