namespace RequestsProxy.Cli.Demo;

/// <summary>How to start .NET programs that sit beside rpctl: with the same dotnet host rpctl runs on.</summary>
internal static class DotnetHost
{
    /// <summary>The dotnet executable (rpctl may run from its apphost, then dotnet comes from PATH).</summary>
    public static string Path { get; } =
        Environment.ProcessPath is { } p && System.IO.Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>The command line that runs rpctl itself with <paramref name="arguments"/>.</summary>
    public static IReadOnlyList<string> Rpctl(params string[] arguments) =>
        [Path, System.IO.Path.Combine(AppContext.BaseDirectory, "rpctl.dll"), .. arguments];
}
