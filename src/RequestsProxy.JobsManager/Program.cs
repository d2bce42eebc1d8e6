using RequestsProxy.JobsManager;

var app = JobsManagerApp.Build(args);
await app.RunAsync().ConfigureAwait(false);
