using System.Globalization;
using Spectre.Console;

namespace RequestsProxy.Demo;

/// <summary>The summary table at the end of the demo.</summary>
internal static class DemoReport
{
    public static void Write(DemoResult result, DemoOptions options, IAnsiConsole console)
    {
        var tally = result.Tally!;
        var table = new Table().Border(TableBorder.Rounded).Title(result.Cutover ? "requests-proxy demo — CUTOVER legacy → stateless with jobs running"
            : result.Legacy ? "requests-proxy demo — LEGACY in-memory tokens" : "requests-proxy demo — stateless JWT");
        table.AddColumn("measure");
        table.AddColumn(new TableColumn("value").RightAligned());
        table.AddColumn("expected");

        table.AddRow("requests sent by training jobs", N(tally.Sent), "");
        table.AddRow("accepted (2xx)", N(tally.Accepted), "> 0");
        table.AddRow(Mark(tally.RefusedWithValidToken == 0) + " refused with a valid token", N(tally.RefusedWithValidToken), "0");
        foreach (var (reason, count) in tally.RefusalReasons.OrderByDescending(r => r.Value))
        {
            table.AddRow($"    {Markup.Escape(reason)}", N(count), "");
        }

        table.AddRow("refused after revocation (stopped jobs)", N(tally.RefusedAfterRevocation + result.ProbeRefused), "≥ 1");
        table.AddRow(Mark(result.RevocationInTime) + " time for the revocation to bite", result.RevocationBite is { } bite ? $"{bite.TotalSeconds:0.00} s ({Markup.Escape(result.RevocationReason ?? "-")})" : "never", $"≤ {result.RevocationDeadline.TotalSeconds:0} s (poll + margin)");
        table.AddRow("copied token accepted after stop (before it bit)", N(result.ProbeAcceptedAfterStop), "");
        table.AddRow("connection errors while the proxy was down (retried)", N(tally.ConnectionErrors), "");
        table.AddRow("downtime seen by clients (longest gap)", $"{tally.LongestOutage.TotalSeconds:0.00} s", "");
        table.AddRow("proxy SIGKILL → ready again", $"{result.ProxyRestartTime.TotalSeconds:0.00} s", "");
        if (result.Cutover)
        {
            table.AddRow("flip: 2 proxy replicas rolled one by one, jobs-manager recreated", result.FlipDuration is { } flip ? $"{flip.TotalSeconds:0.0} s" : "—", "");
            table.AddRow(Mark(result.ConvertedWithin is not null) + " every job on a signed token after the stateless jobs-manager was ready", result.ConvertedWithin is { } within ? $"{within.TotalSeconds:0.0} s" : "never", "");
            table.AddRow(Mark(result.LegacyTokenRefused) + " old legacy token after its grace, at every replica", result.LegacyTokenRefused ? $"refused ({Markup.Escape(result.LegacyTokenReason ?? "-")})" : "accepted",
                $"refused after {options.LegacyTokenGrace.TotalSeconds:0} s (grace)");
        }

        table.AddRow("key rotation", result.RotatedTo is { } rotated ? $"v1 → {rotated}, all jobs re-minted in {result.RemintedWithin?.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) ?? "—"} s" : result.Cutover ? "skipped (the cutover run)" : "skipped", "");
        foreach (var (kid, count) in tally.AcceptedByKid.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            table.AddRow($"    accepted with {Markup.Escape(kid)} tokens", N(count), "");
        }

        var results = result.Results!;
        table.AddRow("results received by the upstream", N(result.UpstreamReceived), "");
        table.AddRow("    duplicates suppressed", N(result.UpstreamDuplicates), "same job + Idempotency-Key (retries)");
        table.AddRow(Mark(result.ResultsCountedOnce) + " unique results at the upstream", N(result.UpstreamReceived - result.UpstreamDuplicates - result.UpstreamWithoutKey),
            $"= accepted requests ({N(results.Accepted)})" + (results.DeliveredWhileStopping > 0 ? $" + {N(results.DeliveredWhileStopping)} sent as their job was stopped" : "")
            + (results.Lost > 0 ? $"; {N(results.Lost)} accepted but missing" : "") + (results.Unexplained > 0 ? $"; {N(results.Unexplained)} unexplained" : ""));
        table.AddRow("    keyless (copied-token probes)", N(result.UpstreamWithoutKey), $"= probes accepted ({N(result.ProbeAcceptedAfterStop)})");
        table.AddRow(Mark(result.UpstreamWithoutIdentity == 0) + " upstream requests without a verified identity", N(result.UpstreamWithoutIdentity), "0");
        table.AddRow("duration", $"{result.Elapsed.TotalSeconds:0.0} s", "");
        console.Write(table);

        if (result.PromiseHeld)
        {
            console.MarkupLine(result.Cutover
                ? "[green]The promise held:[/] no request carrying a valid token was refused, and the upstream counted every result once, through the flip from legacy to stateless tokens, a proxy SIGKILL after it and a revocation."
                : "[green]The promise held:[/] no request carrying a valid token was refused, and the upstream counted every result once, through a proxy SIGKILL, a key rotation and a revocation.");
        }
        else if (result.Legacy)
        {
            console.MarkupLine($"[yellow]As expected of the legacy design:[/] the restart erased the proxy's in-memory tokens, and {N(tally.RefusedWithValidToken)} requests of running jobs were refused. This is what stateless tokens end.");
        }
        else
        {
            console.MarkupLine("[red]The promise did not hold[/] — see the table above.");
        }

        if (options.Keep)
        {
            console.MarkupLine($"Logs, keys and events kept in [blue]{Markup.Escape(result.Folder)}[/].");
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Mark(bool ok) => ok ? "[green]✓[/]" : "[red]✗[/]";
}
