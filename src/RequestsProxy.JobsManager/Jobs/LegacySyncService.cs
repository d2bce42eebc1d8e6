using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RequestsProxy.JobsManager.Jobs;

/// <summary>
/// Legacy mode only: every <see cref="JobsManagerOptions.LegacySyncInterval"/>, pushes the young
/// registrations to every legacy proxy replica (<see cref="LegacyJobCredentials.SyncAsync"/>), so a
/// replica the DNS did not list at a job's start, or one whose container restarted, has every token
/// before it becomes ready. A stateless jobs-manager never runs it: it sends the admin token nowhere.
/// </summary>
internal sealed partial class LegacySyncService(LegacyJobCredentials legacy, JobsManagerOptions options, TimeProvider time, ILogger<LegacySyncService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Stateless)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await legacy.SyncAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.SyncFailed(logger, e);
            }
            try
            {
                await Task.Delay(options.LegacySyncInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 606, Level = LogLevel.Error, Message = "The legacy registration sync failed; retried on the next pass")]
        public static partial void SyncFailed(ILogger logger, Exception exception);
    }
}
