using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Local;

/// <summary>
/// What of a Kubernetes template the local runtime can honour: one process, so one container, run
/// with its command + args and its literal env values. Scheduling, resources, volumes, security
/// settings and the image are ignored (a local job is a program on this machine); what would
/// change the job's meaning if ignored is refused.
/// </summary>
internal static class LocalTemplate
{
    public static IReadOnlyList<string> Problems(JobTemplate template)
    {
        var problems = new List<string>();
        var spec = template.Spec;
        var pod = spec.Template.Spec;
        if (pod.Containers.Count != 1)
        {
            problems.Add($"the local runtime runs one process: the template has {pod.Containers.Count} containers");
        }

        if (pod.InitContainers is { Count: > 0 })
        {
            problems.Add("the local runtime runs no init containers");
        }

        if (spec.Parallelism is > 1 || spec.Completions is > 1)
        {
            problems.Add("the local runtime runs one process: 'parallelism' and 'completions' must be 1 or left out");
        }

        var container = pod.Containers[0];
        foreach (var (env, i) in (container.Env ?? []).Select((env, i) => (env, i)))
        {
            if (env.ValueFrom is not null)
            {
                problems.Add($"the local runtime cannot resolve 'env[{i}].valueFrom' ({env.Name}): give a value");
            }
        }

        if (container.EnvFrom is { Count: > 0 })
        {
            problems.Add("the local runtime cannot resolve 'envFrom': give the variables as values");
        }

        return problems;
    }
}
