using RequestsProxy.Tokens.Keys;

namespace RequestsProxy.Testing.Files;

/// <summary>A key ring folder laid out and updated like the mounted keys Secret.</summary>
public sealed class KeyRingVolume
{
    private readonly ProjectedVolume _volume;
    private readonly Dictionary<string, string> _files;

    /// <summary>A fresh ring with <c>v1</c> active.</summary>
    public KeyRingVolume(string path)
    {
        _files = new() { ["active"] = "v1\n", ["v1"] = KeyRingRules.GenerateKey() + "\n" };
        _volume = new ProjectedVolume(path, _files);
    }

    public string Path => _volume.Path;

    public string Active => _files["active"].Trim();

    public IReadOnlyDictionary<string, string> Files => _files;

    /// <summary>Adds v(N+1), not active, and returns its kid.</summary>
    public string AddKey()
    {
        var kid = KeyRingRules.NextKid(_files.Keys);
        _files[kid] = KeyRingRules.GenerateKey();
        _volume.Write(_files);
        return kid;
    }

    public void Promote(string kid)
    {
        _files["active"] = kid;
        _volume.Write(_files);
    }

    public void Retire(string kid)
    {
        _files.Remove(kid);
        _volume.Write(_files);
    }

    /// <summary>Writes arbitrary content (to test refused updates).</summary>
    public void WriteRaw(IReadOnlyDictionary<string, string> files)
    {
        _files.Clear();
        foreach (var (k, v) in files)
        {
            _files[k] = v;
        }

        _volume.Write(_files);
    }
}
