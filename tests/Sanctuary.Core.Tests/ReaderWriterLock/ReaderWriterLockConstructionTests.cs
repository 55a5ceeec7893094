using System;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>Constructors, options and the state properties of a new lock.</summary>
public sealed class ReaderWriterLockConstructionTests
{
    [Fact]
    public void Constructor_NoOptions_WriterPreferenceGeneratedNameAndFreeState()
    {
        using var gate = new AsyncReaderWriterLock();

        Assert.Equal(ReaderWriterPreference.Writer, gate.Preference);
        Assert.StartsWith("AsyncReaderWriterLock#", gate.Name, StringComparison.Ordinal);
        Assert.Equal(0, gate.CurrentReadCount);
        Assert.False(gate.IsWriteHeld);
        Assert.False(gate.IsUpgradeableReadHeld);
        Assert.Equal(0, gate.WaitingCount);
        Assert.False(gate.IsDisposed);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void Constructor_NullOptions_SameAsDefaults()
    {
        using var gate = new AsyncReaderWriterLock(null);

        Assert.Equal(ReaderWriterPreference.Writer, gate.Preference);
        Assert.StartsWith("AsyncReaderWriterLock#", gate.Name, StringComparison.Ordinal);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void Constructor_TwoLocksWithoutNames_GetDistinctNames()
    {
        using var first = new AsyncReaderWriterLock();
        using var second = new AsyncReaderWriterLock();

        Assert.NotEqual(first.Name, second.Name);
    }

    [Theory]
    [InlineData(ReaderWriterPreference.Writer)]
    [InlineData(ReaderWriterPreference.Reader)]
    public void Constructor_Options_NameAndPreferenceAreKept(ReaderWriterPreference preference)
    {
        using var gate = new AsyncReaderWriterLock(new AsyncReaderWriterLockOptions { Name = "inventory", Preference = preference });

        Assert.Equal("inventory", gate.Name);
        Assert.Equal(preference, gate.Preference);
        ReaderWriterLockAssert.IsFree(gate);
    }

    [Fact]
    public void Options_Defaults_WriterPreferenceSystemClockNoName()
    {
        var options = new AsyncReaderWriterLockOptions();

        Assert.Null(options.Name);
        Assert.Equal(ReaderWriterPreference.Writer, options.Preference);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void Options_TimeProvider_KeepsTheGivenClock()
    {
        var clock = new FakeTimeProvider();

        var options = new AsyncReaderWriterLockOptions { TimeProvider = clock };

        Assert.Same(clock, options.TimeProvider);
    }

    [Fact]
    public void Options_NullTimeProvider_ThrowsArgumentNullExceptionThatSaysWhatToPass()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new AsyncReaderWriterLockOptions { TimeProvider = null! });

        Assert.Equal("TimeProvider", error.ParamName);
        Assert.Contains("TimeProvider.System", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PreferenceEnum_WriterIsTheDefaultValue()
    {
        Assert.Equal(ReaderWriterPreference.Writer, default(ReaderWriterPreference));
        Assert.Equal(new[] { ReaderWriterPreference.Writer, ReaderWriterPreference.Reader }, Enum.GetValues<ReaderWriterPreference>());
    }
}
