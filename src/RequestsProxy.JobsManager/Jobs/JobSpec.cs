namespace RequestsProxy.JobsManager.Jobs;

/// <summary>What a client asked to run: validated, immutable.</summary>
internal sealed record JobSpec(
    string Name,
    string? Image,
    IReadOnlyList<string> Command,
    IReadOnlyList<string> Args,
    string Scope,
    IReadOnlyDictionary<string, string> Env);
