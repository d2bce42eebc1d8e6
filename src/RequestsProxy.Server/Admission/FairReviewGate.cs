using System.Net;

namespace RequestsProxy.Server.Admission;

/// <summary>
/// The admission port's review slots, shared fairly between client addresses (finding A3). At most
/// <see cref="Slots"/> reviews hold a slot (their bodies in memory) at once; the rest wait in one queue per
/// address, and a freed slot goes to the addresses in turn — not to whoever queued first. Slow senders
/// that fill the queue from a few addresses (each cut at the body deadline, reconnecting at once) make the
/// apiserver's address wait for one turn, not for every one of their connections: a FIFO queue of 16 slow
/// senders held a review 7–8 s behind them, past the apiserver's 5 s.
/// </summary>
internal sealed class FairReviewGate(int slots, int queuedPerAddress, int queuedInAll)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, LinkedList<TaskCompletionSource<bool>>> _waiting = [];
    private readonly LinkedList<IPAddress> _turns = new();
    private int _free = slots;
    private int _queued;

    public int Slots { get; } = slots;

    public int QueuedPerAddress => queuedPerAddress;

    public int QueuedInAll => queuedInAll;

    /// <summary>A slot (dispose the lease to free it), or null when this address's or the gate's queue is full.</summary>
    public async ValueTask<IDisposable?> AcquireAsync(IPAddress? address, CancellationToken cancellationToken)
    {
        address ??= IPAddress.None;
        TaskCompletionSource<bool> waiter;
        LinkedListNode<TaskCompletionSource<bool>> place;
        lock (_lock)
        {
            if (_free > 0 && _queued == 0)
            {
                _free--;
                return new Lease(this);
            }

            var queue = _waiting.GetValueOrDefault(address);
            if (_queued >= queuedInAll || queue?.Count >= queuedPerAddress)
            {
                return null;
            }

            if (queue is null)
            {
                _waiting[address] = queue = new LinkedList<TaskCompletionSource<bool>>();
                _turns.AddLast(address);
            }

            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            place = queue.AddLast(waiter);
            _queued++;
        }

        await using (cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken)))
        {
            try
            {
                await waiter.Task.ConfigureAwait(false);
                return new Lease(this);
            }
            catch (OperationCanceledException)
            {
                lock (_lock)
                {
                    if (place.List is { } queue)
                    {
                        // Still waiting: its place is given up (and its address's turn, when it was the last one there).
                        queue.Remove(place);
                        _queued--;
                        if (queue.Count == 0)
                        {
                            _waiting.Remove(address);
                            _turns.Remove(address);
                        }
                    }
                    else if (waiter.Task.IsCompletedSuccessfully)
                    {
                        // Granted just as it was cancelled: the slot is passed on.
                        ReleaseLocked();
                    }
                }

                throw;
            }
        }
    }

    private void Release()
    {
        lock (_lock)
        {
            ReleaseLocked();
        }
    }

    private void ReleaseLocked()
    {
        while (_turns.First is { } turn)
        {
            _turns.RemoveFirst();
            var queue = _waiting[turn.Value];
            var waiter = queue.First!.Value;
            queue.RemoveFirst();
            _queued--;
            if (queue.Count == 0)
            {
                _waiting.Remove(turn.Value);
            }
            else
            {
                // This address had its turn: the next slot goes to the next address.
                _turns.AddLast(turn);
            }

            if (waiter.TrySetResult(true))
            {
                return;
            }
        }

        _free++;
    }

    private sealed class Lease(FairReviewGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
