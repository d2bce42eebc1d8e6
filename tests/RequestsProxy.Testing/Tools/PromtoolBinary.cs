namespace RequestsProxy.Testing.Tools;

/// <summary>
/// Prometheus' <c>promtool</c>, to check the chart's rules: <c>PROMTOOL</c>, or <c>promtool</c> on the PATH, or the
/// one the tests unpacked into <c>.tools/promtool</c> from Debian's <c>prometheus</c> package (<c>apt-get download</c>
/// plus <c>dpkg-deb -x</c>: nothing is installed or started).
/// </summary>
public static class PromtoolBinary
{
    private static readonly SemaphoreSlim InProcess = new(1, 1);
    private static string? _path;

    public static async Task<string> GetPathAsync(CancellationToken cancellationToken = default)
    {
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
        if (Environment.GetEnvironmentVariable("PROMTOOL") is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? configured
                : throw new FileNotFoundException($"PROMTOOL points at {configured}, which does not exist.", configured);
        }

        if (HelmBinary.FindOnPath("promtool") is { } onPath)
        {
            return onPath;
        }

        var folder = Path.Combine(RepositoryRoot.Path, ".tools", "promtool");
        var target = Path.Combine(folder, "promtool");
        if (File.Exists(target))
        {
            return target;
        }

        Directory.CreateDirectory(folder);
        using var fileLock = await HelmBinary.AcquireLockAsync(Path.Combine(folder, ".install.lock"), cancellationToken).ConfigureAwait(false);
        if (!File.Exists(target))
        {
            await InstallAsync(target, cancellationToken).ConfigureAwait(false);
        }

        return target;
    }

    private static async Task InstallAsync(string target, CancellationToken cancellationToken)
    {
        var work = Directory.CreateTempSubdirectory("promtool-install-");
        try
        {
            var download = await ToolProcess.RunAsync("apt-get", ["download", "prometheus"], work.FullName, timeout: TimeSpan.FromMinutes(10), cancellationToken: cancellationToken)
                .ConfigureAwait(false);
            var package = work.EnumerateFiles("prometheus_*.deb").FirstOrDefault();
            if (!download.Succeeded || package is null)
            {
                throw new InvalidOperationException(
                    $"The monitoring tests need promtool: set PROMTOOL, put it on the PATH, or let `apt-get download prometheus` work ({download.ExitCode}: {download.StandardError}).");
            }

            var unpacked = Path.Combine(work.FullName, "x");
            var extract = await ToolProcess.RunAsync("dpkg-deb", ["-x", package.FullName, unpacked], work.FullName, cancellationToken: cancellationToken).ConfigureAwait(false);
            var binary = Path.Combine(unpacked, "usr", "bin", "promtool");
            if (!extract.Succeeded || !File.Exists(binary))
            {
                throw new InvalidOperationException($"dpkg-deb -x {package.Name} gave no usr/bin/promtool: {extract.StandardError}");
            }

            var staging = target + $".{Environment.ProcessId}-{Guid.NewGuid():N}";
            File.Copy(binary, staging);
            var version = await ToolProcess.RunAsync(staging, ["--version"], work.FullName, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!version.Succeeded)
            {
                File.Delete(staging);
                throw new InvalidOperationException($"The unpacked promtool does not run: {version.StandardError}");
            }

            File.Move(staging, target, overwrite: true);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
