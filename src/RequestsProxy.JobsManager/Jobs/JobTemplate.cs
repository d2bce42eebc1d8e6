using k8s.Models;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// A Job as the client wrote it in the Kubernetes API's shape (batch/v1 JobSpec, with the Job's
/// own labels and annotations), already checked by the template validator; the Kubernetes runtime
/// injects the token and hardening into a copy when it creates the Job.
/// </summary>
internal sealed record JobTemplate(IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations, V1JobSpec Spec);
