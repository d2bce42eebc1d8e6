namespace RequestsProxy.Server.Forwarding;

/// <summary>A streamed request body passed the payload limit; the forwarder sees a failed client read.</summary>
internal sealed class PayloadTooLargeException(long limit) : IOException($"the request body passed the limit of {limit} bytes")
{
    public long Limit { get; } = limit;
}
