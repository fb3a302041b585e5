using static TorchSharp.torch;

namespace GeoToken.Model.Decoding;

/// <summary>
/// The state of KV-cached incremental decoding for a batch, from <see cref="GeoTokenModel.BeginDecoding(GeoTokenBatch)"/>:
/// every decoder layer's cross-attention keys/values of the encoder memory (computed once) and its
/// self-attention key/value cache (filled one position per <see cref="Step"/>). Owns its tensors;
/// dispose it when done.
/// </summary>
/// <remarks>
/// Decoding proceeds one position at a time for the whole batch: the first <see cref="Step"/> (position 0,
/// the face) takes no tokens; each later call takes the tokens chosen for the previous position and
/// returns the log-probabilities of the next. <see cref="Reorder"/> selects, reorders or repeats rows
/// of the batch (beam search, several samples per query). Runs without autograd. Not thread-safe.
/// </remarks>
public sealed class GeoTokenDecoderCache : IDisposable
{
    private readonly GeoTokenModel _model;
    private readonly Tensor[] _memoryKeys;
    private readonly Tensor[] _memoryValues;
    private readonly Tensor[] _selfKeys;
    private readonly Tensor[] _selfValues;
    private bool _disposed;

    internal GeoTokenDecoderCache(GeoTokenModel model, Tensor[] memoryKeys, Tensor[] memoryValues, Tensor[] selfKeys, Tensor[] selfValues)
    {
        _model = model;
        _memoryKeys = memoryKeys;
        _memoryValues = memoryValues;
        _selfKeys = selfKeys;
        _selfValues = selfValues;
        BatchSize = (int)memoryKeys[0].shape[0];
    }

    /// <summary>Rows in the batch (changes with <see cref="Reorder"/>).</summary>
    public int BatchSize { get; private set; }

    /// <summary>The position the next <see cref="Step"/> predicts: 0 (face) … <see cref="Length"/> − 1; equals <see cref="Length"/> when the sequence is complete.</summary>
    public int Position { get; private set; }

    /// <summary>Tokens in a full sequence, <c>T</c>.</summary>
    public int Length => _model.Options.SequenceLength;

    /// <summary>Whether every position has been predicted.</summary>
    public bool IsComplete => Position >= Length;

    internal IReadOnlyList<Tensor> MemoryKeys => _memoryKeys;

    internal IReadOnlyList<Tensor> MemoryValues => _memoryValues;

    internal IReadOnlyList<Tensor> SelfKeys => _selfKeys;

    internal IReadOnlyList<Tensor> SelfValues => _selfValues;

    /// <summary>
    /// Decodes the next position and returns its log-probabilities <c>[B, V_p]</c> (log-softmax over
    /// position <see cref="Position"/>'s vocabulary), then advances <see cref="Position"/>.
    /// </summary>
    /// <param name="previousTokens">Null at position 0; afterwards the tokens chosen for the previous position, int64 <c>[B]</c>.</param>
    /// <exception cref="ArgumentException">The tokens are missing, superfluous, mis-shaped or out of range.</exception>
    /// <exception cref="InvalidOperationException">The sequence is already complete.</exception>
    public Tensor Step(Tensor? previousTokens)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return StepLogits(previousTokens).log_softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>As <see cref="Step"/>, but returns the raw logits <c>[B, V_p]</c> (for temperature sampling).</summary>
    public Tensor StepLogits(Tensor? previousTokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsComplete)
        {
            throw new InvalidOperationException($"All {Length} positions have been decoded.");
        }

        if (Position == 0 && previousTokens is not null)
        {
            throw new ArgumentException("The first step (position 0) takes no previous tokens; pass null.", nameof(previousTokens));
        }

        if (Position > 0)
        {
            if (previousTokens is null)
            {
                throw new ArgumentException($"Position {Position} needs the tokens chosen for position {Position - 1}; got null.", nameof(previousTokens));
            }

            if (previousTokens.dtype != ScalarType.Int64 || previousTokens.dim() != 1 || previousTokens.shape[0] != BatchSize)
            {
                throw new ArgumentException($"previousTokens has type {previousTokens.dtype} and shape [{string.Join(", ", previousTokens.shape)}]; expected int64 [{BatchSize}].", nameof(previousTokens));
            }
        }

        var logits = _model.StepLogits(this, previousTokens);
        Position++;
        return logits;
    }

    /// <summary>
    /// Replaces the batch by rows <paramref name="batchIndices"/> of it (<c>index_select</c> on the batch
    /// dimension of every cached tensor): reorders, drops or repeats rows, e.g. to expand each query
    /// into several beams or samples, or to follow the beams that survived a step.
    /// </summary>
    /// <param name="batchIndices">int64 <c>[B']</c>, each in 0..<see cref="BatchSize"/> − 1.</param>
    public void Reorder(Tensor batchIndices)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batchIndices);
        if (batchIndices.dtype != ScalarType.Int64 || batchIndices.dim() != 1 || batchIndices.shape[0] < 1)
        {
            throw new ArgumentException($"batchIndices has type {batchIndices.dtype} and shape [{string.Join(", ", batchIndices.shape)}]; expected a non-empty int64 vector.", nameof(batchIndices));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = _memoryKeys[0].device;
        var idx = batchIndices.to(device);
        long min = idx.min().item<long>(), max = idx.max().item<long>();
        if (min < 0 || max >= BatchSize)
        {
            throw new ArgumentException($"batchIndices holds {(min < 0 ? min : max)}; rows are 0..{BatchSize - 1}.", nameof(batchIndices));
        }

        Select(_memoryKeys, idx);
        Select(_memoryValues, idx);
        Select(_selfKeys, idx);
        Select(_selfValues, idx);
        BatchSize = (int)idx.shape[0];
    }

    /// <summary>Releases every cached tensor.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _memoryKeys.Concat(_memoryValues).Concat(_selfKeys).Concat(_selfValues)) t.Dispose();
    }

    private static void Select(Tensor[] tensors, Tensor idx)
    {
        for (int i = 0; i < tensors.Length; i++)
        {
            var selected = tensors[i].index_select(0, idx).DetachFromDisposeScope();
            tensors[i].Dispose();
            tensors[i] = selected;
        }
    }
}
