using System.Text.RegularExpressions;
using RequestsProxy.Testing.Files;
using RequestsProxy.Testing.Processes;
using RequestsProxy.Testing.Tools;

namespace RequestsProxy.Client.Tests.Python;

/// <summary>
/// Installs clients/python with the machine's pip and no package index, then runs its unittest
/// suite once (against that installed copy and the built requests-proxy.dll); the tests of
/// <see cref="PythonClientTests"/> read the outcome of each Python test from that one run.
/// </summary>
public sealed partial class PythonSuite : IAsyncLifetime
{
    private readonly TempFolder _folder = new("rp-python-suite");

    public static string ClientFolder => Path.Combine(RepositoryRoot.Path, "clients", "python");

    public static string TestsFolder => Path.Combine(ClientFolder, "tests");

    public string SitePackages => _folder.Combine("site");

    public ToolResult Install { get; private set; } = null!;

    public ToolResult Run { get; private set; } = null!;

    public ToolResult Imported { get; private set; } = null!;

    /// <summary>Outcome per test id (<c>module.Class.method</c>): ok, FAIL, ERROR, skipped …</summary>
    public IReadOnlyDictionary<string, string> Outcomes { get; private set; } = new Dictionary<string, string>();

    /// <summary>The Python tests, read from the files (so a test that never ran is noticed).</summary>
    public static IReadOnlyList<string> DeclaredTests()
    {
        var ids = new List<string>();
        foreach (var file in Directory.GetFiles(TestsFolder, "test_*.py").Order(StringComparer.Ordinal))
        {
            var module = Path.GetFileNameWithoutExtension(file);
            string? type = null;
            foreach (var line in File.ReadLines(file))
            {
                if (ClassLine().Match(line) is { Success: true } c)
                {
                    type = c.Groups[1].Value;
                }
                else if (type is not null && MethodLine().Match(line) is { Success: true } m)
                {
                    ids.Add($"{module}.{type}.{m.Groups[1].Value}");
                }
            }
        }

        return ids;
    }

    public async Task InitializeAsync()
    {
        var environment = new Dictionary<string, string>
        {
            ["PIP_NO_INDEX"] = "1",
            ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1",
            ["PIP_NO_INPUT"] = "1",
            ["PYTHONDONTWRITEBYTECODE"] = "1",
        };
        Install = await ToolProcess.RunAsync("python3",
            ["-m", "pip", "install", "--no-index", "--no-deps", "--target", SitePackages, ClientFolder],
            RepositoryRoot.Path, environment, TimeSpan.FromMinutes(3));

        environment["PYTHONPATH"] = SitePackages;
        Imported = await ToolProcess.RunAsync("python3",
            ["-c", "import requests_proxy_client as m; print(m.__file__); print(m.__version__)"],
            _folder.Path, environment, TimeSpan.FromMinutes(1));

        environment["REQUESTS_PROXY_ASSEMBLY"] = ServiceProcess.FindAssembly("requests-proxy");
        Run = await ToolProcess.RunAsync("python3",
            ["-m", "unittest", "discover", "-s", TestsFolder, "-v"],
            RepositoryRoot.Path, environment, TimeSpan.FromMinutes(10));
        Outcomes = ParseOutcomes(Run.StandardError);
    }

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Reads unittest's verbose lines: <c>name (module.Class.name) ... ok</c> (3.11+) or
    /// <c>name (module.Class) ... ok</c> (3.9, 3.10); the outcome may come on a later line.
    /// </summary>
    internal static Dictionary<string, string> ParseOutcomes(string output)
    {
        var outcomes = new Dictionary<string, string>(StringComparer.Ordinal);
        string? pending = null;
        foreach (var line in output.Split('\n'))
        {
            var match = VerboseLine().Match(line.TrimEnd('\r'));
            if (match.Success)
            {
                var name = match.Groups["name"].Value;
                var where = match.Groups["where"].Value;
                var id = where.EndsWith("." + name, StringComparison.Ordinal) ? where : where + "." + name;
                // Something the test printed (a warning) may stand between "..." and the outcome.
                var rest = match.Groups["rest"].Value.Trim();
                if (OutcomeWord().Match(rest) is { Success: true } word)
                {
                    outcomes[id] = word.Value;
                    pending = null;
                }
                else
                {
                    pending = id;
                }
            }
            else if (pending is not null && OutcomeWord().Match(line.Trim()) is { Success: true } later)
            {
                outcomes[pending] = later.Value;
                pending = null;
            }
        }

        return outcomes;
    }

    [GeneratedRegex(@"^class (\w+)\(")]
    private static partial Regex ClassLine();

    [GeneratedRegex(@"^    def (test\w*)\(")]
    private static partial Regex MethodLine();

    [GeneratedRegex(@"^(?<name>test\w*) \((?<where>[\w.]+)\)(?: \.\.\.(?<rest>.*))?$")]
    private static partial Regex VerboseLine();

    [GeneratedRegex(@"^(ok|FAIL|ERROR|skipped.*|expected failure|unexpected success)$")]
    private static partial Regex OutcomeWord();
}
