using System;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Sanctuary.Redis;

/// <summary>
/// Turns a connection string into StackExchange.Redis configuration, and formats endpoints for messages.
/// </summary>
internal static class RedisConnectionSettings
{
    /// <summary>
    /// Parses a StackExchange.Redis configuration string (<c>host:port,option=value,...</c>) or a
    /// URI (<c>redis://[user:password@]host[:port][/database]</c>, or <c>rediss://</c> for TLS), and
    /// applies the defaults a lease store wants on a connection it creates itself.
    /// </summary>
    public static ConfigurationOptions Parse(string configuration, string paramName)
    {
        ArgumentNullException.ThrowIfNull(configuration, paramName);
        if (string.IsNullOrWhiteSpace(configuration))
        {
            throw new ArgumentException("The Redis connection string is empty. Pass one such as \"127.0.0.1:6379\" or \"redis://127.0.0.1:6379/0\".", paramName);
        }

        ConfigurationOptions options;
        if (configuration.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || configuration.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            options = ParseUri(configuration, paramName);
        }
        else
        {
            try
            {
                options = ConfigurationOptions.Parse(configuration);
            }
            catch (ArgumentException error)
            {
                throw new ArgumentException($"The Redis connection string is invalid: {error.Message}", paramName, error);
            }

            if (options.EndPoints.Count == 0)
            {
                throw new ArgumentException("The Redis connection string names no server. Start it with host:port, such as \"127.0.0.1:6379\".", paramName);
            }
        }

        // A lock store must not queue commands while disconnected: an acquire that ran seconds
        // later than sent would hold a lease nobody waits for, and callers would wait out the
        // full timeout instead of learning at once that the server is gone.
        options.BacklogPolicy = BacklogPolicy.FailFast;

        // Start even when the server is down and reconnect in the background; operations fail
        // with a clear error until it responds. An explicit abortConnect in the string wins.
        if (configuration.IndexOf("abortConnect", StringComparison.OrdinalIgnoreCase) < 0)
        {
            options.AbortOnConnectFail = false;
        }

        options.ClientName ??= "Sanctuary.Redis";
        return options;
    }

    /// <summary>Formats endpoints as <c>host:port</c>, separated by commas.</summary>
    public static string Describe(EndPoint[] endPoints)
    {
        if (endPoints.Length == 0)
        {
            return "(no endpoint)";
        }

        var parts = new string[endPoints.Length];
        for (int i = 0; i < endPoints.Length; i++)
        {
            parts[i] = endPoints[i] switch
            {
                IPEndPoint ip => ip.ToString(),
                DnsEndPoint dns => dns.Host + ":" + dns.Port.ToString(CultureInfo.InvariantCulture),
                EndPoint other => other.ToString() ?? "(unknown)",
            };
        }

        return string.Join(", ", parts);
    }

    private static ConfigurationOptions ParseUri(string configuration, string paramName)
    {
        if (!Uri.TryCreate(configuration, UriKind.Absolute, out Uri? uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException("The Redis URI is invalid. Use redis://host:port/database, such as \"redis://127.0.0.1:6379/0\".", paramName);
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ArgumentException(
                "The Redis URI has a query or fragment, which is not supported. Use a StackExchange.Redis configuration string for further options, such as \"127.0.0.1:6379,connectTimeout=2000\".",
                paramName);
        }

        var options = new ConfigurationOptions
        {
            Ssl = string.Equals(uri.Scheme, "rediss", StringComparison.OrdinalIgnoreCase),
        };
        int port = uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port;
        options.EndPoints.Add(uri.Host, port);

        string path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int database))
            {
                throw new ArgumentException($"The Redis URI names database '{path}'; the path must be a database number, such as /0.", paramName);
            }

            options.DefaultDatabase = database;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            // Clients disagree on whether "redis://word@host" names a user or a password, so only
            // the unambiguous forms are accepted.
            string[] parts = uri.UserInfo.Split(':', 2);
            if (parts.Length != 2)
            {
                throw new ArgumentException(
                    "The Redis URI has user information without a colon. Write redis://:password@host for a password alone, or redis://user:password@host.",
                    paramName);
            }

            options.User = parts[0].Length == 0 ? null : Uri.UnescapeDataString(parts[0]);
            options.Password = Uri.UnescapeDataString(parts[1]);
        }

        return options;
    }
}
