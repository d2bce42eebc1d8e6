using System.Collections.Frozen;
using System.Text.Json.Nodes;
using k8s.Models;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.JobsManager.Kubernetes;

namespace RequestsProxy.JobsManager.Api;

/// <summary>
/// What the product refuses in a Job template, each as a 400 naming the field (all at once): a
/// way to a Kubernetes credential (<c>automountServiceAccountToken</c>, another service account,
/// a projected service-account token), a way out of the container (host namespaces, privileged,
/// privilege escalation, hostPath, host ports, added capabilities, unconfined seccomp, unmasked
/// /proc), a way onto control-plane nodes (a keyless toleration, a control-plane toleration or node
/// selection, <c>nodeName</c>), what collides with the injected token and environment (reserved volume
/// names, the token's mount path, <c>REQUESTS_PROXY_*</c> variables, our labels), and what a Job needs to
/// be the jobs-manager's (its own selector, a restart policy Jobs accept). Running as root, a
/// writable root filesystem, added capabilities, unsafe sysctls, tolerating every taint and
/// control-plane nodes are relaxations the operator's <see cref="PodPolicy"/> may allow.
/// </summary>
internal static class JobTemplateValidator
{
    public const string LabelPrefix = "requests-proxy.io/";

    /// <summary>The label (and value) every selector of the chart's own pods carries (_helpers.tpl).</summary>
    private const string ChartNameLabel = "app.kubernetes.io/name";
    private const string ChartName = "requests-proxy";

    /// <summary>The suffix of every job's token Secret (<see cref="KubernetesNames.TokenSecretName"/>).</summary>
    private static readonly string TokenSecretSuffix = KubernetesNames.TokenSecretName("");

    /// <summary>Kubernetes' safe sysctls: namespaced and isolated between the pods of a node (the kubelet allows them by default).</summary>
    public static readonly FrozenSet<string> SafeSysctls = new[]
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",            // v1.18
        "net.ipv4.ip_unprivileged_port_start",  // v1.22
        "net.ipv4.ip_local_reserved_ports",     // v1.27, kernel 3.16+
        "net.ipv4.tcp_keepalive_time",          // v1.29, kernel 4.5+
        "net.ipv4.tcp_fin_timeout",             // v1.29, kernel 4.6+
        "net.ipv4.tcp_keepalive_intvl",         // v1.29, kernel 4.5+
        "net.ipv4.tcp_keepalive_probes",        // v1.29, kernel 4.5+
        "net.ipv4.tcp_rmem",                    // v1.32, kernel 4.15+
        "net.ipv4.tcp_wmem",                    // v1.32, kernel 4.15+
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <param name="jobPath">Where the Job spec's fields are in the request ("job.spec", "job", or "" for top-level fields beside "template").</param>
    public static void Validate(V1JobSpec spec, string jobPath, PodPolicy policy, List<string> errors) => Validate(spec, jobPath, policy, ownTokenSecret: null, errors);

