namespace RequestsProxy.Testing.Tools;

/// <summary>
/// Prometheus' <c>promtool</c>, to check the chart's rules: <c>PROMTOOL</c>, or <c>promtool</c> on the PATH, or the
/// one the tests unpacked into <c>.tools/promtool</c> from Debian's <c>prometheus</c> package (<c>apt-get download</c>
/// plus <c>dpkg-deb -x</c>: nothing is installed or started; <see cref="CachedTool"/>).
/// </summary>
public static class PromtoolBinary
{
    private static readonly CachedTool Tool = new("promtool", "PROMTOOL", searchPath: true, ["--version"], InstallAsync);

    public static Task<string> GetPathAsync(CancellationToken cancellationToken = default) => Tool.GetPathAsync(cancellationToken);

    private static async Task InstallAsync(string staging, CancellationToken cancellationToken)
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

            File.Copy(binary, staging);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
