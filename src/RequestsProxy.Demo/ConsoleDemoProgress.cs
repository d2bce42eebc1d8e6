using System.Globalization;

namespace RequestsProxy.Demo;

/// <summary>
/// A status line rewritten in place on a terminal (no log flood); phases as plain lines, and
/// in a pipe or CI log a counter line every five seconds instead of the in-place line.
/// </summary>
internal sealed class ConsoleDemoProgress : IDemoProgress
{
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private readonly Lock _lock = new();
    private TimeSpan? _lastPrinted;
    private int _lineLength;

    public void Phase(string description)
    {
        lock (_lock)
        {
            ClearLine();
            Console.WriteLine($"» {description}");
        }
    }

    public void Tick(TimeSpan elapsed, TimeSpan duration, DemoTally tally, long upstreamReceived)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"  {elapsed.TotalSeconds,5:0.0}/{duration.TotalSeconds:0} s  sent {tally.Sent}  accepted {tally.Accepted}  refused(valid) {tally.RefusedWithValidToken}  refused(revoked) {tally.RefusedAfterRevocation}  conn-errors {tally.ConnectionErrors}  upstream {upstreamReceived}");
        lock (_lock)
        {
            if (_interactive)
            {
                ClearLine();
                Console.Write(line);
                _lineLength = line.Length;
            }
            else if (_lastPrinted is not { } last || elapsed - last >= TimeSpan.FromSeconds(5))
            {
                Console.WriteLine(line);
                _lastPrinted = elapsed;
            }
        }
    }

    private void ClearLine()
    {
        if (_interactive && _lineLength > 0)
        {
            Console.Write('\r' + new string(' ', _lineLength) + '\r');
            _lineLength = 0;
        }
    }
}
