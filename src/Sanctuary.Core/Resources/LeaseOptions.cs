using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Sanctuary.Resources;

/// <summary>
/// How one named resource is requested and held: mode, priority, wait timeout, time-to-live,
/// heartbeat, owner and purpose.
/// </summary>
/// <remarks>
/// <para>
/// An options object is immutable; create it once and reuse it (for example in a
/// <see langword="static"/> <see langword="readonly"/> field), or derive a variant with a
/// <see langword="with"/> expression. Each property checks its own range when it is set and
/// throws an <see cref="ArgumentException"/> that names the property; rules that involve two
/// properties are checked when the options are used.
/// </para>
/// <para>
/// <see cref="Timeout.InfiniteTimeSpan"/> means "no limit" for <see cref="WaitTimeout"/>,
/// "never expires" for <see cref="TimeToLive"/> and "no heartbeat" for
/// <see cref="HeartbeatInterval"/>.
/// </para>
/// </remarks>
public sealed record LeaseOptions
{
    /// <summary>The longest owner or purpose text accepted, in characters.</summary>
    public const int MaxTextLength = 1024;

    private readonly LeaseMode _mode = LeaseMode.Exclusive;
    private readonly LockPriority _priority = LockPriority.Normal;
    private readonly TimeSpan _waitTimeout = Timeout.InfiniteTimeSpan;
    private readonly TimeSpan _timeToLive = Timeout.InfiniteTimeSpan;
    private readonly TimeSpan _heartbeatInterval = Timeout.InfiniteTimeSpan;
    private readonly int _maxMissedHeartbeats = 3;
    private readonly string? _owner;
    private readonly string? _purpose;

    /// <summary>Options with every default: exclusive, normal priority, wait without limit, never expires.</summary>
    public static LeaseOptions Default { get; } = new();

    /// <summary>How the lease holds the resource. The default is <see cref="LeaseMode.Exclusive"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="LeaseMode"/>.</exception>
    public LeaseMode Mode
    {
        get => _mode;
        init => _mode = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Mode), value, $"Mode {value} is not a defined LeaseMode. Use Exclusive, Read, Write or UpgradeableRead.");
    }

    /// <summary>Urgency of the wait. The default is <see cref="LockPriority.Normal"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="LockPriority"/>.</exception>
    public LockPriority Priority
    {
        get => _priority;
        init => _priority = Enum.IsDefined(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Priority), value, $"Priority {value} is not a defined LockPriority. Use Low, Normal, High or Critical.");
    }

    /// <summary>
    /// Longest wait for the resource. <see cref="Timeout.InfiniteTimeSpan"/> (the default) waits
    /// without a limit; <see cref="TimeSpan.Zero"/> does not wait at all.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative and not infinite.</exception>
    public TimeSpan WaitTimeout
    {
        get => _waitTimeout;
        init => _waitTimeout = CheckNonNegativeOrInfinite(value, nameof(WaitTimeout), allowZero: true);
    }

    /// <summary>
    /// How long the lease lives without renewal. When it runs out the lease is lost: its
    /// <see cref="ResourceLease.LostToken"/> fires and the next waiter gets the resource.
    /// <see cref="Timeout.InfiniteTimeSpan"/> (the default) means the lease never expires, unless a
    /// heartbeat is set (see <see cref="HeartbeatInterval"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative and not infinite.</exception>
    public TimeSpan TimeToLive
    {
        get => _timeToLive;
        init => _timeToLive = CheckNonNegativeOrInfinite(value, nameof(TimeToLive), allowZero: false);
    }

    /// <summary>
    /// Interval at which the registry renews the lease to a full <see cref="TimeToLive"/>.
    /// <see cref="Timeout.InfiniteTimeSpan"/> (the default) means no heartbeat. With a heartbeat and
    /// no time-to-live, the time-to-live is the interval times (<see cref="MaxMissedHeartbeats"/> + 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero, negative and not infinite.</exception>
    public TimeSpan HeartbeatInterval
    {
        get => _heartbeatInterval;
        init => _heartbeatInterval = CheckNonNegativeOrInfinite(value, nameof(HeartbeatInterval), allowZero: false);
    }

    /// <summary>
    /// Number of renewals in a row that may fail (or still be in flight when the next one is due)
    /// before the lease counts as lost. Must be at least 1; the default is 3.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxMissedHeartbeats
    {
        get => _maxMissedHeartbeats;
        init => _maxMissedHeartbeats = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxMissedHeartbeats), value, $"MaxMissedHeartbeats must be at least 1, but was {value}. Use 1 to lose the lease at the first failed renewal.");
    }

    /// <summary>
    /// Who holds the lease, shown in snapshots and in the errors of other acquirers. When
    /// <see langword="null"/> (the default), the registry's <see cref="ResourceRegistryOptions.DefaultOwner"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The value is empty or longer than <see cref="MaxTextLength"/>.</exception>
    public string? Owner
    {
        get => _owner;
        init => _owner = CheckText(value, nameof(Owner));
    }

    /// <summary>Optional free text that explains why the lease is held, shown in snapshots and errors.</summary>
    /// <exception cref="ArgumentException">The value is longer than <see cref="MaxTextLength"/>.</exception>
    public string? Purpose
    {
        get => _purpose;
        init => _purpose = value is { Length: 0 } ? null : CheckText(value, nameof(Purpose));
    }

    /// <summary>Whether the lease can end without being released: it has a time-to-live or a heartbeat.</summary>
    internal bool Expires
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _timeToLive != Timeout.InfiniteTimeSpan || _heartbeatInterval != Timeout.InfiniteTimeSpan;
    }

    /// <summary>The time-to-live in force: explicit, derived from the heartbeat, or infinite.</summary>
    internal TimeSpan EffectiveTimeToLive
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _heartbeatInterval == Timeout.InfiniteTimeSpan ? _timeToLive : HeartbeatTimeToLive();
    }

    // Kept out of the inlined getter: only leases with a heartbeat get here.
    private TimeSpan HeartbeatTimeToLive() =>
        _timeToLive != Timeout.InfiniteTimeSpan ? _timeToLive : TimeSpan.FromTicks(_heartbeatInterval.Ticks * (_maxMissedHeartbeats + 1L));

    /// <summary>
    /// Checks the rules that involve more than one property. Called when the options are used.
    /// </summary>
    internal void Validate(string paramName)
    {
        if (_heartbeatInterval != Timeout.InfiniteTimeSpan && _timeToLive != Timeout.InfiniteTimeSpan && _heartbeatInterval >= _timeToLive)
        {
            throw new ArgumentException(
                $"HeartbeatInterval ({_heartbeatInterval}) must be shorter than TimeToLive ({_timeToLive}), or no renewal would arrive in time. " +
                "Shorten the interval (a third of the time-to-live is usual) or lengthen the time-to-live.",
                paramName + "." + nameof(HeartbeatInterval));
        }
    }

    private static TimeSpan CheckNonNegativeOrInfinite(TimeSpan value, string name, bool allowZero)
    {
        if (value == Timeout.InfiniteTimeSpan || value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero))
        {
            return value;
        }

        string least = allowZero ? "TimeSpan.Zero or more" : "more than TimeSpan.Zero";
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be {least}, or Timeout.InfiniteTimeSpan, but was {value}.");
    }

    private static string? CheckText(string? value, string name)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length == 0)
        {
            throw new ArgumentException($"{name} cannot be empty. Pass null to use the default.", name);
        }

        if (value.Length > MaxTextLength)
        {
            throw new ArgumentException($"{name} is {value.Length} characters long; at most {MaxTextLength} are accepted.", name);
        }

        return value;
    }
}