    /// <summary>
    /// The same rules for a Job another tool created with the adopt label (the token is only delivered
    /// if it passes: its pod spec is immutable, so there is nothing to inject or fix). What the
    /// jobs-manager would inject is the manifest's own here, so the rules about it become "references
    /// the documented token Secret": the token mount, the <c>REQUESTS_PROXY_*</c> env and the volume names
    /// are allowed, its own token Secret may be read (no other job's), a mount at the token path must be
    /// that Secret, and the pod must reference it at all. <c>automountServiceAccountToken</c> must be
    /// explicitly false (left out, the service account's token is mounted), and no
    /// <c>requests-proxy.io/*</c> label but the adopt label may be on the Job. What the API server already
    /// validated and the product does not depend on (the Job's own selector, counts, completion mode) is
    /// not judged. Field paths are the Job's own (<c>spec.template.spec…</c>). Empty: the Job may have a token.
    /// </summary>
    /// <param name="releaseNamespace">The jobs-manager's own namespace: a Job there may read no Secret but its token.</param>
    public static IReadOnlyList<string> ValidateAdopted(V1Job job, PodPolicy policy, string? releaseNamespace)
    {
        var errors = new List<string>();
        var name = job.Metadata?.Name ?? "";
        var own = KubernetesNames.TokenSecretName(name);
        foreach (var label in (job.Metadata?.Labels ?? new Dictionary<string, string>()).Keys
            .Where(l => l.StartsWith(LabelPrefix, StringComparison.Ordinal) && l != Jobs.Adoption.AdoptionNames.Label))
        {
            errors.Add($"'metadata.labels.{label}' is reserved: the jobs-manager sets the {LabelPrefix}* labels (only {Jobs.Adoption.AdoptionNames.Label} asks for a token)");
        }

        var spec = job.Spec ?? new V1JobSpec();
        Validate(spec, "spec", policy, own, errors);
        var inReleaseNamespace = releaseNamespace is not null && job.Metadata?.NamespaceProperty == releaseNamespace;
        ValidateSecretReferences(spec, "spec", inReleaseNamespace, errors, own);
        if (spec.Template?.Spec is { } pod && SecretReferences(pod).All(r => r.Name != own))
        {
            errors.Add($"'spec.template.spec' does not reference its token Secret '{own}': mount it at {KubernetesNames.TokenMountPath} (docs/jobs-manager.md, adopt mode), or its pods cannot read the token");
        }

        return errors;
    }

    /// <param name="ownTokenSecret">Set for an adopted Job: the token Secret its manifest must reference (nothing is injected).</param>
    private static void Validate(V1JobSpec spec, string jobPath, PodPolicy policy, string? ownTokenSecret, List<string> errors)
    {
        string Field(string name) => jobPath.Length == 0 ? name : $"{jobPath}.{name}";

        if (ownTokenSecret is null)
        {
            // The API server validated an existing Job's own fields (and set its selector); a start request's are judged here.
            JobFields(spec, Field, errors);
        }

        var template = Field("template");
        if (spec.Template?.Spec is not { } pod)
        {
            errors.Add($"'{template}.spec' is required (a pod spec with at least one container)");
            return;
        }

        foreach (var (label, value) in spec.Template.Metadata?.Labels ?? new Dictionary<string, string>())
        {
            if (label.StartsWith(LabelPrefix, StringComparison.Ordinal))
            {
                errors.Add($"'{template}.metadata.labels.{label}' is reserved: the jobs-manager sets the {LabelPrefix}* labels");
            }
            else if (label == ChartNameLabel && value == ChartName)
            {
                // Every selector of the chart (the proxy Service and its pods Service, the jobs-manager
                // Service, the NetworkPolicy's way to the proxy) needs this label: a pod carrying it could
                // receive other jobs' bearer tokens, or the admin token.
                errors.Add($"'{template}.metadata.labels.{label}' '{value}' is reserved: the chart's Services select the proxy and the jobs-manager by it");
            }
        }

        foreach (var (annotation, value) in spec.Template.Metadata?.Annotations ?? new Dictionary<string, string>())
        {
            if ((annotation.StartsWith("container.apparmor.security.beta.kubernetes.io/", StringComparison.Ordinal) && value == "unconfined") ||
                (annotation.StartsWith("seccomp.security.alpha.kubernetes.io/", StringComparison.Ordinal) || annotation.StartsWith("container.seccomp.security.alpha.kubernetes.io/", StringComparison.Ordinal)) && value == "unconfined")
            {
                errors.Add($"'{template}.metadata.annotations.{annotation}' must not be \"unconfined\"");
            }
        }

        ValidatePod(pod, $"{template}.spec", policy, ownTokenSecret, errors);
    }

