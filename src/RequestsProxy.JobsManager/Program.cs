using RequestsProxy.JobsManager;
using RequestsProxy.Settings;

WebApplication app;
try
{
    app = JobsManagerApp.Build(args);
}
catch (InvalidSettingsException e)
{
    // A clear line and exit 2 (usage), not an unhandled-exception dump and SIGABRT.
    await Console.Error.WriteLineAsync($"jobs-manager: {e.Message}").ConfigureAwait(false);
    return 2;
}

await using (app.ConfigureAwait(false))
{
    await app.RunAsync().ConfigureAwait(false);
}

return 0;
