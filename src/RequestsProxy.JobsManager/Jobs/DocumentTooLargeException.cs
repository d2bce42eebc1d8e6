namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// A change would take a stored document past <see cref="DocumentLimits.ConfigMapBytes"/> (the API
/// server's 422): nothing was written. A start refused this way is a 507, not a retryable 502.
/// </summary>
internal sealed class DocumentTooLargeException(string description, long sizeBytes, long limitBytes, string location)
    : InvalidOperationException($"the {description} would be {sizeBytes} bytes, over the {limitBytes}-byte limit of {location}; nothing was written")
{
    public long SizeBytes { get; } = sizeBytes;

    public long LimitBytes { get; } = limitBytes;
}
