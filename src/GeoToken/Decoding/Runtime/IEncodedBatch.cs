namespace GeoToken.Decoding;

/// <summary>
/// A batch after the encoder on some runtime (<see cref="IRuntimeModel.Encode"/>): every decoding of the batch — greedy,
/// beams, the pool, a pool scorer — starts a fresh <see cref="IDecoderSession"/> from it, so the encoder runs once per
/// batch however many searches follow.
/// </summary>
/// <remarks>Owns the kept encoder output: dispose it.</remarks>
public interface IEncodedBatch : IDisposable
{
    /// <summary>The model that encoded the batch.</summary>
    IRuntimeModel Model { get; }

    /// <summary>Queries in the batch.</summary>
    int Count { get; }

    /// <summary>
    /// Runs <paramref name="search"/> on a fresh session (position 0, one row per query) over the kept encoder output,
    /// serialised on the model; the session is released afterwards.
    /// </summary>
    /// <typeparam name="T">The search's result.</typeparam>
    /// <param name="search">E.g. <c>s =&gt; tokenSearch.Run(s, plan, keys, ct)</c>.</param>
    /// <param name="cancellationToken">Checked before the session starts (the search checks it between positions).</param>
    /// <exception cref="ObjectDisposedException">The batch or its model has been disposed.</exception>
    T Decode<T>(Func<IDecoderSession, T> search, CancellationToken cancellationToken = default);
}
