using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace RequestsProxy.Testing.Processes;

/// <summary>
/// A .NET service run as a real child process (<c>dotnet &lt;assembly&gt;.dll</c>) with its own
/// environment: wait for it to listen or be ready, SIGKILL it, SIGTERM it, read what it printed.
/// </summary>
public sealed partial class ServiceProcess : IAsyncDisposable
{
    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(Process process, string assemblyPath)
    {
        _process = process;
        AssemblyPath = assemblyPath;
    }

    public string AssemblyPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Everything printed so far, stdout and stderr interleaved as received.</summary>
    public IReadOnlyList<string> OutputLines => [.. _lines];

    public string Output => string.Join('\n', _lines);

    /// <summary>
    /// The full path of <c>&lt;assemblyName&gt;.dll</c> next to the running test assembly (a
    /// ProjectReference to the service's project puts it there, with its runtimeconfig.json).
    /// </summary>
    public static string FindAssembly(string assemblyName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, assemblyName + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{assemblyName}.dll is not next to the tests; add a ProjectReference to its project", path);
        }

        return path;
    }

    /// <summary>Starts <c>dotnet assemblyPath args…</c>. A null environment value removes that variable.</summary>
    public static ServiceProcess Start(string assemblyPath, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assemblyPath)!,
        };
        info.ArgumentList.Add(assemblyPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test host's own settings must not leak into the child.
        info.Environment.Remove("ASPNETCORE_URLS");
        info.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, assemblyPath);
        process.OutputDataReceived += (_, e) => service.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => service.OnLine(e.Data);
        process.Exited += (_, _) => service._listening.TrySetException(new InvalidOperationException(
            $"{Path.GetFileName(assemblyPath)} exited before listening:\n{service.Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>The first address the service reported with ASP.NET Core's "Now listening on:" line.</summary>
    public async Task<Uri> WaitForListeningAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_listening.Task, Task.Delay(timeout));
        if (finished != _listening.Task)
        {
            throw new TimeoutException($"{Path.GetFileName(AssemblyPath)} did not listen within {timeout}:\n{Output}");
        }

        return await _listening.Task;
    }

    /// <summary>Polls <paramref name="url"/> until it answers 200; returns how long that took.</summary>
    public async Task<TimeSpan> WaitForOkAsync(Uri url, TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Path.GetFileName(AssemblyPath)} exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync(url);
                if (response.IsSuccessStatusCode)
                {
                    return watch.Elapsed;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{url} did not answer 200 within {timeout}:\n{Output}");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like an OOM kill or a node loss.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM (what Kubernetes sends first), then waits; returns the exit code, or kills on timeout and throws.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = SendSignal(_process.Id, SigTerm);
        }

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Path.GetFileName(AssemblyPath)} ignored SIGTERM for {timeout}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits for the process to end on its own (e.g. refusing its configuration); kills on timeout and throws.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Path.GetFileName(AssemblyPath)} still ran after {timeout}:\n{Output}");
        }

        return _process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        var match = ListeningLine().Match(line);
        if (match.Success && Uri.TryCreate(match.Groups[1].Value, UriKind.Absolute, out var address))
        {
            _listening.TrySetResult(address);
        }
    }

    [GeneratedRegex(@"Now listening on: (https?://[^\s""\\]+)")]
    private static partial Regex ListeningLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
