using System;

namespace Sanctuary.Resources;

/// <summary>
/// The registry's view of time: timestamps in its own units, conversion to spans and to UTC.
/// </summary>
/// <remarks>
/// With <see cref="TimeProvider.System"/> the timestamps come from
/// <see cref="Environment.TickCount64"/> (milliseconds), because every acquire reads the clock
/// and the coarse clock costs a few nanoseconds where the high-resolution one costs tens;
/// lease times need no better than millisecond resolution. Any other provider (a fake clock in
/// tests) is read through <see cref="TimeProvider.GetTimestamp"/>, so it drives everything.
/// </remarks>
internal sealed class RegistryClock
{
    private readonly TimeProvider _provider;
    private readonly bool _coarse;
    private readonly long _frequency;
    private readonly long _baseTimestamp;
    private readonly DateTimeOffset _baseUtc;

    public RegistryClock(TimeProvider provider)
    {
        _provider = provider;
        _coarse = ReferenceEquals(provider, TimeProvider.System);
        _frequency = _coarse ? 1000 : provider.TimestampFrequency;
        _baseTimestamp = Now();
        _baseUtc = provider.GetUtcNow();
    }

    public TimeProvider Provider => _provider;

    public long Now() => _coarse ? Environment.TickCount64 : _provider.GetTimestamp();

    public TimeSpan ToSpan(long ticks) =>
        _frequency == TimeSpan.TicksPerSecond ? TimeSpan.FromTicks(ticks) : TimeSpan.FromTicks((long)(ticks * ((double)TimeSpan.TicksPerSecond / _frequency)));

    public long ToTicks(TimeSpan span)
    {
        double ticks = span.Ticks * ((double)_frequency / TimeSpan.TicksPerSecond);
        return ticks >= long.MaxValue / 2 ? long.MaxValue / 2 : (long)Math.Ceiling(ticks);
    }

    /// <summary>The deadline <paramref name="span"/> after <paramref name="now"/>, or <see cref="long.MaxValue"/> for infinite.</summary>
    public long After(long now, TimeSpan span) =>
        span == System.Threading.Timeout.InfiniteTimeSpan ? long.MaxValue : now + ToTicks(span);

    public DateTimeOffset ToUtc(long timestamp) => _baseUtc + ToSpan(timestamp - _baseTimestamp);

    public DateTimeOffset? ToUtcOrNull(long timestamp) => timestamp == long.MaxValue ? null : ToUtc(timestamp);

    public TimeSpan Since(long timestamp) => ToSpan(Math.Max(0, Now() - timestamp));
}
