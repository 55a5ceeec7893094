using System;
using FsCheck;
using FsCheck.Fluent;
using Sanctuary.Tests.Infrastructure;
using Sanctuary.Tests.Model;
using Xunit;
using Xunit.Abstractions;

namespace Sanctuary.Tests.ReaderWriterLock;

/// <summary>
/// The reader-writer checks run against a lock with one deliberate defect each and must report
/// it: a check that passes on a broken lock proves nothing on a correct one.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ReaderWriterSeededFaultTests
{
    private static readonly TimeSpan s_shortSettle = TimeSpan.FromMilliseconds(100);
    private readonly ITestOutputHelper _output;

    public ReaderWriterSeededFaultTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Theory]
    [InlineData("AdmitReadersPastWaitingWriter")]
    [InlineData("SkipDispatchOnWriterGiveUp")]
    [InlineData("GrantWriterWithReaders")]
    [InlineData("UpgradeIgnoresReaders")]
    [InlineData("UpgradeYieldsToWaitingWriters")]
    public void ModelProperty_BrokenLock_FindsCounterExample(string faultName)
    {
        var fault = Enum.Parse<ReaderWriterLockFaults>(faultName);
        Property property = Prop.ForAll(
            ReaderWriterOperationArbitrary.SequencesWithoutShrinking(),
            sequence => ReaderWriterModelRunner.Run(sequence, fault, s_shortSettle));

        Exception? failure = Record.Exception(() => property.Check(Config.QuickThrowOnFailure.WithMaxTest(1000).WithQuietOnSuccess(true)));

        Assert.NotNull(failure);
        _output.WriteLine(failure.Message);
        Assert.Contains(nameof(ModelMismatchException), failure.Message, StringComparison.Ordinal);
    }
}
