using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using RequestsProxy.JobsApi;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Api;

/// <summary>
/// Reads the workload of a start request in the Kubernetes API's JSON shape — <c>job</c> (a
/// batch/v1 Job manifest or only its spec) or <c>template</c> (a pod template) with the Job
/// fields beside it — into the KubernetesClient models, refusing what the models do not know
/// (a misspelt field is a 400 naming it, not a silently dropped setting). What the product
/// refuses is <see cref="JobTemplateValidator"/>'s business.
/// </summary>
internal static class JobTemplateReader
{
    /// <summary>Job metadata the API server sets: pasted from <c>kubectl get -o json</c>, it is ignored.</summary>
    private static readonly HashSet<string> ServerSetMetadata = new(StringComparer.Ordinal)
    {
        "uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences", "finalizers",
    };

    /// <summary>Whether the request carries a workload in the Kubernetes shape.</summary>
    public static bool HasWorkload(StartJobRequest request) => request.Job is not null || request.Template is not null;

    /// <summary>The request's Job spec and Job labels/annotations, or null with the problems added to <paramref name="errors"/>.</summary>
    /// <param name="name">The job's name: from the request, or else from the manifest's metadata.name (set on return).</param>
    /// <param name="ns">The job's namespace: from the request, or else from the manifest's metadata.namespace (set on return).</param>
    public static JobTemplate? Read(StartJobRequest request, ref string? name, ref string? ns, List<string> errors)
    {
        var jobFields = new (string Field, object? Value)[]
        {
            ("parallelism", request.Parallelism), ("completions", request.Completions), ("completionMode", request.CompletionMode),
            ("backoffLimit", request.BackoffLimit), ("activeDeadlineSeconds", request.ActiveDeadlineSeconds), ("ttlSecondsAfterFinished", request.TtlSecondsAfterFinished),
        };

        if (request.Job is { } job)
        {
            if (request.Template is not null)
            {
                errors.Add("give either 'job' or 'template', not both");
                return null;
            }

            foreach (var (field, value) in jobFields.Where(f => f.Value is not null))
            {
                errors.Add($"'{field}' goes inside 'job' (its spec) when 'job' is given");
            }

            return ReadJob(job, ref name, ref ns, errors);
        }

        if (request.Template is not { } template)
        {
            foreach (var (field, value) in jobFields.Where(f => f.Value is not null))
            {
                errors.Add($"'{field}' needs a 'template' (or use 'job')");
            }

            return null;
        }

        var podTemplate = Model<V1PodTemplateSpec>(template, "template", errors);
        if (podTemplate is null)
        {
            return null;
        }

        var spec = new V1JobSpec
        {
            Template = podTemplate,
            Parallelism = request.Parallelism,
            Completions = request.Completions,
            CompletionMode = request.CompletionMode,
            BackoffLimit = request.BackoffLimit,
            ActiveDeadlineSeconds = request.ActiveDeadlineSeconds,
            TtlSecondsAfterFinished = request.TtlSecondsAfterFinished,
        };
        return new JobTemplate(new Dictionary<string, string>(StringComparer.Ordinal), new Dictionary<string, string>(StringComparer.Ordinal), spec);
    }

    private static JobTemplate? ReadJob(JsonElement job, ref string? name, ref string? ns, List<string> errors)
    {
        if (job.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'job' must be a batch/v1 Job object or a Job spec");
            return null;
        }

        // A Job spec on its own (it has a template), or a whole manifest (it has a spec).
        if (!job.TryGetProperty("spec", out var specElement))
        {
            var bare = Model<V1JobSpec>(job, "job", errors);
            return bare is null ? null : new JobTemplate(new Dictionary<string, string>(StringComparer.Ordinal), new Dictionary<string, string>(StringComparer.Ordinal), bare);
        }

        var problems = errors.Count;
        foreach (var property in job.EnumerateObject())
        {
            switch (property.Name)
            {
                case "apiVersion" when property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() == "batch/v1":
                case "kind" when property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() == "Job":
                case "spec" or "metadata":
                    break;
                case "status":
                    // A Job read back from a cluster: its status is the server's, not a request.
                    break;
                case "apiVersion" or "kind":
                    errors.Add($"'job.{property.Name}' must be {(property.Name == "kind" ? "\"Job\"" : "\"batch/v1\"")}");
                    break;
                default:
                    errors.Add($"'job.{property.Name}' is not a field of a batch/v1 Job");
                    break;
            }
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (job.TryGetProperty("metadata", out var metadata))
        {
            ReadMetadata(metadata, ref name, ref ns, labels, annotations, errors);
        }

        var spec = Model<V1JobSpec>(specElement, "job.spec", errors);
        return spec is null || errors.Count > problems ? null : new JobTemplate(labels, annotations, spec);
    }

