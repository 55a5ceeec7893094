using System;
using System.Text;
using StackExchange.Redis;

namespace Sanctuary.Redis;

/// <summary>
/// The Redis key names of one resource. Every key is <c>prefix{tag}:suffix</c>, where the tag is
/// the resource id with <c>%</c>, <c>{</c> and <c>}</c> percent-encoded, so the tag is the same for
/// every key of the resource and Redis Cluster puts them all in one hash slot, whatever
/// characters the id contains.
/// </summary>
internal readonly struct ResourceKeys
{
    private readonly string _stem;

    private ResourceKeys(string stem)
    {
        _stem = stem;
        Exclusive = stem + "x";
        Holders = stem + "h";
        Expiries = stem + "e";
        Waiters = stem + "w";
        Line = stem + "q";
        Fencing = stem + "f";
    }

    /// <summary>String that holds the exclusive or write lease's record.</summary>
    public RedisKey Exclusive { get; }

    /// <summary>Hash of shared holders' records and counters.</summary>
    public RedisKey Holders { get; }

    /// <summary>Sorted set of shared holders by expiry.</summary>
    public RedisKey Expiries { get; }

    /// <summary>Sorted set of waiters in line, by when their place lapses.</summary>
    public RedisKey Waiters { get; }

    /// <summary>Sorted set of waiters in line, by when they joined it.</summary>
    public RedisKey Line { get; }

    /// <summary>Fencing counter.</summary>
    public RedisKey Fencing { get; }

    /// <summary>Name of the channel on which releases of the resource are published.</summary>
    public string ChannelName => _stem + "released";

    /// <summary>The release channel, for subscribing. Built on demand: only waiters need it.</summary>
    public RedisChannel Channel => RedisChannel.Literal(ChannelName);

    public static ResourceKeys For(string prefix, string resourceId) => new(prefix + "{" + Tag(resourceId) + "}:");

    /// <summary>Encodes the id for use inside the hash tag. Ids without the three characters are returned as they are.</summary>
    public static string Tag(string resourceId)
    {
        if (resourceId.AsSpan().IndexOfAny('%', '{', '}') < 0)
        {
            return resourceId;
        }

        var builder = new StringBuilder(resourceId.Length + 8);
        foreach (char c in resourceId)
        {
            switch (c)
            {
                case '%':
                    builder.Append("%25");
                    break;
                case '{':
                    builder.Append("%7B");
                    break;
                case '}':
                    builder.Append("%7D");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }
}
