namespace RequestsProxy.Demo;

/// <summary>Where the demo reports what it is doing while it runs.</summary>
internal interface IDemoProgress
{
    void Phase(string description);

    void Tick(TimeSpan elapsed, TimeSpan duration, DemoTally tally, long upstreamReceived);
}
