using System;
using System.CommandLine;
using System.Threading.Tasks;

namespace Sanctuary.Demo;

/// <summary>
/// Entry point: parses the options and runs the selected sections. Exits with 0 when every
/// invariant check passed, 1 when one failed or the options were invalid.
/// </summary>
internal static class Program
{
    public static Task<int> Main(string[] args)
    {
        RootCommand root = DemoCommand.Create(DemoRunner.RunAsync);

        // Ctrl+C cancels the action's token, which stops the running section early. The default two
        // seconds before System.CommandLine ends the process can be too short on a loaded machine to
        // drain the workers and print the report, and a hung run needs two grace periods.
        var invocation = new InvocationConfiguration
        {
            ProcessTerminationTimeout = (2 * Workload.ShutdownGrace) + TimeSpan.FromSeconds(5),
        };
        return root.Parse(args).InvokeAsync(invocation);
    }
}
