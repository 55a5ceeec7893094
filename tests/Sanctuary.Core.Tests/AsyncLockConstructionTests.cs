using System;
using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace Sanctuary.Tests;

public sealed class AsyncLockConstructionTests
{
    [Fact]
    public void Constructor_Parameterless_CreatesFreeFifoLockWithGeneratedName()
    {
        using var gate = new AsyncLock();

        Assert.False(string.IsNullOrWhiteSpace(gate.Name));
        Assert.Equal(LockFairness.Fifo, gate.Fairness);
        Assert.False(gate.IsHeld);
        Assert.Equal(0, gate.WaitingCount);
        Assert.False(gate.IsDisposed);
    }

    [Fact]
    public void Constructor_NullOptions_BehavesLikeDefaults()
    {
        using var gate = new AsyncLock(null);

        Assert.False(string.IsNullOrWhiteSpace(gate.Name));
        Assert.Equal(LockFairness.Fifo, gate.Fairness);
        Assert.False(gate.IsHeld);
    }

    [Fact]
    public void Constructor_Options_TakesNameAndFairness()
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Name = "audit", Fairness = LockFairness.Throughput });

        Assert.Equal("audit", gate.Name);
        Assert.Equal(LockFairness.Throughput, gate.Fairness);
    }

    [Fact]
    public void Name_TwoUnnamedLocks_GetDistinctGeneratedNames()
    {
        using var first = new AsyncLock();
        using var second = new AsyncLock();

        Assert.NotEqual(first.Name, second.Name);
    }

    [Theory]
    [InlineData(typeof(AsyncLock))]
    [InlineData(typeof(AsyncLock.Lease))]
    public void DebuggerDisplay_Attribute_IsPresentAndNamesExistingMembers(Type type)
    {
        var attribute = type.GetCustomAttribute<DebuggerDisplayAttribute>();

        Assert.NotNull(attribute);
        Assert.False(string.IsNullOrWhiteSpace(attribute.Value));
        foreach (Match expression in Regex.Matches(attribute.Value, @"\{([A-Za-z_][A-Za-z0-9_]*)(,nq)?\}"))
        {
            string member = expression.Groups[1].Value;
            const BindingFlags Any = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
            Assert.True(type.GetMember(member, Any).Length > 0, $"DebuggerDisplay of {type.Name} refers to missing member '{member}'.");
        }
    }

    [Fact]
    public void DebuggerDisplay_Text_NamesLockAndState()
    {
        using var gate = new AsyncLock(new AsyncLockOptions { Name = "shown-in-debugger" });
        var attribute = typeof(AsyncLock).GetCustomAttribute<DebuggerDisplayAttribute>()!;
        Match simple = Regex.Match(attribute.Value, @"^\{([A-Za-z_][A-Za-z0-9_]*)(,nq)?\}$");
        if (!simple.Success)
        {
            // Only a display that delegates to one member can be evaluated without a debugger.
            return;
        }

        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        string Render() => Convert.ToString(typeof(AsyncLock).GetProperty(simple.Groups[1].Value, Any)!.GetValue(gate), System.Globalization.CultureInfo.InvariantCulture)!;

        string free = Render();
        Assert.True(gate.TryAcquire(out AsyncLock.Lease lease));
        string held = Render();
        lease.Dispose();

        Assert.Contains("shown-in-debugger", free, StringComparison.Ordinal);
        Assert.NotEqual(free, held);
    }
}
