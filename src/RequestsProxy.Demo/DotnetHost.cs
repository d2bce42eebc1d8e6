namespace RequestsProxy.Demo;

/// <summary>How to start the .NET programs that sit beside the demo: with the same dotnet host the demo runs on.</summary>
internal static class DotnetHost
{
    /// <summary>The dotnet executable (the demo may run from its apphost, then dotnet comes from PATH).</summary>
    public static string Path { get; } =
        Environment.ProcessPath is { } p && System.IO.Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>The command line that runs the demo itself with <paramref name="arguments"/>.</summary>
    public static IReadOnlyList<string> Demo(params string[] arguments) => [Path, Beside("requests-proxy-demo.dll"), .. arguments];

    /// <summary>The command line that runs rpctl with <paramref name="arguments"/>.</summary>
    public static IReadOnlyList<string> Rpctl(params string[] arguments) => [Path, Beside("rpctl.dll"), .. arguments];

    /// <summary>An assembly the build put beside the demo.</summary>
    public static string Beside(string assemblyFile)
    {
        var path = System.IO.Path.Combine(AppContext.BaseDirectory, assemblyFile);
        return File.Exists(path) ? path : throw new DemoException($"'{path}' is missing; build the demo first (dotnet build src/RequestsProxy.Demo)");
    }
}
