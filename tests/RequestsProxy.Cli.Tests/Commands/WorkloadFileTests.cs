using System.Text.Json.Nodes;
using RequestsProxy.Cli.Commands;
using RequestsProxy.Testing.Files;

namespace RequestsProxy.Cli.Tests.Commands;

public sealed class WorkloadFileTests : IDisposable
{
    private readonly TempFolder _temp = new("rp-cli-workload-file");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Read_YamlScalars_FollowTheCoreSchema()
    {
        var node = Read("""
            metadata:
              labels: {gpu: "true", tier: "3", plain: text}
            spec:
              completions: 3
              activeDeadlineSeconds: 86400
              suspend: false
              ratio: 0.5
              empty: null
              hex: 0x1F
              octal: 0o17
              quotedNumber: '42'
              tagged: !!str 7
              list: [a, 1]
            """);

        Assert.Equal("true", node["metadata"]!["labels"]!["gpu"]!.GetValue<string>());
        Assert.Equal("3", node["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.Equal("text", node["metadata"]!["labels"]!["plain"]!.GetValue<string>());
        var spec = node["spec"]!;
        Assert.Equal(3, spec["completions"]!.GetValue<long>());
        Assert.Equal(86400, spec["activeDeadlineSeconds"]!.GetValue<long>());
        Assert.False(spec["suspend"]!.GetValue<bool>());
        Assert.Equal(0.5, spec["ratio"]!.GetValue<double>());
        Assert.True(spec.AsObject().ContainsKey("empty"));
        Assert.Null(spec["empty"]);
        Assert.Equal(31, spec["hex"]!.GetValue<long>());
        Assert.Equal(15, spec["octal"]!.GetValue<long>());
        Assert.Equal("42", spec["quotedNumber"]!.GetValue<string>());
        Assert.Equal("7", spec["tagged"]!.GetValue<string>());
        Assert.Equal("a", spec["list"]![0]!.GetValue<string>());
        Assert.Equal(1, spec["list"]![1]!.GetValue<long>());
    }

    [Fact]
    public void Read_Json_IsTakenAsItIs()
    {
        var node = Read("""{"spec": {"completions": 3, "x": "true"}}""");

        Assert.Equal(3, node["spec"]!["completions"]!.GetValue<int>());
        Assert.Equal("true", node["spec"]!["x"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("a: 1\n---\nb: 2\n", "2 YAML documents")]
    [InlineData("a: 1\na: 2\n", "Duplicate key")]
    [InlineData("a: [1\n", "not valid YAML")]
    [InlineData("- a\n- b\n", "expected an object")]
    [InlineData("", "is empty")]
    [InlineData("{\"a\": 1, \"a\": 2}", "not valid JSON")]
    public void Read_Unusable_IsAUsageErrorSayingWhy(string text, string expected)
    {
        var e = Assert.Throws<CliException>(() => Read(text));

        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Read_Dash_ReadsStandardInput()
    {
        var node = WorkloadFile.Read("-", "--job", new StringReader("spec: {parallelism: 2}"));

        Assert.Equal(2, node["spec"]!["parallelism"]!.GetValue<long>());
    }

    private JsonObject Read(string text)
    {
        var file = _temp.Combine($"{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, text);
        return WorkloadFile.Read(file, "--job", TextReader.Null);
    }
}
