namespace RequestsProxy.Testing.Tools;

/// <summary>
/// A tool binary the tests need and may fetch themselves: the path in the environment variable
/// <paramref name="variable"/> if set, else (with <paramref name="searchPath"/>) the one on the PATH, else
/// <c>.tools/&lt;name&gt;/&lt;name&gt;</c> in the repository, installed there by <paramref name="install"/> on first use. Several test processes may ask
/// at once: the install runs under an exclusive file lock and lands with an atomic rename, and each
/// process resolves once.
/// </summary>
/// <param name="install">Writes the binary, executable, to the staging path it is given (in the target's folder); it is then run with <paramref name="versionArguments"/> and renamed into place.</param>
/// <param name="versionArguments">Arguments that make the binary print its version and exit 0, to check a fresh install runs.</param>
internal sealed class CachedTool(string name, string variable, bool searchPath, string[] versionArguments,
    Func<string, CancellationToken, Task> install)
{
    private readonly SemaphoreSlim _inProcess = new(1, 1);
    private string? _path;

    public async Task<string> GetPathAsync(CancellationToken cancellationToken)
    {
        if (_path is not null)
        {
            return _path;
        }

        await _inProcess.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _path ??= await ResolveAsync(cancellationToken).ConfigureAwait(false);
            return _path;
        }
        finally
        {
            _inProcess.Release();
        }
    }

    public static string? FindOnPath(string file) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, file))
            .FirstOrDefault(File.Exists);

    private async Task<string> ResolveAsync(CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? configured
                : throw new FileNotFoundException($"{variable} points at {configured}, which does not exist.", configured);
        }

        if (searchPath && FindOnPath(name) is { } onPath)
        {
            return onPath;
        }

        var folder = Path.Combine(RepositoryRoot.Path, ".tools", name);
        var target = Path.Combine(folder, name);
        if (File.Exists(target))
        {
            return target;
        }

        Directory.CreateDirectory(folder);
        using var fileLock = await AcquireLockAsync(Path.Combine(folder, ".install.lock"), cancellationToken).ConfigureAwait(false);
        if (!File.Exists(target))
        {
            var staging = Path.Combine(folder, $".{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
            try
            {
                await install(staging, cancellationToken).ConfigureAwait(false);
                var version = await ToolProcess.RunAsync(staging, versionArguments, folder, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (!version.Succeeded)
                {
                    throw new InvalidOperationException($"The {name} just installed does not run: {version.StandardError}");
                }

                File.Move(staging, target, overwrite: true);
            }
            finally
            {
                File.Delete(staging);
            }
        }

        return target;
    }

    // The lock file stays: deleting it on close would let a late opener lock a different inode.
    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
