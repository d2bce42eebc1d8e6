using RequestsProxy.Testing.Processes;

namespace RequestsProxy.JobsManager.Tests;

/// <summary>The built <c>jobs-manager</c> process, run as an operator would, refusing bad settings.</summary>
public sealed class ProcessContractTests
{
    [Theory]
    [InlineData("REQUESTS_PROXY_TOKEN_TTL_SECONDS", "0", "REQUESTS_PROXY_TOKEN_TTL_SECONDS: '0' is not a number of seconds > 0")]
    [InlineData("REQUESTS_PROXY_STATELESS", "maybe", "REQUESTS_PROXY_STATELESS: 'maybe' is not true or false")]
    [InlineData("REQUESTS_PROXY_PODS_PORT", "http", "REQUESTS_PROXY_PODS_PORT: 'http' is not a port number")]
    public async Task Start_InvalidSetting_ExitsTwoNamingIt(string name, string value, string message)
    {
        await using var process = ServiceProcess.Start(ServiceProcess.FindAssembly("jobs-manager"), new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
            [name] = value,
        });

        var exitCode = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, exitCode);
        Assert.Contains("jobs-manager: invalid configuration:", process.OutputLines);
        Assert.Contains(process.OutputLines, line => line.StartsWith("  - ", StringComparison.Ordinal) && line.Contains(message, StringComparison.Ordinal));
        Assert.DoesNotContain("Unhandled exception", process.Output, StringComparison.Ordinal);
    }
}
