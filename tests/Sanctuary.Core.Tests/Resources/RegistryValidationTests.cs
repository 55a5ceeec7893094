using System;
using System.Threading;
using System.Threading.Tasks;
using Sanctuary.Resources;
using Xunit;

namespace Sanctuary.Tests.Resources;

/// <summary>Bad ids and bad options are refused with an exception that names the field.</summary>
public sealed class RegistryValidationTests
{
    [Fact]
    public async Task AcquireAsync_NullId_Throws()
    {
        using var registry = new ResourceRegistry();
        var error = await Assert.ThrowsAsync<ArgumentNullException>(async () => await registry.AcquireAsync(null!));
        Assert.Equal("resourceId", error.ParamName);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task AcquireAsync_EmptyId_Throws()
    {
        using var registry = new ResourceRegistry();
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await registry.AcquireAsync(string.Empty));
        Assert.Equal("resourceId", error.ParamName);
    }

    [Fact]
    public async Task AcquireAsync_IdTooLong_Throws()
    {
        using var registry = new ResourceRegistry();
        string tooLong = new('k', ResourceRegistry.MaxResourceIdLength + 1);
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await registry.AcquireAsync(tooLong));
        Assert.Equal("resourceId", error.ParamName);
        Assert.Contains(ResourceRegistry.MaxResourceIdLength.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
    }

    [Fact]
    public async Task AcquireAsync_IdAtMaximumLength_IsAccepted()
    {
        using var registry = new ResourceRegistry();
        string longest = new('k', ResourceRegistry.MaxResourceIdLength);
        await using ResourceLease lease = await registry.AcquireAsync(longest);
        Assert.True(lease.IsHeld);
    }

    [Theory]
    [InlineData("WaitTimeout")]
    [InlineData("TimeToLive")]
    [InlineData("HeartbeatInterval")]
    [InlineData("MaxMissedHeartbeats")]
    [InlineData("Mode")]
    [InlineData("Priority")]
    [InlineData("Owner")]
    [InlineData("Purpose")]
    public void LeaseOptions_InvalidValue_ThrowsArgumentExceptionNamingTheField(string field)
    {
        Action set = field switch
        {
            "WaitTimeout" => () => _ = new LeaseOptions { WaitTimeout = TimeSpan.FromSeconds(-2) },
            "TimeToLive" => () => _ = new LeaseOptions { TimeToLive = TimeSpan.Zero },
            "HeartbeatInterval" => () => _ = new LeaseOptions { HeartbeatInterval = TimeSpan.FromSeconds(-1) },
            "MaxMissedHeartbeats" => () => _ = new LeaseOptions { MaxMissedHeartbeats = 0 },
            "Mode" => () => _ = new LeaseOptions { Mode = (LeaseMode)42 },
            "Priority" => () => _ = new LeaseOptions { Priority = (LockPriority)(-1) },
            "Owner" => () => _ = new LeaseOptions { Owner = string.Empty },
            _ => () => _ = new LeaseOptions { Purpose = new string('p', LeaseOptions.MaxTextLength + 1) },
        };

        var error = Assert.ThrowsAny<ArgumentException>(set);
        Assert.Equal(field, error.ParamName);
        Assert.Contains(field, error.Message);
    }

    [Fact]
    public async Task AcquireAsync_HeartbeatTooLong_Throws()
    {
        using var registry = new ResourceRegistry();
        var options = new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromSeconds(1) };
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await registry.AcquireAsync("k", options));
        Assert.Equal("options.HeartbeatInterval", error.ParamName);
        Assert.Contains("TimeToLive", error.Message);
        Assert.Equal(0, registry.ResourceCount);
    }

    [Fact]
    public async Task AcquireAllAsync_InvalidId_NamesPosition()
    {
        using var registry = new ResourceRegistry();
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await registry.AcquireAllAsync(new[] { "a", string.Empty }));
        Assert.Equal("resourceIds[1]", error.ParamName);
    }

    [Fact]
    public async Task AcquireAllAsync_EmptySet_Throws()
    {
        using var registry = new ResourceRegistry();
        await Assert.ThrowsAsync<ArgumentException>(async () => await registry.AcquireAllAsync(Array.Empty<string>()));
    }

    [Fact]
    public void RetryPolicy_InvalidValues_ThrowNamingTheField()
    {
        Assert.Equal("MaxAttempts", Assert.ThrowsAny<ArgumentException>(() => new RetryPolicy { MaxAttempts = 0 }).ParamName);
        Assert.Equal("Jitter", Assert.ThrowsAny<ArgumentException>(() => new RetryPolicy { Jitter = 1.5 }).ParamName);
        Assert.Equal("Multiplier", Assert.ThrowsAny<ArgumentException>(() => new RetryPolicy { Multiplier = 0.5 }).ParamName);
        Assert.Equal("AttemptTimeout", Assert.ThrowsAny<ArgumentException>(() => new RetryPolicy { AttemptTimeout = TimeSpan.Zero }).ParamName);
    }

    [Fact]
    public void RegistryOptions_InvalidValues_ThrowNamingTheField()
    {
        Assert.Equal("TimeProvider", Assert.ThrowsAny<ArgumentException>(() => new ResourceRegistryOptions { TimeProvider = null! }).ParamName);
        Assert.Equal("DefaultOwner", Assert.ThrowsAny<ArgumentException>(() => new ResourceRegistryOptions { DefaultOwner = string.Empty }).ParamName);
        Assert.Equal("StoreRetryInterval", Assert.ThrowsAny<ArgumentException>(() => new ResourceRegistryOptions { StoreRetryInterval = TimeSpan.Zero }).ParamName);
    }

    [Fact]
    public async Task ReserveAsync_AmountAboveTotal_FailsAtOnceNotAfterTimeout()
    {
        using var registry = new ResourceRegistry();
        registry.RegisterPool("gpu", 4, "slots");
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await registry.ReserveAsync("gpu", 5));
        Assert.Equal("amount", error.ParamName);
        Assert.Contains("'gpu'", error.Message);
    }

    [Fact]
    public async Task ReserveAsync_UnknownPool_ThrowsNamingThePool()
    {
        using var registry = new ResourceRegistry();
        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await registry.ReserveAsync("nope", 1));
        Assert.Equal("poolId", error.ParamName);
        Assert.Contains("RegisterPool", error.Message);
    }

    [Fact]
    public async Task AcquireAsync_AfterDispose_ThrowsObjectDisposed()
    {
        var registry = new ResourceRegistry();
        registry.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await registry.AcquireAsync("k"));
        Assert.Throws<ObjectDisposedException>(() => registry.GetHandle("k"));
    }

    [Fact]
    public async Task AcquireAsync_AlreadyCancelledToken_ThrowsAndHoldsNothing()
    {
        using var registry = new ResourceRegistry();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await registry.AcquireAsync("k", cancellationToken: cancelled.Token));
        Assert.Equal(0, registry.ResourceCount);
    }
}
