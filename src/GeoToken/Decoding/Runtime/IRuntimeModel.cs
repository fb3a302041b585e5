namespace GeoToken.Decoding;

/// <summary>
/// A GeoToken model loaded on a runtime (<see cref="IGeoTokenRuntime.Open"/>): runs the encoder once per batch
/// (<see cref="Encode"/>); greedy decoding, beam searches, candidate pools and pool scorers then decode from the kept
/// encoder output (<see cref="IEncodedBatch.Decode"/>) with the runtime-neutral <see cref="TokenSearch"/>.
/// </summary>
/// <remarks>Encoding and decoding are serialised on the model (a runtime uses every core within a run). Owns the runtime's resources: dispose it.</remarks>
public interface IRuntimeModel : IDisposable
{
    /// <summary>The runtime's name (<see cref="IGeoTokenRuntime.Name"/>).</summary>
    string Runtime { get; }

    /// <summary>The model as loaded (a file or folder).</summary>
    string Path { get; }

    /// <summary>What the model reads and writes.</summary>
    RuntimeModelInfo Info { get; }

    /// <summary>Runs the encoder for a batch of queries with their neighbors and keeps its output for decoding.</summary>
    /// <param name="inputs">The batch.</param>
    /// <param name="cancellationToken">Cancels the encoder.</param>
    /// <returns>The kept encoder output; the caller owns and disposes it.</returns>
    /// <exception cref="ArgumentException">The inputs do not fit the model (lengths, token values); the message names the element.</exception>
    IEncodedBatch Encode(EncoderInputs inputs, CancellationToken cancellationToken = default);
}
