namespace RequestsProxy.Server.Forwarding;

/// <summary>
/// A request body counted in payload bytes. Kestrel's <c>MaxRequestBodySize</c> counts chunk
/// framing too (a 989-byte chunk passed a 1 000-byte limit only as <c>Content-Length</c>), so the
/// proxy lifts Kestrel's limit for relayed requests and enforces its own here: the read that
/// passes the limit fails with <see cref="PayloadTooLargeException"/>, before those bytes go upstream.
/// </summary>
internal sealed class PayloadLimitStream(Stream inner, long limit) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        _read += read;
        if (_read > limit)
        {
            throw new PayloadTooLargeException(limit);
        }

        return read;
    }
}
