using System;
using System.Globalization;
using System.Threading.Tasks;
using Sanctuary.Redis;
using Sanctuary.Resources;
using StackExchange.Redis;

namespace Sanctuary.Redis.ProcessHelper;

/// <summary>
/// One contender of the two-process test: acquires a resource through a Redis lease store a
/// number of times, and inside each hold increments a counter with a separate read and write, which
/// only mutual exclusion keeps from losing updates. Prints one line per hold: "token N".
/// </summary>
/// <remarks>
/// Usage: <c>Sanctuary.Redis.ProcessHelper 127.0.0.1:PORT KEY_PREFIX RESOURCE ITERATIONS COUNTER_KEY</c>.
/// Only loopback endpoints are accepted. Exit codes: 0 done, 2 bad arguments, 3 an acquire failed.
/// </remarks>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length != 5 || !args[0].StartsWith("127.0.0.1:", StringComparison.Ordinal)
            || !int.TryParse(args[3], NumberStyles.None, CultureInfo.InvariantCulture, out int iterations) || iterations < 1 || iterations > 10_000)
        {
            Console.Error.WriteLine("Usage: Sanctuary.Redis.ProcessHelper 127.0.0.1:PORT KEY_PREFIX RESOURCE ITERATIONS(1-10000) COUNTER_KEY");
            return 2;
        }

        string endPoint = args[0];
        string prefix = args[1];
        string resource = args[2];
        string counterKey = args[4];
        string owner = "helper/" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

        await using RedisLeaseStore store = await RedisLeaseStore.ConnectAsync(endPoint + ",connectTimeout=3000", new RedisLeaseStoreOptions { KeyPrefix = prefix });
        using var registry = new ResourceRegistry(new ResourceRegistryOptions { Store = store, DefaultOwner = owner, StoreRetryInterval = TimeSpan.FromMilliseconds(5) });
        IDatabase database = store.Connection.GetDatabase();
        var options = new LeaseOptions { TimeToLive = TimeSpan.FromSeconds(10), WaitTimeout = TimeSpan.FromSeconds(30), Purpose = "two-process test" };

        for (int i = 0; i < iterations; i++)
        {
            ResourceLease lease;
            try
            {
                lease = await registry.AcquireAsync(resource, options);
            }
            catch (Exception error) when (error is ResourceUnavailableException or RedisLeaseStoreException)
            {
                Console.Error.WriteLine($"Acquire {i} of '{resource}' failed: {error.Message}");
                return 3;
            }

            await using (lease)
            {
                long value = (long)await database.StringGetAsync(counterKey);
                await Task.Delay(1);
                await database.StringSetAsync(counterKey, value + 1);
                Console.WriteLine("token " + lease.FencingToken.ToString(CultureInfo.InvariantCulture));
            }
        }

        return 0;
    }
}
