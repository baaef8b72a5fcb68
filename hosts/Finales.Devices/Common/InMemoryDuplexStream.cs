using System.Threading.Channels;

namespace Finales.Devices;

/// <summary>
/// One end of an in-memory full-duplex byte pipe (a null-modem cable in memory). Bytes written to one end
/// are read from the other, in the chunks they were written (so 1-byte writes produce 1-byte reads).
/// Reads block until data arrives, the peer is disposed (end of stream) or the token is cancelled.
/// </summary>
public sealed class InMemoryDuplexStream : Stream
{
    private readonly Channel<byte[]> _incoming;
    private readonly Channel<byte[]> _outgoing;
    private byte[] _pending = [];
    private int _pendingOffset;
    private int _disposed;

    private InMemoryDuplexStream(Channel<byte[]> incoming, Channel<byte[]> outgoing)
    {
        _incoming = incoming;
        _outgoing = outgoing;
    }

    /// <summary>Creates two connected ends: what A writes, B reads, and vice versa.</summary>
    public static (InMemoryDuplexStream A, InMemoryDuplexStream B) CreatePair()
    {
        var aToB = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        var bToA = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        return (new InMemoryDuplexStream(bToA, aToB), new InMemoryDuplexStream(aToB, bToA));
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (buffer.Length == 0) return 0;
        if (_pendingOffset >= _pending.Length)
        {
            if (!await _incoming.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false)) return 0;
            if (!_incoming.Reader.TryRead(out var chunk)) return 0;
            _pending = chunk;
            _pendingOffset = 0;
        }
        var n = Math.Min(buffer.Length, _pending.Length - _pendingOffset);
        _pending.AsMemory(_pendingOffset, n).CopyTo(buffer);
        _pendingOffset += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (buffer.Length > 0 && !_outgoing.Writer.TryWrite(buffer.ToArray()))
            throw new IOException("The peer of this in-memory stream is closed.");
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _outgoing.Writer.TryComplete();
            _incoming.Writer.TryComplete();
        }
        base.Dispose(disposing);
    }
}
