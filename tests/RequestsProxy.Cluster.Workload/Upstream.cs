namespace RequestsProxy.Cluster.Workload;

/// <summary>
/// The platform's upstream: accepts every result the proxy forwards on :8080 and counts them by
/// the subject the proxy vouched for (X-Requests-Proxy-Subject); GET /stats returns the counts,
/// also per subject (<c>bySubject</c>).
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
        var bySubject = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        app.MapGet("/stats", () => Results.Json(new
        {
            received = Interlocked.Read(ref received),
            withoutSubject = Interlocked.Read(ref withoutSubject),
            bySubject = bySubject.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal),
        }));
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.Map("/{**path}", (HttpContext http) =>
        {
            Interlocked.Increment(ref received);
            var subject = http.Request.Headers["X-Requests-Proxy-Subject"].ToString();
            if (string.IsNullOrEmpty(subject))
            {
                Interlocked.Increment(ref withoutSubject);
            }
            else
            {
                bySubject.AddOrUpdate(subject, 1, (_, n) => n + 1);
            }

            return Results.Json(new { accepted = true });
        });
        await app.RunAsync();
        return 0;
    }
}
