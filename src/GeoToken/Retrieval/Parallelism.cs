using System.Runtime.ExceptionServices;

namespace GeoToken.Retrieval;

/// <summary><see cref="Parallel"/> loops that rethrow the original exception (the lowest-row <see cref="InvalidVectorException"/> if several) instead of an <see cref="AggregateException"/>.</summary>
internal static class Parallelism
{
    public static void For(long count, int threads, CancellationToken cancellationToken, Action<long> body)
    {
        if (count <= 0) return;
        if (threads <= 1 || count == 1)
        {
            for (long i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                body(i);
            }

            return;
        }

        var options = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        try
        {
            Parallel.For(0L, count, options, i => body(i));
        }
        catch (AggregateException e)
        {
            var inner = e.Flatten().InnerExceptions;
            Exception first = inner.OfType<InvalidVectorException>().MinBy(x => x.Row) ?? inner[0];
            ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
    }

    /// <summary>Runs <paramref name="body"/> on <paramref name="count"/> items with a per-thread state from <paramref name="rent"/>, returned with <paramref name="giveBack"/>.</summary>
    public static void For<TState>(long count, int threads, CancellationToken cancellationToken, Func<TState> rent, Action<TState> giveBack, Action<long, TState> body)
    {
        For(count, threads, cancellationToken, i =>
        {
            var state = rent();
            try
            {
                body(i, state);
            }
            finally
            {
                giveBack(state);
            }
        });
    }
}
