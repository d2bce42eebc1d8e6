namespace RequestsProxy.Demo;

/// <summary>The upstream's unique results against the accepted requests (<see cref="DemoTally.Reconcile"/>).</summary>
/// <param name="Accepted">Results the jobs were told were accepted (a 2xx), by key.</param>
/// <param name="Lost">Accepted results the upstream does not have: must be 0.</param>
/// <param name="DeliveredWhileStopping">Results the upstream has that their job sent but was stopped before it heard the answer.</param>
/// <param name="Unexplained">Results the upstream has that no job sent, or sent without being stopped and never saw accepted: must be 0.</param>
internal sealed record ResultsCheck(int Accepted, int Lost, int DeliveredWhileStopping, int Unexplained)
{
    public bool CountedOnce => Lost == 0 && Unexplained == 0;
}
