using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Local;

/// <summary>
/// Jobs as child processes. Each job gets a folder under the state directory holding its token
/// file (replaced atomically on refresh, so a reader sees the old or the new token, never a torn
/// one) and its stdout/stderr logs; the child learns the proxy URL and the token file from its
/// environment, exactly like a pod.
/// </summary>
internal sealed partial class LocalJobRuntime(JobsManagerOptions options, ILogger<LocalJobRuntime> logger) : IJobRuntime, IAsyncDisposable
{
    public const string TokenFileName = "token";

    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, LocalJobProcess> _processes = new(StringComparer.Ordinal);

    // Absolute, resolved once at start: a job runs in its own folder, where a relative token path would point nowhere.
    public string JobsDirectory { get; } = Path.GetFullPath(Path.Combine(options.StateDirectory, "jobs"));

    public string? Validate(JobSpec spec)
    {
        if (spec.Template is { } template && LocalTemplate.Problems(template) is { Count: > 0 } problems)
        {
            return string.Join("; ", problems);
        }

        return spec.Command.Count == 0
            ? spec.Template is null
                ? "the local runtime needs a 'command' (the program and its first arguments)"
                : "the local runtime needs the container's 'command' (it runs a program on this machine; the image is not used)"
            : null;
    }

    public string JobDirectory(string name) => Path.Combine(JobsDirectory, name);

    public string TokenFile(string name) => Path.Combine(JobDirectory(name), TokenFileName);

    public string TokenFileOf(string name) => TokenFile(name);

    public Task<LaunchedJob> LaunchAsync(JobSpec spec, JobCredential credential, CancellationToken cancellationToken)
    {
        if (_processes.TryGetValue(spec.Name, out var existing) && !existing.HasExited)
        {
            throw new JobConflictException($"a local process for job '{spec.Name}' is still running");
        }

        var folder = JobDirectory(spec.Name);
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var tokenFile = TokenFile(spec.Name);
        WriteToken(tokenFile, credential.Token);

        var start = new ProcessStartInfo
        {
            FileName = spec.Command[0],
            WorkingDirectory = folder,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in spec.Command.Skip(1).Concat(spec.Args))
        {
            start.ArgumentList.Add(argument);
        }

        // The child must not inherit the jobs-manager's own settings (admin token path, key folder).
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("REQUESTS_PROXY_", StringComparison.Ordinal) || name.StartsWith("JOBS_MANAGER_", StringComparison.Ordinal)
                || name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || name.StartsWith("DOTNET_", StringComparison.Ordinal))
            {
                start.Environment.Remove(name);
            }
        }

        foreach (var (name, value) in spec.Env)
        {
            start.Environment[name] = value;
        }

        start.Environment[JobEnvironment.ProxyUrl] = options.ProxyUrl.ToString().TrimEnd('/');
        start.Environment[JobEnvironment.TokenFile] = tokenFile;

        var process = LocalJobProcess.Start(start, Path.Combine(folder, "stdout.log"), Path.Combine(folder, "stderr.log"));
        _processes[spec.Name] = process;
        Log.Launched(logger, spec.Name, process.Id, folder);
        return Task.FromResult(new LaunchedJob(JobState.Running, tokenFile));
    }

    public Task DeliverAsync(string name, JobCredential credential, CancellationToken cancellationToken)
    {
        if (!_processes.ContainsKey(name))
        {
            throw new InvalidOperationException($"no local job named '{name}'");
        }

        WriteToken(TokenFile(name), credential.Token);
        return Task.CompletedTask;
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (_processes.TryRemove(name, out var process))
        {
            await process.KillAsync(ExitWait, cancellationToken).ConfigureAwait(false);
            Log.Deleted(logger, name, process.Id);
        }

        // The revoked token is useless, but a token file outliving its job invites copying.
        var tokenFile = TokenFile(name);
        if (File.Exists(tokenFile))
        {
            File.Delete(tokenFile);
        }
    }

    public Task<IReadOnlyDictionary<string, JobState>> GetStatesAsync(CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<string, JobState> states = _processes.ToDictionary(p => p.Key, p => p.Value.State, StringComparer.Ordinal);
        return Task.FromResult(states);
    }

    public async ValueTask DisposeAsync()
    {
        // Children do not outlive the jobs-manager: a local demo must not leave orphans behind.
        foreach (var name in _processes.Keys.ToList())
        {
            if (_processes.TryRemove(name, out var process))
            {
                await process.KillAsync(ExitWait, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static void WriteToken(string path, string token)
    {
        AtomicFile.WriteText(path, token, AtomicFile.Private);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Launched local job {Job} as process {ProcessId} in {Folder}")]
        public static partial void Launched(ILogger logger, string job, int processId, string folder);

        [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Killed local job {Job} (process {ProcessId})")]
        public static partial void Deleted(ILogger logger, string job, int processId);
    }
}
