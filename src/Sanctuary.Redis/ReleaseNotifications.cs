using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Sanctuary.Redis;

/// <summary>
/// Subscriptions to the release channels of the resources that this store's acquires wait for.
/// </summary>
/// <remarks>
/// A channel is subscribed when the first waiter of its resource needs it and unsubscribed once
/// nobody has used it for <see cref="Linger"/>, so a resource that waiters keep coming back to costs
/// one subscription, and an idle one costs none. Each release bumps the watch's generation: a waiter
/// reads the generation before it sends its attempt, so a release that lands between the refusal and the
/// wait is not missed.
/// </remarks>
internal sealed class ReleaseNotifications
{
    /// <summary>How long an unused subscription is kept for the next waiter.</summary>
    public static readonly TimeSpan Linger = TimeSpan.FromSeconds(10);

    private readonly ISubscriber _subscriber;
    private readonly ILogger _logger;
    private readonly object _sync = new();
    private readonly Dictionary<string, Watch> _watches = new(StringComparer.Ordinal);

    public ReleaseNotifications(ISubscriber subscriber, ILogger logger)
    {
        _subscriber = subscriber;
        _logger = logger;
    }

    /// <summary>Number of channels watched now, in use or lingering.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _watches.Count;
            }
        }
    }

    /// <summary>
    /// Returns the watch of a resource's channel, subscribing first if needed. A failed subscription
    /// (the server is unreachable) still returns the watch: its waiter then relies on the poll
    /// interval, and the next waiter tries to subscribe again.
    /// </summary>
    public async ValueTask<Watch> EnterAsync(ResourceKeys keys)
    {
        Watch watch;
        Task subscription;
        string name = keys.ChannelName;
        lock (_sync)
        {
            if (!_watches.TryGetValue(name, out Watch? existing))
            {
                existing = new Watch(name, keys.Channel);
                _watches.Add(name, existing);
            }

            watch = existing;
            watch.Users++;
            if (watch.Subscription is null || watch.Subscription.IsFaulted || watch.Subscription.IsCanceled)
            {
                watch.Subscription = _subscriber.SubscribeAsync(watch.Channel, watch.Handler);
            }

            subscription = watch.Subscription;
        }

        try
        {
            await subscription.ConfigureAwait(false);
        }
        catch (Exception error) when (error is RedisException or TimeoutException or ObjectDisposedException)
        {
            _logger.LogDebug(error, "Subscribing to {Channel} failed; waiters poll until a later subscription succeeds.", name);
        }

        return watch;
    }

    /// <summary>Ends one use of a watch.</summary>
    public void Exit(Watch watch)
    {
        lock (_sync)
        {
            watch.Users--;
            watch.LastUsed = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Wakes every waiter, for when notifications may have been lost (a subscription connection came back).</summary>
    public void SignalAll()
    {
        lock (_sync)
        {
            foreach (Watch watch in _watches.Values)
            {
                watch.Signal();
            }
        }
    }

    /// <summary>Unsubscribes channels that nobody used for <see cref="Linger"/>, or all unused ones when <paramref name="all"/> is set.</summary>
    public void Sweep(bool all)
    {
        long now = Stopwatch.GetTimestamp();
        List<Watch>? idle = null;
        lock (_sync)
        {
            foreach (Watch watch in _watches.Values)
            {
                if (watch.Users == 0 && (all || Stopwatch.GetElapsedTime(watch.LastUsed, now) >= Linger))
                {
                    (idle ??= new List<Watch>()).Add(watch);
                }
            }

            if (idle is null)
            {
                return;
            }

            foreach (Watch watch in idle)
            {
                _watches.Remove(watch.Name);

                // Each watch has its own handler, so this never detaches a newer watch of the same channel.
                _ = _subscriber.UnsubscribeAsync(watch.Channel, watch.Handler, CommandFlags.FireAndForget);
            }
        }
    }

    /// <summary>The release channel of one resource: a generation counter and the waiters of its next change.</summary>
    internal sealed class Watch
    {
        private TaskCompletionSource _changed = NewSource();
        private long _generation;

        public Watch(string name, RedisChannel channel)
        {
            Name = name;
            Channel = channel;
            Handler = (_, _) => Signal();
            LastUsed = Stopwatch.GetTimestamp();
        }

        public string Name { get; }

        public RedisChannel Channel { get; }

        public Action<RedisChannel, RedisValue> Handler { get; }

        // Guarded by the owner's lock.
        public int Users { get; set; }

        public long LastUsed { get; set; }

        public Task? Subscription { get; set; }

        /// <summary>Number of releases seen so far.</summary>
        public long Generation => Volatile.Read(ref _generation);

        /// <summary>Records a release and wakes the current waiters.</summary>
        public void Signal()
        {
            // The generation moves before the source is swapped: a waiter that took the old source
            // and then read the old generation is woken by this completion.
            Interlocked.Increment(ref _generation);
            Interlocked.Exchange(ref _changed, NewSource()).TrySetResult();
        }

        /// <summary>
        /// Waits until a release after generation <paramref name="seen"/>, at most <paramref name="timeout"/>.
        /// </summary>
        /// <returns><see langword="true"/> if a release was seen; <see langword="false"/> on timeout.</returns>
        public async ValueTask<bool> WaitAsync(long seen, TimeSpan timeout, CancellationToken cancellationToken)
        {
            Task changed = Volatile.Read(ref _changed).Task;
            if (Generation != seen)
            {
                return true;
            }

            try
            {
                await changed.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        // Continuations run on the thread pool, never inline on the connection's reader thread.
        private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
