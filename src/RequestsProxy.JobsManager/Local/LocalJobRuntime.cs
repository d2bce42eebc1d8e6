using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RequestsProxy.JobsManager.Jobs;
using RequestsProxy.Tokens.IO;

namespace RequestsProxy.JobsManager.Local;

/// <summary>
/// Jobs as child processes. Each job gets a folder under the state directory holding its token
/// file (replaced atomically on refresh, so a reader sees the old or the new token, never a torn
/// one) and its stdout/stderr logs; the child learns the proxy URL and the token file from its
/// environment, exactly like a pod. A job's process does not depend on the jobs-manager
/// (<see cref="LocalJobProcess"/>): with <see cref="JobsManagerOptions.LocalKeepJobs"/> it keeps
/// running when the jobs-manager exits, and any jobs-manager on the same state directory adopts
/// the jobs still running there (one killed with SIGKILL leaves its jobs behind too).
/// </summary>
internal sealed partial class LocalJobRuntime(JobsManagerOptions options, ILogger<LocalJobRuntime> logger) : IJobRuntime, IAsyncDisposable
{
    public const string TokenFileName = "token";

    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, LocalJobProcess> _processes = new(StringComparer.Ordinal);

    // Jobs an earlier jobs-manager started that ended while none ran: reported once, with their outcome.
    private readonly ConcurrentDictionary<string, JobState> _endedWhileAway = new(StringComparer.Ordinal);
    private readonly Lock _adoptLock = new();
    private bool _adopted;

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
        AdoptOnce();
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

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            var name = (string)variable.Key;

            // The child must not inherit the jobs-manager's own settings (admin token path, key folder).
            if (!name.StartsWith("REQUESTS_PROXY_", StringComparison.Ordinal) && !name.StartsWith("JOBS_MANAGER_", StringComparison.Ordinal)
                && !name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) && !name.StartsWith("DOTNET_", StringComparison.Ordinal))
            {
                environment[name] = (string?)variable.Value;
            }
        }

        foreach (var (name, value) in spec.Env)
        {
            environment[name] = value;
        }

        environment[JobEnvironment.ProxyUrl] = options.ProxyUrl.ToString().TrimEnd('/');
        environment[JobEnvironment.TokenFile] = tokenFile;

        var process = LocalJobProcess.Start([.. spec.Command, .. spec.Args], folder, environment);
        _endedWhileAway.TryRemove(spec.Name, out _);
        _processes[spec.Name] = process;
        Log.Launched(logger, spec.Name, process.Id, folder);
        return Task.FromResult(new LaunchedJob(JobState.Running, tokenFile));
    }

    public Task DeliverAsync(JobRef job, JobCredential credential, CancellationToken cancellationToken)
    {
        var name = job.Name;
        AdoptOnce();
        if (!_processes.ContainsKey(name))
        {
            throw new InvalidOperationException($"no local job named '{name}'");
        }

        WriteToken(TokenFile(name), credential.Token);
        return Task.CompletedTask;
    }

    public async Task DeleteAsync(JobRef job, CancellationToken cancellationToken)
    {
        var name = job.Name;
        AdoptOnce();
        _endedWhileAway.TryRemove(name, out _);
        File.Delete(Path.Combine(JobDirectory(name), LocalJobProcess.RecordFileName));
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

    /// <summary>Its children (a pid and its start time are a child's identity: a reused pid is never adopted), and those that ended while no jobs-manager ran.</summary>
    public Task<IReadOnlyList<RuntimeJob>> ListAsync(CancellationToken cancellationToken)
    {
        AdoptOnce();
        var states = new Dictionary<string, JobState>(_endedWhileAway, StringComparer.Ordinal);
        foreach (var (name, process) in _processes)
        {
            states[name] = process.State;
        }

        return Task.FromResult<IReadOnlyList<RuntimeJob>>([.. states.Select(s => new RuntimeJob(s.Key, s.Value))]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var name in _processes.Keys.ToList())
        {
            if (_processes.TryRemove(name, out var process))
            {
                if (options.LocalKeepJobs)
                {
                    // Like a Kubernetes Job when its jobs-manager pod goes: the next jobs-manager adopts it.
                    process.Release();
                }
                else
                {
                    // By default children do not outlive the jobs-manager: a laptop must not keep orphans.
                    await process.KillAsync(ExitWait, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Takes over the jobs an earlier jobs-manager left running in the state directory (once, before first use).</summary>
    private void AdoptOnce()
    {
        if (Volatile.Read(ref _adopted))
        {
            return;
        }

        lock (_adoptLock)
        {
            if (_adopted)
            {
                return;
            }

            if (Directory.Exists(JobsDirectory))
            {
                foreach (var folder in Directory.EnumerateDirectories(JobsDirectory))
                {
                    var name = Path.GetFileName(folder);
                    if (LocalJobProcess.TryAdopt(folder, out var ended) is { } process)
                    {
                        _processes[name] = process;
                        Log.Adopted(logger, name, process.Id, folder);
                    }
                    else if (ended is { } state)
                    {
                        _endedWhileAway[name] = state;
                    }
                }
            }

            Volatile.Write(ref _adopted, true);
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

        [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "Adopted local job {Job} (process {ProcessId}) left running in {Folder} by an earlier jobs-manager")]
        public static partial void Adopted(ILogger logger, string job, int processId, string folder);
    }
}
