using System;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Sanctuary.Tests;

public sealed class AsyncLockOptionsTests
{
    [Fact]
    public void Defaults_NewOptions_MatchDocumentedValues()
    {
        var options = new AsyncLockOptions();

        Assert.Null(options.Name);
        Assert.Equal(LockFairness.Fifo, options.Fairness);
        Assert.Equal(4, options.MaxPassOvers);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void Init_AllProperties_RoundTrip()
    {
        var clock = new FakeTimeProvider();

        var options = new AsyncLockOptions
        {
            Name = "ledger",
            Fairness = LockFairness.Throughput,
            MaxPassOvers = 9,
            TimeProvider = clock,
        };

        Assert.Equal("ledger", options.Name);
        Assert.Equal(LockFairness.Throughput, options.Fairness);
        Assert.Equal(9, options.MaxPassOvers);
        Assert.Same(clock, options.TimeProvider);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void MaxPassOvers_BelowOne_ThrowsArgumentOutOfRangeNamingValue(int value)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new AsyncLockOptions { MaxPassOvers = value });

        Assert.Equal(nameof(AsyncLockOptions.MaxPassOvers), error.ParamName);
        Assert.Contains(value.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxPassOvers_One_IsAccepted()
    {
        var options = new AsyncLockOptions { MaxPassOvers = 1 };

        Assert.Equal(1, options.MaxPassOvers);
    }

    [Fact]
    public void TimeProvider_Null_ThrowsArgumentNull()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new AsyncLockOptions { TimeProvider = null! });

        Assert.Equal(nameof(AsyncLockOptions.TimeProvider), error.ParamName);
    }
}