    private static void JobFields(V1JobSpec spec, Func<string, string> field, List<string> errors)
    {
        if (spec.Selector is not null || spec.ManualSelector == true)
        {
            errors.Add($"'{field("selector")}' and '{field("manualSelector")}' must be left out: the jobs-manager labels the Job's pods itself");
        }

        NonNegative(spec.Parallelism, field("parallelism"), errors);
        NonNegative(spec.Completions, field("completions"), errors);
        NonNegative(spec.BackoffLimit, field("backoffLimit"), errors);
        NonNegative(spec.TtlSecondsAfterFinished, field("ttlSecondsAfterFinished"), errors);
        if (spec.ActiveDeadlineSeconds is <= 0)
        {
            errors.Add($"'{field("activeDeadlineSeconds")}' must be positive");
        }

        if (spec.CompletionMode is { } mode && mode is not ("NonIndexed" or "Indexed"))
        {
            errors.Add($"'{field("completionMode")}' must be \"NonIndexed\" or \"Indexed\", not \"{mode}\"");
        }

        if (spec.CompletionMode == "Indexed" && spec.Completions is null)
        {
            errors.Add($"'{field("completions")}' is required when '{field("completionMode")}' is \"Indexed\"");
        }
    }

    /// <summary>
    /// Secrets the pod would read (secret and projected secret volumes, env <c>secretKeyRef</c>,
    /// <c>envFrom.secretRef</c>): the kubelet mounts any Secret of the pod's namespace whatever
    /// the pod's rights, so a template naming one hands it to untrusted code. Another job's token
    /// Secret is refused everywhere (its own is injected); in the jobs-manager's own namespace every
    /// Secret is refused — it holds the signing keys, the admin token, the upstream credentials and
    /// service-account token Secrets, under names a deny-list cannot know (existingSecret).
    /// </summary>
    /// <param name="ownTokenSecret">An adopted Job's own token Secret, which its manifest mounts itself; null for a start request (the jobs-manager mounts it).</param>
    public static void ValidateSecretReferences(V1JobSpec spec, string jobPath, bool inReleaseNamespace, List<string> errors, string? ownTokenSecret = null)
    {
        if (spec.Template?.Spec is not { } pod)
        {
            return;
        }

        var path = (jobPath.Length == 0 ? "" : jobPath + ".") + "template.spec";
        foreach (var (name, at) in SecretReferences(pod).Where(r => r.Name != ownTokenSecret))
        {
            if (name.EndsWith(TokenSecretSuffix, StringComparison.Ordinal))
            {
                errors.Add($"'{path}.{at}' '{name}' is a job's token Secret: a job gets only its own token" +
                    (ownTokenSecret is null ? ", which the jobs-manager mounts" : $", '{ownTokenSecret}'"));
            }
            else if (inReleaseNamespace)
            {
                errors.Add($"'{path}.{at}' '{name}': a job in the jobs-manager's own namespace may not read its Secrets (signing keys, admin and upstream credentials live there); " +
                    "run jobs that need a Secret in a job namespace (JOBS_MANAGER_JOB_NAMESPACES)");
            }
        }
    }

    /// <summary>Every Secret the pod would read, with where it is named (relative to the pod spec): secret and projected volumes, env secretKeyRef, envFrom secretRef.</summary>
    private static IEnumerable<(string Name, string At)> SecretReferences(V1PodSpec pod)
    {
        var volumes = pod.Volumes ?? [];
        for (var i = 0; i < volumes.Count; i++)
        {
            if (volumes[i].Secret is { } secret)
            {
                yield return (secret.SecretName ?? "", $"volumes[{i}].secret.secretName");
            }

            var sources = volumes[i].Projected?.Sources ?? [];
            for (var s = 0; s < sources.Count; s++)
            {
                if (sources[s].Secret is { } projected)
                {
                    yield return (projected.Name ?? "", $"volumes[{i}].projected.sources[{s}].secret.name");
                }
            }
        }

        foreach (var (list, field) in new[] { (pod.InitContainers, "initContainers"), (pod.Containers, "containers") })
        {
            for (var c = 0; c < (list?.Count ?? 0); c++)
            {
                var container = list![c];
                foreach (var (env, e) in (container.Env ?? []).Select((env, e) => (env, e)))
                {
                    if (env.ValueFrom?.SecretKeyRef is { } reference)
                    {
                        yield return (reference.Name ?? "", $"{field}[{c}].env[{e}].valueFrom.secretKeyRef.name");
                    }
                }

                foreach (var (from, f) in (container.EnvFrom ?? []).Select((from, f) => (from, f)))
                {
                    if (from.SecretRef is { } reference)
                    {
                        yield return (reference.Name ?? "", $"{field}[{c}].envFrom[{f}].secretRef.name");
                    }
                }
            }
        }
    }

