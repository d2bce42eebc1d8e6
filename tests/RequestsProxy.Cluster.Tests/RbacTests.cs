using k8s;
using k8s.Models;
using RequestsProxy.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RequestsProxy.Cluster.Tests;

/// <summary>The chart's RBAC judged by the real authorizer (SubjectAccessReview), row by row of <see cref="RbacExpectations"/>.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RbacTests(ClusterFixture cluster, ITestOutputHelper output)
{
    [ClusterFact]
    public Task SubjectAccessReview_NamespaceScope_JobsManagerCallsAllowedNeighboursDeniedProxyAndPodsNothing() => ReviewAsync(clusterScope: false);

    [ClusterFact]
    public Task SubjectAccessReview_ClusterScope_JobsManagerCallsAllowedNeighboursDeniedProxyAndPodsNothing() => ReviewAsync(clusterScope: true);

    private Task ReviewAsync(bool clusterScope) => ClusterScenario.RunAsync(cluster, output, $"rbac-{(clusterScope ? "cs" : "ns")}", async scenario =>
    {
        var release = scenario.Release;
        // Rendered and applied by helm; the pods need not run for the authorizer to judge.
        await cluster.HelmCheckedAsync(["install", release.Name, ClusterFixture.ChartPath, "-n", release.Namespace, .. release.BaseValues, "--set", $"clusterScope={clusterScope.ToString().ToLowerInvariant()}"]);
        var failures = new List<string>();
        await CheckAsync(release.Namespace, release.JobsManagerName, release, RbacExpectations.JobsManager(release.Name), failures);
        await CheckAsync(release.Namespace, release.ProxyName, release, RbacExpectations.Proxy(release.Name), failures);
        await CheckAsync(release.JobsNamespace, "default", release, RbacExpectations.TrainingPods(), failures);
        Assert.True(failures.Count == 0, $"the authorizer disagreed with the table on {failures.Count} rows:\n{string.Join('\n', failures)}");
    }, withUpstream: false);

    private async Task CheckAsync(string serviceAccountNamespace, string serviceAccount, ChartRelease release, IReadOnlyList<RbacCase> cases, List<string> failures)
    {
        var user = $"system:serviceaccount:{serviceAccountNamespace}:{serviceAccount}";
        foreach (var c in cases)
        {
            var review = await cluster.Client.AuthorizationV1.CreateSubjectAccessReviewAsync(new V1SubjectAccessReview
            {
                Spec = new V1SubjectAccessReviewSpec
                {
                    User = user,
                    Groups = ["system:serviceaccounts", $"system:serviceaccounts:{serviceAccountNamespace}", "system:authenticated"],
                    ResourceAttributes = new V1ResourceAttributes
                    {
                        Verb = c.Verb,
                        Group = c.Group,
                        Resource = c.Resource.Split('/')[0],
                        Subresource = c.Resource.Contains('/', StringComparison.Ordinal) ? c.Resource.Split('/')[1] : null,
                        Name = c.Name,
                        NamespaceProperty = c.Namespace switch
                        {
                            RbacExpectations.Other => "kube-system",
                            RbacExpectations.Jobs => release.JobsNamespace,
                            _ => release.Namespace,
                        },
                    },
                },
            });
            var allowed = review.Status.Allowed;
            output.WriteLine($"{(allowed ? "allowed" : "denied ")} {user}: {c}");
            if (allowed != (c.Expected == RbacVerdict.Allowed))
            {
                failures.Add($"{user}: {c}: expected {c.Expected}, the authorizer said {(allowed ? "allowed" : "denied")} ({review.Status.Reason})");
            }
        }
    }
}
