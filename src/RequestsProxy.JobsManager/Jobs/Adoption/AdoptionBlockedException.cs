namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>The token Secret's name is taken by an object this jobs-manager will not overwrite (retried on the next pass).</summary>
internal sealed class AdoptionBlockedException(string message) : Exception(message);
