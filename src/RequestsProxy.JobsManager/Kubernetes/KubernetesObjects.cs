using System.Globalization;
using System.Text;
using k8s.Models;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>
/// Builds the batch/v1 Job and its token Secret. Every job — the simple form or a client's
/// template — goes through one builder: the template is copied, then the product's parts are
/// injected into every container and init container (the token volume, mounted as a folder, and
/// the REQUESTS_PROXY_* environment), and every security setting the template leaves out gets the
/// hardened default. The validator has already refused what a template may not ask for.
/// </summary>
internal static class KubernetesObjects
{
    public static V1Job Job(JobSpec spec, JobsManagerOptions options)
    {
        var template = spec.Template ?? SimpleTemplate(spec);

        // A deep copy: the request's objects stay as the client sent them.
        var jobSpec = k8s.KubernetesJson.Deserialize<V1JobSpec>(k8s.KubernetesJson.Serialize(template.Spec));
        var labels = KubernetesNames.Labels(spec.Name, options.ReleaseName);

        // A failed training run is reported, not silently restarted from scratch with the same token.
        jobSpec.BackoffLimit ??= 0;
        jobSpec.Template.Metadata ??= new V1ObjectMeta();
        jobSpec.Template.Metadata.Labels = Merge(jobSpec.Template.Metadata.Labels, labels);
        var pod = jobSpec.Template.Spec;
        pod.RestartPolicy ??= "Never";

        // Untrusted code gets no Kubernetes API credential and no service discovery env.
        pod.AutomountServiceAccountToken = false;
        pod.EnableServiceLinks ??= false;
        var podContext = pod.SecurityContext ??= new V1PodSecurityContext();
        var rootRequested = podContext.RunAsNonRoot == false || podContext.RunAsUser == 0;
        if (!rootRequested)
        {
            podContext.RunAsNonRoot ??= true;
            if (podContext.RunAsUser is null)
            {
                podContext.RunAsUser = KubernetesNames.NonRootUser;
                podContext.RunAsGroup ??= KubernetesNames.NonRootUser;
            }
        }

        // The token file is 0440: readable through the pod's fsGroup whatever user the containers run as.
        podContext.FsGroup ??= KubernetesNames.NonRootUser;
        podContext.SeccompProfile ??= new V1SeccompProfile { Type = "RuntimeDefault" };

        var needsTmp = false;
        foreach (var container in (pod.InitContainers ?? []).Concat(pod.Containers))
        {
            needsTmp |= Inject(container, spec.Name, podContext.RunAsNonRoot == true, options);
        }

        pod.Volumes ??= [];
        pod.Volumes.Add(new V1Volume
        {
            Name = KubernetesNames.TokenVolume,
            // 0440: readable by the pod's fsGroup only.
            Secret = new V1SecretVolumeSource { SecretName = KubernetesNames.TokenSecretName(spec.Name), DefaultMode = 0b100_100_000, Optional = false },
        });
        if (needsTmp)
        {
            pod.Volumes.Add(new V1Volume { Name = KubernetesNames.TmpVolume, EmptyDir = new V1EmptyDirVolumeSource() });
        }

        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = spec.Name,
                NamespaceProperty = spec.Namespace ?? options.DefaultJobNamespace,
                Labels = Merge(template.Labels, labels),
                Annotations = template.Annotations.Count > 0 ? new Dictionary<string, string>(template.Annotations, StringComparer.Ordinal) : null,
            },
            Spec = jobSpec,
        };
    }

    /// <summary>The simple form (image, command, args, env) as the template it stands for: one container named "training".</summary>
    private static JobTemplate SimpleTemplate(JobSpec spec) => new(
        new Dictionary<string, string>(StringComparer.Ordinal),
        new Dictionary<string, string>(StringComparer.Ordinal),
        new V1JobSpec
        {
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    Containers =
                    [
                        new V1Container
                        {
                            Name = KubernetesNames.ContainerName,
                            Image = spec.Image,
                            Command = spec.Command.Count > 0 ? [.. spec.Command] : null,
                            Args = spec.Args.Count > 0 ? [.. spec.Args] : null,
                            Env = [.. spec.Env.Select(e => new V1EnvVar { Name = e.Key, Value = e.Value })],
                        },
                    ],
                },
            },
        });

    /// <summary>The token, its environment and the hardened defaults into one container; true when it got the /tmp scratch mount.</summary>
    private static bool Inject(V1Container container, string job, bool podRunsAsNonRoot, JobsManagerOptions options)
    {
        container.Env ??= [];
        container.Env.Add(new V1EnvVar { Name = JobEnvironment.ProxyUrl, Value = options.ProxyUrl.ToString().TrimEnd('/') });
        container.Env.Add(new V1EnvVar { Name = JobEnvironment.TokenFile, Value = KubernetesNames.TokenFile });

        // For clients that cannot read files (DESIGN §6). The kubelet resolves it once, at container
        // start: it never refreshes, so it is good for one token lifetime; the file is the real source.
        container.Env.Add(new V1EnvVar
        {
            Name = JobEnvironment.Token,
            ValueFrom = new V1EnvVarSource
            {
                SecretKeyRef = new V1SecretKeySelector { Name = KubernetesNames.TokenSecretName(job), Key = KubernetesNames.TokenKey, Optional = false },
            },
        });

        container.VolumeMounts ??= [];
        container.VolumeMounts.Add(new V1VolumeMount { Name = KubernetesNames.TokenVolume, MountPath = KubernetesNames.TokenMountPath, ReadOnlyProperty = true });

        var context = container.SecurityContext ??= new V1SecurityContext();
        context.AllowPrivilegeEscalation ??= false;
        context.Privileged ??= false;
        context.ReadOnlyRootFilesystem ??= true;
        if (podRunsAsNonRoot && context.RunAsUser != 0)
        {
            context.RunAsNonRoot ??= true;
        }

        context.Capabilities ??= new V1Capabilities();
        context.Capabilities.Drop = [.. (context.Capabilities.Drop ?? []).Where(c => c != "ALL"), "ALL"];
        context.SeccompProfile ??= new V1SeccompProfile { Type = "RuntimeDefault" };

        // The root filesystem is read-only; training code still needs scratch space (unless the template gave it its own).
        if (context.ReadOnlyRootFilesystem == true && !container.VolumeMounts.Any(m => m.MountPath?.TrimEnd('/') == "/tmp"))
        {
            container.VolumeMounts.Add(new V1VolumeMount { Name = KubernetesNames.TmpVolume, MountPath = "/tmp" });
            return true;
        }

        return false;
    }

    private static Dictionary<string, string> Merge(IEnumerable<KeyValuePair<string, string>>? theirs, IReadOnlyDictionary<string, string> ours)
    {
        var merged = new Dictionary<string, string>(theirs ?? [], StringComparer.Ordinal);
        foreach (var (key, value) in ours)
        {
            merged[key] = value;
        }

        return merged;
    }

    /// <summary>The token Secret, owned by the Job so the garbage collector deletes it with the Job.</summary>
    public static V1Secret TokenSecret(V1Job job, JobCredential credential, JobsManagerOptions options) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "Opaque",
        Metadata = new V1ObjectMeta
        {
            Name = KubernetesNames.TokenSecretName(job.Metadata.Name),
            NamespaceProperty = job.Metadata.NamespaceProperty,
            Labels = KubernetesNames.Labels(job.Metadata.Name, options.ReleaseName),
            Annotations = TokenAnnotations(credential),
            OwnerReferences = [Owner(job)],
        },
        Data = new Dictionary<string, byte[]> { [KubernetesNames.TokenKey] = Encoding.ASCII.GetBytes(credential.Token) },
    };

    /// <summary>
    /// Controller owner reference without blockOwnerDeletion: setting that needs the update verb on
    /// jobs/finalizers, which the chart's RBAC does not grant.
    /// </summary>
    public static V1OwnerReference Owner(V1Job job) => new()
    {
        ApiVersion = "batch/v1",
        Kind = "Job",
        Name = job.Metadata.Name,
        Uid = job.Metadata.Uid,
        Controller = true,
    };

    /// <summary>Which token the Secret holds, for operators (never the token itself).</summary>
    public static Dictionary<string, string> TokenAnnotations(JobCredential credential)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [KubernetesNames.JtiAnnotation] = credential.Facts.Jti };
        if (credential.Facts.Kid is { } kid)
        {
            annotations[KubernetesNames.KidAnnotation] = kid;
        }

        if (credential.Facts.ExpiresAt is { } exp)
        {
            annotations[KubernetesNames.ExpiresAnnotation] = exp.ToString("O", CultureInfo.InvariantCulture);
        }

        return annotations;
    }

    public static JobState State(V1Job job)
    {
        if (job.Metadata?.DeletionTimestamp is not null)
        {
            return JobState.Stopping;
        }

        foreach (var condition in job.Status?.Conditions ?? [])
        {
            if (condition.Status == "True" && condition.Type == "Complete")
            {
                return JobState.Succeeded;
            }

            if (condition.Status == "True" && condition.Type == "Failed")
            {
                return JobState.Failed;
            }
        }

        return job.Status?.Active > 0 ? JobState.Running : JobState.Pending;
    }
}
