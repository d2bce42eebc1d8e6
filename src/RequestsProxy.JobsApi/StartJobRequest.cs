using System.Text.Json;

namespace RequestsProxy.JobsApi;

/// <summary>
/// The body of <c>POST /v1/jobs</c>: the simple form (<see cref="Image"/>, <see cref="Command"/>,
/// <see cref="Args"/>, <see cref="Env"/>), or a Kubernetes workload in the API's own JSON shape —
/// <see cref="Job"/> (a batch/v1 Job manifest, or just its <c>spec</c>), or <see cref="Template"/>
/// (a pod template) with the Job fields beside it. docs/jobs-manager.md lists what is refused.
/// <see cref="Namespace"/> picks one of the jobs-manager's job namespaces (default: the first).
/// </summary>
public sealed record StartJobRequest(
    string? Name,
    string? Image,
    IReadOnlyList<string>? Command,
    IReadOnlyList<string>? Args,
    string? Scope,
    IReadOnlyDictionary<string, string>? Env,
    JsonElement? Job = null,
    JsonElement? Template = null,
    int? Parallelism = null,
    int? Completions = null,
    string? CompletionMode = null,
    int? BackoffLimit = null,
    long? ActiveDeadlineSeconds = null,
    int? TtlSecondsAfterFinished = null,
    string? Namespace = null);