    /// <summary>The Job's own labels: ours are reserved there too.</summary>
    public static void ValidateJobLabels(IReadOnlyDictionary<string, string> labels, List<string> errors)
    {
        foreach (var label in labels.Keys.Where(l => l.StartsWith(LabelPrefix, StringComparison.Ordinal)))
        {
            errors.Add($"'job.metadata.labels.{label}' is reserved: the jobs-manager sets the {LabelPrefix}* labels");
        }
    }

    private static void ValidatePod(V1PodSpec pod, string path, PodPolicy policy, string? ownTokenSecret, List<string> errors)
    {
        if (pod.Containers is not { Count: > 0 })
        {
            errors.Add($"'{path}.containers' needs at least one container");
        }

        if (pod.AutomountServiceAccountToken == true)
        {
            errors.Add($"'{path}.automountServiceAccountToken' must not be true: training code gets no Kubernetes API credential");
        }
        else if (ownTokenSecret is not null && pod.AutomountServiceAccountToken is null)
        {
            // The jobs-manager sets it to false on the Jobs it creates; left out, the kubelet mounts the service account's token.
            errors.Add($"'{path}.automountServiceAccountToken' must be false (left out, the pods get the service account's token): training code gets no Kubernetes API credential");
        }

        foreach (var (field, value) in new[] { ("serviceAccountName", pod.ServiceAccountName), ("serviceAccount", pod.ServiceAccount) })
        {
            if (!string.IsNullOrEmpty(value) && value != "default")
            {
                errors.Add($"'{path}.{field}' must be left out: training pods run as the namespace's default service account, without its token");
            }
        }

        foreach (var (field, on) in new[] { ("hostNetwork", pod.HostNetwork), ("hostPID", pod.HostPID), ("hostIPC", pod.HostIPC) })
        {
            if (on == true)
            {
                errors.Add($"'{path}.{field}' must not be true: a training pod shares nothing with its node");
            }
        }

        if (pod.RestartPolicy is { } restart && restart is not ("Never" or "OnFailure"))
        {
            errors.Add($"'{path}.restartPolicy' must be \"Never\" or \"OnFailure\" in a Job, not \"{restart}\"");
        }

        if (pod.EphemeralContainers is { Count: > 0 })
        {
            errors.Add($"'{path}.ephemeralContainers' cannot be part of a template");
        }

        if (pod.SecurityContext is { } context)
        {
            RootAndSeccomp(context.RunAsNonRoot, context.RunAsUser, context.SeccompProfile, $"{path}.securityContext", policy, errors);
            Confinement(context.SeLinuxOptions, context.AppArmorProfile, context.WindowsOptions, $"{path}.securityContext", errors);
            Sysctls(context.Sysctls, $"{path}.securityContext.sysctls", policy, errors);
        }

        if (!string.IsNullOrEmpty(pod.NodeName))
        {
            // Refused whatever the policy: the kubelet of that node runs the pod with no scheduler in between, so no
            // taint, no resource fit and no scheduling policy (nor the rules below) applies.
            errors.Add($"'{path}.nodeName' must be left out: it bypasses the scheduler (and the taints that keep jobs off control-plane nodes); use nodeSelector or affinity");
        }

        Scheduling(pod, path, policy, errors);

        if (pod.PriorityClassName is { } priority && priority.StartsWith("system-", StringComparison.Ordinal))
        {
            errors.Add($"'{path}.priorityClassName' '{priority}' is reserved for the cluster's own components");
        }

        var volumes = pod.Volumes ?? [];
        for (var i = 0; i < volumes.Count; i++)
        {
            var volume = volumes[i];
            var at = $"{path}.volumes[{i}]";
            if (ownTokenSecret is null && volume.Name is KubernetesNames.TokenVolume or KubernetesNames.TmpVolume)
            {
                errors.Add($"'{at}.name' '{volume.Name}' is reserved for the volume the jobs-manager injects");
            }

            if (volume.HostPath is not null)
            {
                errors.Add($"'{at}.hostPath' is not allowed: a training pod reads nothing of its node's filesystem");
            }
            else if (OtherVolumeSource(volume) is { } source)
            {
                // The Pod Security Standards' "restricted" list: the rest are mounted by the node
                // (nfs, iscsi, gitRepo, flexVolume, cloud disks by id): outside the NetworkPolicy, or another tenant's disk.
                errors.Add($"'{at}.{source}' is not allowed: volumes are configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret");
            }

            var sources = volume.Projected?.Sources ?? [];
            for (var s = 0; s < sources.Count; s++)
            {
                if (sources[s].ServiceAccountToken is not null)
                {
                    errors.Add($"'{at}.projected.sources[{s}].serviceAccountToken' is not allowed: training code gets no Kubernetes API credential");
                }
            }
        }

        // An adopted Job mounts its token itself: whatever is mounted at the token path must be its token Secret (only).
        var tokenVolumes = ownTokenSecret is null ? null : volumes.Where(v => IsOnly(v, ownTokenSecret)).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        Containers(pod.Containers, $"{path}.containers", policy, tokenVolumes, ownTokenSecret, errors);
        Containers(pod.InitContainers, $"{path}.initContainers", policy, tokenVolumes, ownTokenSecret, errors);
    }

