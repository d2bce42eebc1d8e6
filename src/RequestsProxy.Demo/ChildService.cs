using System.Diagnostics;

namespace RequestsProxy.Demo;

/// <summary>
/// One of the real services (requests-proxy, jobs-manager) run as a child process from the
/// assembly beside the demo, its output appended to a log file, killable and restartable.
/// </summary>
internal sealed class ChildService : IAsyncDisposable
{
    private readonly string _assembly;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string _logFile;
    private Process? _process;

    /// <param name="managementUrl">Where <c>/readyz</c> answers when not on <paramref name="url"/> (the proxy's management port).</param>
    public ChildService(string name, string assemblyFile, Uri url, IReadOnlyDictionary<string, string> environment, string logFile, Uri? managementUrl = null)
    {
        Name = name;
        Url = url;
        ManagementUrl = managementUrl ?? url;
        _assembly = DotnetHost.Beside(assemblyFile);
        _environment = environment;
        _logFile = logFile;
    }

    /// <summary>Every service process this demo started; killed if the demo itself goes down.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentBag<Process> Started = [];

    static ChildService()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
    }

    public string Name { get; }

    public Uri Url { get; }

    public Uri ManagementUrl { get; }

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public void Start()
    {
        var info = new ProcessStartInfo(DotnetHost.Path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        info.ArgumentList.Add(_assembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(Url.ToString().TrimEnd('/'));
        foreach (var (name, value) in _environment)
        {
            info.Environment[name] = value;
        }

        var log = new StreamWriter(_logFile, append: true) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Exited += (_, _) => log.Dispose();
        process.Start();
        Started.Add(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Polls <c>/readyz</c> until it answers 200, the process dies, or the timeout passes.</summary>
    /// <summary>One /readyz probe: true on 200; false on anything else, a refused connection or a probe timeout.</summary>
    public async Task<bool> IsReadyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(ManagementUrl, "/readyz"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    public async Task WaitReadyAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process is null || _process.HasExited)
            {
                throw new DemoException($"{Name} exited during start-up (exit code {_process?.ExitCode}); see {_logFile}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(ManagementUrl, "/readyz"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The probe's own timeout: a process still starting on a busy machine is not ready yet, not cancelled.
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new DemoException($"{Name} was not ready within {timeout.TotalSeconds:0} s; see {_logFile}");
    }

    /// <summary>SIGKILL: no shutdown, no draining — what a node failure or OOM kill does.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM and a grace period (the service drains and stops its children), then SIGKILL.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is not { HasExited: false } p)
        {
            return;
        }

        Signals.Send(p.Id, Signals.SigTerm);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await p.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    private static void KillAll()
    {
        foreach (var process in Started)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process?.Dispose();
    }
}
