using System.Diagnostics;
using System.Text.Json;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Local;

/// <summary>
/// One job process, started through <c>/bin/sh</c> (which redirects and then execs the job, so the
/// job itself is the child) so that nothing ties it to the jobs-manager: its output goes straight to
/// the job folder's log files (no pipe to a parent that may exit), and <c>process.json</c> records
/// its pid and start time so the next jobs-manager can adopt it (<see cref="TryAdopt"/>) — the start
/// time tells a reused pid apart. Only a process's parent learns its exit code: an adopted job that
/// ends is reported <see cref="JobState.Failed"/> (its logs say how it ended).
/// </summary>
internal sealed class LocalJobProcess
{
    public const string RecordFileName = "process.json";

    // stdin from /dev/null (a job that reads it sees end-of-file), the inherited stdout/stderr replaced by the logs.
    private const string Wrapper = "exec </dev/null >>stdout.log 2>>stderr.log\nexec \"$@\"\n";

    private static readonly TimeSpan StartTimeTolerance = TimeSpan.FromSeconds(1);

    private readonly Process _process;
    private readonly string _folder;

    private LocalJobProcess(Process process, string folder, bool adopted)
    {
        _process = process;
        _folder = folder;
        Id = process.Id;
        Adopted = adopted;
    }

    public int Id { get; }

    /// <summary>Started by an earlier jobs-manager and taken over by this one.</summary>
    public bool Adopted { get; }

    public bool HasExited => _process.HasExited;

    public JobState State => !_process.HasExited ? JobState.Running : !Adopted && _process.ExitCode == 0 ? JobState.Succeeded : JobState.Failed;

    /// <summary>Starts <paramref name="command"/> in <paramref name="folder"/> (its working folder) with <paramref name="environment"/>.</summary>
    /// <exception cref="FileNotFoundException">The program is not there (or not executable): nothing was started.</exception>
    public static LocalJobProcess Start(IReadOnlyList<string> command, string folder, IReadOnlyDictionary<string, string?> environment)
    {
        // The shell would start and fail with 127; a launch that cannot work must fail as a launch.
        EnsureRunnable(command[0], folder, environment.TryGetValue("PATH", out var path) ? path : null);
        var start = new ProcessStartInfo { FileName = "/bin/sh", WorkingDirectory = folder, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Wrapper);
        start.ArgumentList.Add("requests-proxy-job");
        foreach (var argument in command)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start '{command[0]}'");
        DateTime startTime;
        try
        {
            startTime = process.StartTime;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // It has exited already (and may be reaped): there is nothing a later jobs-manager could adopt.
            return new LocalJobProcess(process, folder, adopted: false);
        }

        var record = new ProcessRecord(process.Id, new DateTimeOffset(startTime.ToUniversalTime()).ToUnixTimeMilliseconds());
        AtomicFile.WriteText(Path.Combine(folder, RecordFileName), JsonSerializer.Serialize(record, LocalJson.Default.ProcessRecord), AtomicFile.Private);
        return new LocalJobProcess(process, folder, adopted: false);
    }

    /// <summary>
    /// The process an earlier jobs-manager started in <paramref name="folder"/>, when it still runs
    /// (same pid, same start time). Null when there is no record, it exited, or the pid was reused;
    /// <paramref name="exitedState"/> is then <see cref="JobState.Failed"/> for a job that ended unseen.
    /// </summary>
    public static LocalJobProcess? TryAdopt(string folder, out JobState? exitedState)
    {
        exitedState = null;
        var path = Path.Combine(folder, RecordFileName);
        ProcessRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(File.ReadAllText(path), LocalJson.Default.ProcessRecord);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }

        if (record is null)
        {
            return null;
        }

        Process process;
        try
        {
            process = Process.GetProcessById(record.Pid);
        }
        catch (ArgumentException)
        {
            exitedState = JobState.Failed;
            return null;
        }

        bool same;
        try
        {
            same = !process.HasExited
                && (new DateTimeOffset(process.StartTime.ToUniversalTime()) - DateTimeOffset.FromUnixTimeMilliseconds(record.StartedAtUnixMs)).Duration() <= StartTimeTolerance;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            same = false;
        }

        if (!same)
        {
            process.Dispose();
            exitedState = JobState.Failed;
            return null;
        }

        return new LocalJobProcess(process, folder, adopted: true);
    }

    /// <summary>SIGKILL to the job and everything it started; its record goes with it (a stopped job is not adopted).</summary>
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
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A process that does not die within the wait must not block the stop forever.
        }
        finally
        {
            _process.Dispose();
            File.Delete(Path.Combine(_folder, RecordFileName));
        }
    }

    private static void EnsureRunnable(string program, string folder, string? path)
    {
        var candidates = program.Contains('/', StringComparison.Ordinal)
            ? [Path.GetFullPath(program, folder)]
            : (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, program));
        if (!candidates.Any(IsExecutable))
        {
            throw new FileNotFoundException(program.Contains('/', StringComparison.Ordinal)
                ? $"the program '{program}' does not exist or is not executable"
                : $"the program '{program}' is not on PATH", program);
        }
    }

    private static bool IsExecutable(string file) =>
        File.Exists(file)
        && (OperatingSystem.IsWindows() || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);

    /// <summary>Lets go of the process without touching it (it keeps running; the next jobs-manager adopts it).</summary>
    public void Release() => _process.Dispose();
}