    /// <summary>A secret volume of that Secret, or a projected one whose only sources are that Secret.</summary>
    private static bool IsOnly(V1Volume volume, string secret) =>
        volume.Secret?.SecretName == secret
        || volume.Projected?.Sources is { Count: > 0 } sources && sources.All(s => s.Secret?.Name == secret && s.ConfigMap is null && s.DownwardAPI is null && s.ServiceAccountToken is null);

    /// <param name="tokenVolumes">Adopted Jobs: the volumes holding exactly the Job's token Secret (a mount at the token path must be one of them); null: the jobs-manager injects the token.</param>
    private static void Containers(IList<V1Container>? containers, string path, PodPolicy policy, HashSet<string>? tokenVolumes, string? ownTokenSecret, List<string> errors)
    {
        for (var i = 0; i < (containers?.Count ?? 0); i++)
        {
            var container = containers![i];
            var at = $"{path}[{i}]";
            if (string.IsNullOrWhiteSpace(container.Image))
            {
                errors.Add($"'{at}.image' is required");
            }

            if (container.SecurityContext is { } context)
            {
                var sc = $"{at}.securityContext";
                if (context.Privileged == true)
                {
                    errors.Add($"'{sc}.privileged' must not be true");
                }

                if (context.AllowPrivilegeEscalation == true)
                {
                    errors.Add($"'{sc}.allowPrivilegeEscalation' must not be true");
                }

                if (context.ReadOnlyRootFilesystem == false && !policy.AllowWritableRootFilesystem)
                {
                    errors.Add($"'{sc}.readOnlyRootFilesystem' false is not allowed by this installation's pod policy " +
                        "(jobsManager.podPolicy.allowWritableRootFilesystem); mount an emptyDir where the job writes instead");
                }

                if (context.ProcMount is { } procMount && procMount != "Default")
                {
                    errors.Add($"'{sc}.procMount' must be \"Default\"");
                }

                var added = context.Capabilities?.Add ?? [];
                foreach (var capability in added.Where(c => !policy.Capabilities.Contains(c, StringComparer.OrdinalIgnoreCase)))
                {
                    errors.Add($"'{sc}.capabilities.add' {capability} is not allowed by this installation's pod policy (jobsManager.podPolicy.allowedCapabilities)");
                }

                RootAndSeccomp(context.RunAsNonRoot, context.RunAsUser, context.SeccompProfile, sc, policy, errors);
                Confinement(context.SeLinuxOptions, context.AppArmorProfile, context.WindowsOptions, sc, errors);
            }

            // The kubelet runs probes and lifecycle hooks from the node: a host other than the pod's own is a request outside the NetworkPolicy.
            foreach (var (handler, name) in new[] { (container.LivenessProbe?.HttpGet?.Host, "livenessProbe.httpGet"), (container.ReadinessProbe?.HttpGet?.Host, "readinessProbe.httpGet"),
                (container.StartupProbe?.HttpGet?.Host, "startupProbe.httpGet"), (container.LivenessProbe?.TcpSocket?.Host, "livenessProbe.tcpSocket"),
                (container.ReadinessProbe?.TcpSocket?.Host, "readinessProbe.tcpSocket"), (container.StartupProbe?.TcpSocket?.Host, "startupProbe.tcpSocket"),
                (container.Lifecycle?.PostStart?.HttpGet?.Host, "lifecycle.postStart.httpGet"), (container.Lifecycle?.PreStop?.HttpGet?.Host, "lifecycle.preStop.httpGet"),
                (container.Lifecycle?.PostStart?.TcpSocket?.Host, "lifecycle.postStart.tcpSocket"), (container.Lifecycle?.PreStop?.TcpSocket?.Host, "lifecycle.preStop.tcpSocket") })
            {
                if (!string.IsNullOrEmpty(handler))
                {
                    errors.Add($"'{at}.{name}.host' must be left out: the kubelet would send it from the node, outside the NetworkPolicy");
                }
            }

            foreach (var (port, p) in (container.Ports ?? []).Select((port, p) => (port, p)))
            {
                if (port.HostPort is > 0)
                {
                    errors.Add($"'{at}.ports[{p}].hostPort' is not allowed: a training pod listens on no node port");
                }
            }

            if (tokenVolumes is not null)
            {
                // Adopted: the manifest sets REQUESTS_PROXY_* and mounts the token itself; only the mount's source is judged.
                foreach (var (mount, m) in (container.VolumeMounts ?? []).Select((mount, m) => (mount, m)))
                {
                    if (mount.MountPath is { } mountPath && IsUnder(mountPath, KubernetesNames.TokenMountPath) && !tokenVolumes.Contains(mount.Name ?? ""))
                    {
                        errors.Add($"'{at}.volumeMounts[{m}]' mounts '{mount.Name}' at {mountPath}, where a client reads the job's token: it must be the token Secret '{ownTokenSecret}'");
                    }
                }

                continue;
            }

            foreach (var (env, e) in (container.Env ?? []).Select((env, e) => (env, e)))
            {
                if (env.Name is { } name && JobEnvironment.IsReserved(name))
                {
                    errors.Add($"'{at}.env[{e}].name' '{name}' is reserved: the jobs-manager sets REQUESTS_PROXY_* itself");
                }
            }

            foreach (var (mount, m) in (container.VolumeMounts ?? []).Select((mount, m) => (mount, m)))
            {
                if (mount.Name is KubernetesNames.TokenVolume or KubernetesNames.TmpVolume)
                {
                    errors.Add($"'{at}.volumeMounts[{m}].name' '{mount.Name}' is reserved for the volume the jobs-manager injects");
                }

                if (mount.MountPath is { } mountPath && IsUnder(mountPath, KubernetesNames.TokenMountPath))
                {
                    errors.Add($"'{at}.volumeMounts[{m}].mountPath' '{mountPath}' is where the jobs-manager mounts the job's token");
                }
            }
        }
    }

