namespace GeoToken.Reranking;

/// <summary>A reranker could not produce an order; the message says why (recorded by <see cref="FallbackReranker"/>).</summary>
public sealed class RerankerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RerankerException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
