using System.Globalization;
using System.Text;
using k8s.Models;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Kubernetes;

/// <summary>Builds the batch/v1 Job and its token Secret: hardened pod, token mounted as a folder.</summary>
internal static class KubernetesObjects
{
    public static V1Job Job(JobSpec spec, JobsManagerOptions options)
    {
        var labels = KubernetesNames.Labels(spec.Name, options.ReleaseName);
        var env = spec.Env.Select(e => new V1EnvVar { Name = e.Key, Value = e.Value }).ToList();
        env.Add(new V1EnvVar { Name = JobEnvironment.ProxyUrl, Value = options.ProxyUrl.ToString().TrimEnd('/') });
        env.Add(new V1EnvVar { Name = JobEnvironment.TokenFile, Value = KubernetesNames.TokenFile });

        // For clients that cannot read files (DESIGN §6). The kubelet resolves it once, at container
        // start: it never refreshes, so it is good for one token lifetime; the file is the real source.
        env.Add(new V1EnvVar
        {
            Name = JobEnvironment.Token,
            ValueFrom = new V1EnvVarSource
            {
                SecretKeyRef = new V1SecretKeySelector { Name = KubernetesNames.TokenSecretName(spec.Name), Key = KubernetesNames.TokenKey, Optional = false },
            },
        });

        var container = new V1Container
        {
            Name = KubernetesNames.ContainerName,
            Image = spec.Image,
            Command = spec.Command.Count > 0 ? [.. spec.Command] : null,
            Args = spec.Args.Count > 0 ? [.. spec.Args] : null,
            Env = env,
            VolumeMounts =
            [
                new V1VolumeMount { Name = KubernetesNames.TokenVolume, MountPath = KubernetesNames.TokenMountPath, ReadOnlyProperty = true },
                // The root filesystem is read-only; training code still needs scratch space.
                new V1VolumeMount { Name = KubernetesNames.TmpVolume, MountPath = "/tmp" },
            ],
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false,
                Privileged = false,
                ReadOnlyRootFilesystem = true,
                RunAsNonRoot = true,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
                SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
            },
        };

        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta { Name = spec.Name, NamespaceProperty = options.Namespace, Labels = labels },
            Spec = new V1JobSpec
            {
                // A failed training run is reported, not silently restarted from scratch with the same token.
                BackoffLimit = 0,
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels) },
                    Spec = new V1PodSpec
                    {
                        RestartPolicy = "Never",
                        // Untrusted code gets no Kubernetes API credential and no service discovery env.
                        AutomountServiceAccountToken = false,
                        EnableServiceLinks = false,
                        SecurityContext = new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            RunAsUser = KubernetesNames.NonRootUser,
                            RunAsGroup = KubernetesNames.NonRootUser,
                            FsGroup = KubernetesNames.NonRootUser,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        Containers = [container],
                        Volumes =
                        [
                            new V1Volume
                            {
                                Name = KubernetesNames.TokenVolume,
                                // 0440: readable by the pod's fsGroup only.
                                Secret = new V1SecretVolumeSource { SecretName = KubernetesNames.TokenSecretName(spec.Name), DefaultMode = 0b100_100_000, Optional = false },
                            },
                            new V1Volume { Name = KubernetesNames.TmpVolume, EmptyDir = new V1EmptyDirVolumeSource() },
                        ],
                    },
                },
            },
        };
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
            NamespaceProperty = options.Namespace,
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