    /// <summary>
    /// Where the scheduler may put the pod: untrusted training code on a control-plane node sits next to
    /// the API server's and etcd's keys. Taints keep it off (kubeadm's <c>node-role.kubernetes.io/control-plane</c>),
    /// so a toleration without a key (it tolerates every taint) or of a control-plane taint is refused, and so is
    /// asking for control-plane nodes by label (nodeSelector, node affinity required or preferred), which matters
    /// where those nodes are not tainted. What avoids them (<c>NotIn</c>, <c>DoesNotExist</c>) is fine. Pod
    /// affinity selects pods, not node labels; a node picked by name (matchFields, hostname) is still guarded by
    /// its taints. The operator's policy may allow either (<see cref="PodPolicy.AllowTolerateAll"/>,
    /// <see cref="PodPolicy.AllowControlPlaneNodes"/>).
    /// </summary>
    private static void Scheduling(V1PodSpec pod, string path, PodPolicy policy, List<string> errors)
    {
        var tolerations = pod.Tolerations ?? [];
        for (var i = 0; i < tolerations.Count; i++)
        {
            var toleration = tolerations[i];
            var at = $"{path}.tolerations[{i}]";
            if (string.IsNullOrEmpty(toleration.Key))
            {
                if (!policy.AllowTolerateAll)
                {
                    var which = string.IsNullOrEmpty(toleration.Effect) ? "every taint" : $"every {toleration.Effect} taint";
                    errors.Add($"'{at}' has no key (operator {toleration.OperatorProperty ?? "Equal"}): it tolerates {which}, the control-plane's included; " +
                        "name the taint's key — not allowed by this installation's pod policy (jobsManager.podPolicy.allowTolerateAll)");
                }
            }
            else if (!policy.AllowControlPlaneNodes && PodPolicy.ControlPlaneTaints.Contains(toleration.Key, StringComparer.Ordinal))
            {
                errors.Add($"'{at}.key' '{toleration.Key}' tolerates a taint that keeps workloads off control-plane (system) nodes — " +
                    "not allowed by this installation's pod policy (jobsManager.podPolicy.allowControlPlaneNodes)");
            }
        }

        if (policy.AllowControlPlaneNodes)
        {
            return;
        }

        foreach (var key in (pod.NodeSelector ?? new Dictionary<string, string>()).Keys.Where(IsControlPlaneLabel))
        {
            errors.Add($"'{path}.nodeSelector.{key}' selects control-plane nodes — not allowed by this installation's pod policy (jobsManager.podPolicy.allowControlPlaneNodes)");
        }

        if (pod.Affinity?.NodeAffinity is not { } affinity)
        {
            return;
        }

        var required = $"{path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms";
        var terms = affinity.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [];
        for (var t = 0; t < terms.Count; t++)
        {
            SelectsControlPlane(terms[t]?.MatchExpressions, $"{required}[{t}].matchExpressions", errors);
        }

        var preferred = affinity.PreferredDuringSchedulingIgnoredDuringExecution ?? [];
        for (var t = 0; t < preferred.Count; t++)
        {
            SelectsControlPlane(preferred[t]?.Preference?.MatchExpressions,
                $"{path}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[{t}].preference.matchExpressions", errors);
        }
    }

