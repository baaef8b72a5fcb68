using System.Text;

namespace Finales.Devices.Balance;

/// <summary>
/// Assembles CR LF terminated lines from a byte stream whose reads may return any fragment (a serial port often
/// returns a few bytes at a time). Bytes already received stay buffered across timeouts and cancellations.
/// </summary>
public sealed class SbiLineReader
{
    /// <summary>A line longer than this without a line feed is garbage, not a slow line.</summary>
    public const int MaxLineLength = 256;

    private readonly Stream _stream;
    private readonly byte[] _chunk = new byte[256];
    private readonly List<byte> _buffer = new(64);

    public SbiLineReader(Stream stream) => _stream = stream ?? throw new ArgumentNullException(nameof(stream));

    /// <summary>Reads the next line (including its CR LF). End of stream is an <see cref="EndOfStreamException"/>.</summary>
    public async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTakeLine(out var line)) return line;
            if (_buffer.Count > MaxLineLength)
            {
                var garbage = Encoding.Latin1.GetString(_buffer.ToArray());
                _buffer.Clear();
                throw new BalanceProtocolException($"Balance sent {garbage.Length} bytes without a line feed ('{SbiLine.Escape(garbage[..Math.Min(40, garbage.Length)])}...'); SBI lines are {SbiLine.LineLength} bytes.");
            }
            var n = await _stream.ReadAsync(_chunk, cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new EndOfStreamException(_buffer.Count == 0
                    ? "Balance connection closed."
                    : $"Balance connection closed inside a line ('{SbiLine.Escape(Encoding.Latin1.GetString(_buffer.ToArray()))}').");
            for (var i = 0; i < n; i++) _buffer.Add(_chunk[i]);
        }
    }

    /// <summary>Drops complete lines that arrived before a request (stale answers); returns how many were dropped.</summary>
    public int DiscardCompleteLines()
    {
        var dropped = 0;
        while (TryTakeLine(out _)) dropped++;
        return dropped;
    }

    private bool TryTakeLine(out string line)
    {
        var lf = _buffer.IndexOf((byte)'\n');
        if (lf < 0)
        {
            line = "";
            return false;
        }
        var bytes = _buffer.GetRange(0, lf + 1).ToArray();
        _buffer.RemoveRange(0, lf + 1);
        line = Encoding.Latin1.GetString(bytes);
        return true;
    }
}
