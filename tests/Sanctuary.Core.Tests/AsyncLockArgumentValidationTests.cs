using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Tests.Infrastructure;
using Xunit;

namespace Sanctuary.Tests;

public sealed class AsyncLockArgumentValidationTests
{
    public static TheoryData<string, bool> NegativeTimeSpans => new()
    {
        { "-00:00:00.0020000", false },
        { "-00:00:00.0020000", true },
        { "-00:00:00.0000001", false },
        { "-1.00:00:00", true },
        { "-10675199.02:48:05.4775808", false },
    };

    public static TheoryData<int, bool> NegativeMilliseconds => new()
    {
        { -2, false },
        { -2, true },
        { int.MinValue, false },
        { -1000, true },
    };

    private static void AssertNamesValue(ArgumentOutOfRangeException error, TimeSpan value)
    {
        Assert.Equal("timeout", error.ParamName);
        Assert.True(
            Durations.IsMentionedIn(error.Message, value) || error.Message.Contains(value.Ticks.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal),
            $"The message does not name the rejected value {value}: {error.Message}");
    }

    private static void AssertNamesValue(ArgumentOutOfRangeException error, int value)
    {
        Assert.Equal("millisecondsTimeout", error.ParamName);
        Assert.Contains(value.ToString(CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NegativeTimeSpans))]
    public async Task AsyncForms_NegativeTimeSpan_ThrowArgumentOutOfRangeNamingValue(string text, bool lockHeld)
    {
        TimeSpan value = TimeSpan.Parse(text, CultureInfo.InvariantCulture);
        using var gate = new AsyncLock();
        AsyncLock.Lease holder = default;
        Assert.True(!lockHeld || gate.TryAcquire(out holder));

        var acquire = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await gate.AcquireAsync(value));
        var tryAcquire = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await gate.TryAcquireAsync(value));

        AssertNamesValue(acquire, value);
        AssertNamesValue(tryAcquire, value);
        Assert.Equal(lockHeld, gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(NegativeMilliseconds))]
    public async Task AsyncForms_NegativeMilliseconds_ThrowArgumentOutOfRangeNamingValue(int value, bool lockHeld)
    {
        using var gate = new AsyncLock();
        AsyncLock.Lease holder = default;
        Assert.True(!lockHeld || gate.TryAcquire(out holder));

        var acquire = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await gate.AcquireAsync(value));
        var tryAcquire = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await gate.TryAcquireAsync(value));

        AssertNamesValue(acquire, value);
        AssertNamesValue(tryAcquire, value);
        Assert.Equal(lockHeld, gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(NegativeTimeSpans))]
    public void SyncForms_NegativeTimeSpan_ThrowArgumentOutOfRangeNamingValue(string text, bool lockHeld)
    {
        TimeSpan value = TimeSpan.Parse(text, CultureInfo.InvariantCulture);
        using var gate = new AsyncLock();
        AsyncLock.Lease holder = default;
        Assert.True(!lockHeld || gate.TryAcquire(out holder));

        var acquire = Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncLock.Scope scope = gate.Acquire(value); });
        var tryAcquire = Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncLock.Scope scope = gate.TryAcquire(value); });

        AssertNamesValue(acquire, value);
        AssertNamesValue(tryAcquire, value);
        Assert.Equal(lockHeld, gate.IsHeld);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Theory]
    [MemberData(nameof(NegativeMilliseconds))]
    public void SyncForms_NegativeMilliseconds_ThrowArgumentOutOfRangeNamingValue(int value, bool lockHeld)
    {
        using var gate = new AsyncLock();
        AsyncLock.Lease holder = default;
        Assert.True(!lockHeld || gate.TryAcquire(out holder));

        var acquire = Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncLock.Scope scope = gate.Acquire(value); });
        var tryAcquire = Assert.Throws<ArgumentOutOfRangeException>(() => { using AsyncLock.Scope scope = gate.TryAcquire(value); });

        AssertNamesValue(acquire, value);
        AssertNamesValue(tryAcquire, value);
        Assert.Equal(lockHeld, gate.IsHeld);
        holder.Dispose();
        LockAssert.IsFree(gate);
    }

    [Fact]
    public async Task MinusOne_BothForms_MeansNoTimeout()
    {
        using var gate = new AsyncLock();

        AsyncLock.Lease byInt = await gate.AcquireAsync(-1);
        byInt.Dispose();
        AsyncLock.Lease byTimeSpan = await gate.TryAcquireAsync(TimeSpan.FromMilliseconds(-1));
        Assert.True(byTimeSpan.IsHeld);
        byTimeSpan.Dispose();
        using (AsyncLock.Scope scope = gate.Acquire(Timeout.InfiniteTimeSpan))
        {
            Assert.True(scope.IsHeld);
        }

        using (AsyncLock.Scope scope = gate.TryAcquire(-1))
        {
            Assert.True(scope.IsHeld);
        }

        LockAssert.IsFree(gate);
    }
}
