namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>Hands an adopted Job its token: the token Secret in the Job's namespace, owned by the Job.</summary>
internal interface IAdoptionDelivery
{
    /// <summary>
    /// Creates the token Secret (<paramref name="first"/>) or replaces its token (a refresh; re-created
    /// if it vanished). Throws <see cref="AdoptionBlockedException"/> when a Secret of that name already
    /// exists that is not this Job's token: it is never overwritten.
    /// </summary>
    Task DeliverAsync(AdoptedJob job, JobCredential credential, bool first, CancellationToken cancellationToken);

    /// <summary>Deletes the Job (only that incarnation: a newer Job of the same name stays); a Job that is gone is not an error.</summary>
    Task DeleteAsync(AdoptedJob job, CancellationToken cancellationToken);

    /// <summary>Tells whoever created the Job why it gets no token: a Warning Event on that incarnation (what <c>kubectl describe job</c> shows).</summary>
    Task WarnAsync(AdoptedJob job, string reason, string message, CancellationToken cancellationToken);
}
