namespace RequestsProxy.Server.Admission;

/// <summary>A verdict: allowed or not, the rule (or the reason it was not judged) and, for a denial, the message the client sees.</summary>
internal sealed record AdmissionDecision(bool Allowed, string Rule, string? Message = null)
{
    public static AdmissionDecision Allow(string rule) => new(true, rule);

    public static AdmissionDecision Deny(string rule, string message) => new(false, rule, message);
}
