namespace RequestsProxy.Cluster.Workload;

/// <summary>
/// The platform's upstream: accepts every result the proxy forwards on :8080 and counts them by
/// the subject the proxy vouched for (X-Requests-Proxy-Subject); GET /stats returns the counts.
/// </summary>
internal static class Upstream
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.UseUrls("http://0.0.0.0:8080");
        var app = builder.Build();
        var received = 0L;
        var withoutSubject = 0L;
        app.MapGet("/stats", () => Results.Json(new { received = Interlocked.Read(ref received), withoutSubject = Interlocked.Read(ref withoutSubject) }));
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.Map("/{**path}", (HttpContext http) =>
        {
            Interlocked.Increment(ref received);
            if (string.IsNullOrEmpty(http.Request.Headers["X-Requests-Proxy-Subject"]))
            {
                Interlocked.Increment(ref withoutSubject);
            }

            return Results.Json(new { accepted = true });
        });
        await app.RunAsync();
        return 0;
    }
}
