namespace RequestsProxy.Tokens.Admin;

/// <summary>The stable lowercase identifier of each <see cref="AdminSignatureFailure"/> (logs, the 401/403 body).</summary>
public static class AdminSignatureReasons
{
    public const string Missing = "missing_signature";
    public const string Malformed = "malformed_signature";
    public const string StaleTimestamp = "stale_timestamp";
    public const string WrongTarget = "wrong_target";
    public const string BadSignature = "bad_signature";
    public const string BodyMismatch = "body_mismatch";
    public const string Replayed = "replayed_nonce";
    public const string ReplayCacheFull = "replay_cache_full";

    public static string Of(AdminSignatureFailure failure) => failure switch
    {
        AdminSignatureFailure.Missing => Missing,
        AdminSignatureFailure.Malformed => Malformed,
        AdminSignatureFailure.StaleTimestamp => StaleTimestamp,
        AdminSignatureFailure.WrongTarget => WrongTarget,
        AdminSignatureFailure.BadSignature => BadSignature,
        AdminSignatureFailure.BodyMismatch => BodyMismatch,
        AdminSignatureFailure.Replayed => Replayed,
        AdminSignatureFailure.ReplayCacheFull => ReplayCacheFull,
        _ => "none",
    };
}
