namespace RequestsProxy.JobsManager.Jobs;

/// <summary>The outcome of <see cref="TokenDelivery.IssueAndDeliverAsync{T}"/>: the delivery's value, or the failed stage and why.</summary>
internal readonly record struct TokenDeliveryResult<T>(TokenDeliveryStage Stage, T? Value, JobCredential? Credential, Exception? Error)
{
    public bool Delivered => Stage == TokenDeliveryStage.Delivered;
}
