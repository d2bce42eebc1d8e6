namespace RequestsProxy.JobsManager.Jobs.Adoption;

/// <summary>The documented contract between a Job created by another tool and the jobs-manager (docs/jobs-manager.md, "Adopt mode").</summary>
internal static class AdoptionNames
{
    /// <summary>The label that asks for a token; only the value "true" counts.</summary>
    public const string Label = "requests-proxy.io/token";

    public const string Selector = Label + "=true";
}