    private static void ReadMetadata(JsonElement metadata, ref string? name, ref string? ns, Dictionary<string, string> labels, Dictionary<string, string> annotations, List<string> errors)
    {
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            errors.Add("'job.metadata' must be an object");
            return;
        }

        foreach (var property in metadata.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "name" when value.ValueKind == JsonValueKind.String:
                    var manifestName = value.GetString()!;
                    if (name is null)
                    {
                        name = manifestName;
                    }
                    else if (name != manifestName)
                    {
                        errors.Add($"'job.metadata.name' is '{manifestName}' but 'name' is '{name}': give one, or the same");
                    }

                    break;
                case "namespace" when value.ValueKind == JsonValueKind.String:
                    var manifestNamespace = value.GetString()!;
                    if (ns is null)
                    {
                        ns = manifestNamespace;
                    }
                    else if (ns != manifestNamespace)
                    {
                        errors.Add($"'job.metadata.namespace' is '{manifestNamespace}' but 'namespace' is '{ns}': give one, or the same");
                    }

                    break;
                case "labels" or "annotations" when value.ValueKind == JsonValueKind.Object:
                    var target = property.Name == "labels" ? labels : annotations;
                    foreach (var entry in value.EnumerateObject())
                    {
                        if (entry.Value.ValueKind != JsonValueKind.String)
                        {
                            errors.Add($"'job.metadata.{property.Name}.{entry.Name}' must be a string");
                        }
                        else
                        {
                            target[entry.Name] = entry.Value.GetString()!;
                        }
                    }

                    break;
                case "generateName":
                    errors.Add("'job.metadata.generateName' is not supported: a job has the name it is started with");
                    break;
                case var server when ServerSetMetadata.Contains(server):
                    break;
                default:
                    errors.Add($"'job.metadata.{property.Name}' is not supported (name, namespace, labels and annotations are)");
                    break;
            }
        }
    }

    /// <summary>
    /// The element as a KubernetesClient model, refusing members the model does not have: the
    /// model serialized back must hold every non-null member of what was sent.
    /// </summary>
    private static T? Model<T>(JsonElement element, string field, List<string> errors) where T : class
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{field}' must be an object");
            return null;
        }

        T? model;
        try
        {
            model = k8s.KubernetesJson.Deserialize<T>(element.GetRawText());
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            errors.Add($"'{field}' is not a valid {typeof(T).Name[2..]}: {e.Message}");
            return null;
        }

        if (model is null)
        {
            errors.Add($"'{field}' must be an object");
            return null;
        }

        var unknown = new List<string>();
        Unknown(element, JsonNode.Parse(k8s.KubernetesJson.Serialize(model)), field, unknown);
        foreach (var path in unknown.Take(10))
        {
            errors.Add($"'{path}' is not a field of the Kubernetes API (misspelt?)");
        }

        return unknown.Count == 0 ? model : null;
    }

    private static void Unknown(JsonElement sent, JsonNode? kept, string path, List<string> unknown)
    {
        switch (sent.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in sent.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.Null)
                    {
                        continue;
                    }

                    var child = kept is JsonObject o && o.TryGetPropertyValue(property.Name, out var c) ? c : null;
                    if (child is null)
                    {
                        unknown.Add($"{path}.{property.Name}");
                    }
                    else
                    {
                        Unknown(property.Value, child, $"{path}.{property.Name}", unknown);
                    }
                }

                break;
            case JsonValueKind.Array when kept is JsonArray array:
                var i = 0;
                foreach (var item in sent.EnumerateArray())
                {
                    Unknown(item, i < array.Count ? array[i] : null, $"{path}[{i}]", unknown);
                    i++;
                }

                break;
        }
    }
}
