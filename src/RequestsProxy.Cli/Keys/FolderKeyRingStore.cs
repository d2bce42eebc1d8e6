using System.Text;
using RequestsProxy.Tokens.IO;
using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Cli.Keys;

/// <summary>
/// A key ring in a plain local folder: one file per entry, written atomically, new keys before
/// <c>active</c> so a reader never sees <c>active</c> name a missing key. The history lives in a
/// dot-file, which the key ring loader ignores.
/// </summary>
internal sealed class FolderKeyRingStore(string directory) : IKeyRingStore
{
    public const string HistoryFileName = ".rpctl-history.json";

    public string Location => $"'{directory}'";

    public string Name => directory;

    public string Kind => "folder";

    public Task<KeyRingDocument?> ReadAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory) || !File.Exists(Path.Combine(directory, KeyRingRules.ActiveFileName)) &&
            !Directory.EnumerateFiles(directory).Any(f => KeyRingRules.IsKid(Path.GetFileName(f))))
        {
            return Task.FromResult<KeyRingDocument?>(null);
        }

        var loaded = KeyRingLoader.Load(directory);
        if (!loaded.Success)
        {
            throw new CliException($"the key ring in '{directory}' is invalid: {loaded.Error}");
        }

        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kid in loaded.Ring!.Kids)
        {
            keys[kid] = Encoding.UTF8.GetString(KeyRingRules.TrimTrailingWhitespace(File.ReadAllBytes(Path.Combine(directory, kid))));
        }

        var historyPath = Path.Combine(directory, HistoryFileName);
        var history = KeyHistory.Parse(File.Exists(historyPath) ? File.ReadAllText(historyPath) : null);
        return Task.FromResult<KeyRingDocument?>(new KeyRingDocument(loaded.Ring.ActiveKid, keys, history));
    }

    public Task WriteAsync(KeyRingDocument document, bool create, CancellationToken cancellationToken)
    {
        // Signing keys: a new folder is the owner's alone, and every key file is 0600.
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var existing = Directory.EnumerateFiles(directory).Select(Path.GetFileName).Where(n => KeyRingRules.IsKid(n!)).ToList();
        if (create && (existing.Count > 0 || File.Exists(Path.Combine(directory, KeyRingRules.ActiveFileName))))
        {
            throw new CliException($"a key ring already exists in '{directory}'; nothing was changed", ExitCodes.Refused);
        }

        foreach (var (kid, key) in document.Keys)
        {
            var path = Path.Combine(directory, kid);
            if (!File.Exists(path) || Encoding.UTF8.GetString(KeyRingRules.TrimTrailingWhitespace(File.ReadAllBytes(path))) != key)
            {
                AtomicFile.WriteText(path, key + "\n", AtomicFile.Private);
            }
        }

        AtomicFile.WriteText(Path.Combine(directory, KeyRingRules.ActiveFileName), document.Active + "\n");
        foreach (var kid in existing.Where(k => !document.Keys.ContainsKey(k!)))
        {
            File.Delete(Path.Combine(directory, kid!));
        }

        AtomicFile.WriteText(Path.Combine(directory, HistoryFileName), document.History.Serialize() + "\n");
        return Task.CompletedTask;
    }
}
