namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The size the stored documents must stay under, and when to warn about it.</summary>
internal static class DocumentLimits
{
    /// <summary>The API server refuses a ConfigMap whose data exceed 1 MiB (422 "Too long: must have at most 1048576 bytes").</summary>
    public const long ConfigMapBytes = 1024 * 1024;

    /// <summary>Sizes from this fraction of the limit on are logged as a warning.</summary>
    public const double WarningFraction = 0.8;

    public static long WarningThresholdBytes => (long)(ConfigMapBytes * WarningFraction);

    /// <summary>
    /// Kept in the legacy token list's ConfigMap for its other keys: <c>issuing</c> (a 7-byte value) and room for a key an
    /// operator adds (the API server counts every key's value against <see cref="ConfigMapBytes"/>).
    /// </summary>
    public const long LegacyListReserveBytes = 1024;

    /// <summary>
    /// A legacy start is admitted only while the list, with an <c>until</c> on every entry, stays within this: ending
    /// (a stop, a cutover, the maintenance pass) never needs room a start did not keep (finding B8 of 2026-12-02).
    /// </summary>
    public const long LegacyListAdmitBytes = ConfigMapBytes - LegacyListReserveBytes;
}
