using System.Text.Json;
using RequestsProxy.Cli.Tests.Support;

namespace RequestsProxy.Cli.Tests.Commands;

/// <summary><c>rpctl jobs start --job FILE</c> / <c>--template FILE</c> against the real jobs-manager (Local runtime) on loopback.</summary>
public sealed class JobsStartWorkloadTests() : AgainstJobsManager("rp-cli-workload")
{
    [Fact]
    public async Task Start_TemplateYaml_RunsItsContainer()
    {
        var file = Temp.Combine("template.yaml");
        File.WriteAllText(file, $$"""
            # a pod template as a platform keeps it
            metadata:
              labels: {team: "vision"}
            spec:
              containers:
              - name: trainer
                image: registry.example/ddp:3
                command: ["/bin/sh", "-c", "{{LongRunning}}"]
                env:
                - {name: EPOCHS, value: "3"}
            """);

        var start = await Rpctl.RunAsync(["jobs", "start", "tpl-1", "--template", file, "--backoff-limit", "0", "-o", "json", .. Host.Flags]);

        Assert.True(start.ExitCode == 0, start.ToString());
        using (var document = JsonDocument.Parse(start.Stdout))
        {
            Assert.Equal("tpl-1", document.RootElement.GetProperty("name").GetString());
            Assert.Equal("/bin/sh", document.RootElement.GetProperty("command")[0].GetString());
            Assert.Equal("running", document.RootElement.GetProperty("state").GetString());
        }

        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "stop", "tpl-1", .. Host.Flags])).ExitCode);
    }

    [Fact]
    public async Task Start_JobJsonWithoutName_IsNamedByItsMetadata()
    {
        var file = Temp.Combine("job.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new
        {
            apiVersion = "batch/v1",
            kind = "Job",
            metadata = new { name = "from-manifest" },
            spec = new { backoffLimit = 0, template = new { spec = new { containers = new[] { new { name = "t", image = "x", command = new[] { "/bin/sh", "-c", LongRunning } } } } } },
        }));

        var start = await Rpctl.RunAsync(["jobs", "start", "--job", file, .. Host.Flags]);

        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains("from-manifest", start.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "stop", "from-manifest", .. Host.Flags])).ExitCode);
    }

    [Fact]
    public async Task Start_JobYamlFromStdin_IsPosted()
    {
        var yaml = $$"""
            apiVersion: batch/v1
            kind: Job
            metadata: {name: stdin-job}
            spec:
              backoffLimit: 0
              template:
                spec:
                  containers:
                  - {name: t, image: x, command: ["/bin/sh", "-c", "{{LongRunning}}"]}
            """;

        var start = await Rpctl.RunWithInputAsync(yaml, ["jobs", "start", "--job", "-", .. Host.Flags]);

        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains("stdin-job", start.Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Rpctl.RunAsync(["jobs", "stop", "stdin-job", .. Host.Flags])).ExitCode);
    }

    [Fact]
    public async Task Start_TemplateTheApiRefuses_PrintsTheFieldNamed_Exit2()
    {
        var file = Temp.Combine("host-network.yaml");
        File.WriteAllText(file, """
            spec:
              hostNetwork: true
              containers:
              - {name: t, image: x, command: [/bin/true], resource: {}}
            """);

        var start = await Rpctl.RunAsync(["jobs", "start", "bad", "--template", file, .. Host.Flags]);

        Assert.Equal(2, start.ExitCode);
        Assert.Contains("HTTP 400", start.Stderr, StringComparison.Ordinal);
        Assert.Contains("resource", start.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_JobManifestGivenToTemplate_SaysUseJob_Exit2()
    {
        var file = Temp.Combine("job-as-template.yaml");
        File.WriteAllText(file, "apiVersion: batch/v1\nkind: Job\nspec: {}\n");

        var start = await Rpctl.RunAsync(["jobs", "start", "x", "--template", file, .. Host.Flags]);

        Assert.Equal(2, start.ExitCode);
        Assert.Contains("give a Job manifest with --job", start.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_JobAndTemplate_Exit2()
    {
        var start = await Rpctl.RunAsync(["jobs", "start", "x", "--job", "a.yaml", "--template", "b.yaml", .. Host.Flags]);

        Assert.Equal(2, start.ExitCode);
        Assert.Contains("--job or --template, not both", start.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_NoNameWithoutJob_Exit2()
    {
        var start = await Rpctl.RunAsync(["jobs", "start", "--image", "x", .. Host.Flags]);

        Assert.Equal(2, start.ExitCode);
        Assert.Contains("NAME is required", start.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MissingFile_Exit2_NamesIt()
    {
        var start = await Rpctl.RunAsync(["jobs", "start", "x", "--template", Temp.Combine("nope.yaml"), .. Host.Flags]);

        Assert.Equal(2, start.ExitCode);
        Assert.Contains("nope.yaml", start.Stderr, StringComparison.Ordinal);
    }
}
