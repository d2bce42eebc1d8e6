using System.Diagnostics;
using RequestsProxy.JobsManager.Jobs;

namespace RequestsProxy.JobsManager.Local;

/// <summary>One child process and the pumps copying its output to log files.</summary>
internal sealed class LocalJobProcess
{
    private readonly Process _process;
    private readonly Task _pumps;

    private LocalJobProcess(Process process, Task pumps)
    {
        _process = process;
        _pumps = pumps;
        Id = process.Id;
    }

    public int Id { get; }

    public bool HasExited => _process.HasExited;

    public JobState State => !_process.HasExited ? JobState.Running : _process.ExitCode == 0 ? JobState.Succeeded : JobState.Failed;

    public static LocalJobProcess Start(ProcessStartInfo start, string stdoutPath, string stderrPath)
    {
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{start.FileName}'");

        // No input: a job that reads stdin sees end-of-file instead of hanging.
        process.StandardInput.Close();
        var pumps = Task.WhenAll(
            Pump(process.StandardOutput.BaseStream, stdoutPath),
            Pump(process.StandardError.BaseStream, stderrPath));
        return new LocalJobProcess(process, pumps);
    }

    public async Task KillAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            await _pumps.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A grandchild holding the pipes open must not block the stop forever.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static async Task Pump(Stream source, string path)
    {
        var target = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, 4096, useAsync: true);
        await using (target.ConfigureAwait(false))
        {
            var buffer = new byte[4096];
            int read;
            while ((read = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                await target.FlushAsync().ConfigureAwait(false);
            }
        }
    }
}