    /// <summary>A node selector requirement on a control-plane label that can match a control-plane node (anything but NotIn and DoesNotExist).</summary>
    private static void SelectsControlPlane(IList<V1NodeSelectorRequirement>? expressions, string path, List<string> errors)
    {
        for (var e = 0; e < (expressions?.Count ?? 0); e++)
        {
            var expression = expressions![e];
            if (IsControlPlaneLabel(expression.Key) && expression.OperatorProperty is not ("NotIn" or "DoesNotExist"))
            {
                errors.Add($"'{path}[{e}].key' '{expression.Key}' (operator {expression.OperatorProperty}) selects control-plane nodes — " +
                    "not allowed by this installation's pod policy (jobsManager.podPolicy.allowControlPlaneNodes); NotIn or DoesNotExist keep a job off them");
            }
        }
    }

    private static bool IsControlPlaneLabel(string? key) => key is not null && PodPolicy.ControlPlaneLabels.Contains(key, StringComparer.Ordinal);

    private static void RootAndSeccomp(bool? runAsNonRoot, long? runAsUser, V1SeccompProfile? seccomp, string path, PodPolicy policy, List<string> errors)
    {
        if (!policy.AllowRunAsRoot)
        {
            if (runAsNonRoot == false)
            {
                errors.Add($"'{path}.runAsNonRoot' false is not allowed by this installation's pod policy (jobsManager.podPolicy.allowRunAsRoot)");
            }

            if (runAsUser == 0)
            {
                errors.Add($"'{path}.runAsUser' 0 (root) is not allowed by this installation's pod policy (jobsManager.podPolicy.allowRunAsRoot)");
            }
        }

        if (seccomp?.Type == "Unconfined")
        {
            errors.Add($"'{path}.seccompProfile.type' must not be \"Unconfined\" (RuntimeDefault or Localhost)");
        }
    }

