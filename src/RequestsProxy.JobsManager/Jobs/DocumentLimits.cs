namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The size the stored documents must stay under, and when to warn about it.</summary>
internal static class DocumentLimits
{
    /// <summary>The API server refuses a ConfigMap whose data exceed 1 MiB (422 "Too long: must have at most 1048576 bytes").</summary>
    public const long ConfigMapBytes = 1024 * 1024;

    /// <summary>Sizes from this fraction of the limit on are logged as a warning.</summary>
    public const double WarningFraction = 0.8;

    public static long WarningThresholdBytes => (long)(ConfigMapBytes * WarningFraction);
}
