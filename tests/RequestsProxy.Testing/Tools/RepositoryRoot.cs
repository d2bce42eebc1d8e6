namespace RequestsProxy.Testing.Tools;

/// <summary>Finds the repository checkout the tests run from (the folder holding RequestsProxy.slnx).</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "RequestsProxy.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No RequestsProxy.slnx above {AppContext.BaseDirectory}.");
    }
}