    /// <summary>
    /// Sysctls outside Kubernetes' safe set (docs: "Using sysctls in a Kubernetes Cluster", as of
    /// v1.32; the Pod Security Standards' baseline allows the same names): namespaced but not
    /// isolated between the pods of a node (kernel.msg*, kernel.sem, net.core.*, …), so one job could
    /// starve or retune its neighbours. The operator's policy may allow more (and must allow them on
    /// the kubelet, <c>--allowed-unsafe-sysctls</c>).
    /// </summary>
    private static void Sysctls(IList<V1Sysctl>? sysctls, string path, PodPolicy policy, List<string> errors)
    {
        for (var i = 0; i < (sysctls?.Count ?? 0); i++)
        {
            var name = sysctls![i].Name ?? "";
            var normalized = NormalizeSysctl(name);
            if (!SafeSysctls.Contains(normalized) && !policy.AllowsSysctl(normalized))
            {
                errors.Add($"'{path}[{i}].name' '{name}' is not one of Kubernetes' safe sysctls and this installation's pod policy does not allow it (jobsManager.podPolicy.allowedSysctls)");
            }
        }
    }

    /// <summary>
    /// A sysctl in its dotted form: Kubernetes also accepts '/' as the separator
    /// (<c>net/ipv4/ip_local_port_range</c>) and swaps '/' and '.' when the first separator is a '/'.
    /// </summary>
    private static string NormalizeSysctl(string name)
    {
        var first = name.IndexOfAny(['.', '/']);
        return first >= 0 && name[first] == '/'
            ? string.Create(name.Length, name, (span, n) =>
            {
                for (var c = 0; c < n.Length; c++)
                {
                    span[c] = n[c] switch { '/' => '.', '.' => '/', var other => other };
                }
            })
            : name;
    }

    /// <summary>SELinux, AppArmor and Windows host-process settings that lift the container's confinement (Pod Security Standards, baseline).</summary>
    private static void Confinement(V1SELinuxOptions? selinux, V1AppArmorProfile? appArmor, V1WindowsSecurityContextOptions? windows, string path, List<string> errors)
    {
        if (selinux is not null && (selinux.User is not null || selinux.Role is not null || selinux.Type is { } type && type is not ("container_t" or "container_init_t" or "container_kvm_t" or "container_engine_t")))
        {
            errors.Add($"'{path}.seLinuxOptions' may set only level and a container type (container_t, container_init_t, container_kvm_t, container_engine_t)");
        }

        if (appArmor?.Type == "Unconfined")
        {
            errors.Add($"'{path}.appArmorProfile.type' must not be \"Unconfined\"");
        }

        if (windows?.HostProcess == true)
        {
            errors.Add($"'{path}.windowsOptions.hostProcess' must not be true: a training pod shares nothing with its node");
        }
    }

    /// <summary>The name of a volume source outside the restricted list (hostPath is refused on its own), or null.</summary>
    private static string? OtherVolumeSource(V1Volume volume)
    {
        var node = JsonNode.Parse(k8s.KubernetesJson.Serialize(volume))!.AsObject();
        return node.Select(p => p.Key).FirstOrDefault(k => k is not ("name" or "configMap" or "csi" or "downwardAPI" or "emptyDir" or "ephemeral" or "persistentVolumeClaim" or "projected" or "secret" or "hostPath"));
    }

    private static void NonNegative(long? value, string field, List<string> errors)
    {
        if (value is < 0)
        {
            errors.Add($"'{field}' must not be negative");
        }
    }

    private static bool IsUnder(string path, string root)
    {
        var normalized = "/" + string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        return normalized == root || normalized.StartsWith(root + "/", StringComparison.Ordinal);
    }
}
