using static TorchSharp.torch;

namespace GeoToken.Model;

/// <summary>
/// The state of KV-cached incremental decoding for a batch, from <see cref="GeoTokenModel.BeginDecoding(GeoTokenBatch)"/>:
/// every decoder layer's cross-attention keys/values of the encoder memory (computed once) and its
/// self-attention key/value cache (filled one position per <see cref="Step"/>). Owns its tensors;
/// dispose it when done.
/// </summary>
/// <remarks>
/// <para>
/// Decoding proceeds one position at a time for the whole batch: the first <see cref="Step"/> (position 0,
/// the face) takes no tokens; each later call takes the tokens chosen for the previous position and
/// returns the log-probabilities of the next. <see cref="Reorder(Tensor)"/> selects, reorders or repeats rows
/// of the batch (beam search, several samples per query); <see cref="Expand"/> repeats every row.
/// Runs without autograd. Not thread-safe.
/// </para>
/// <para>
/// Rows that decode the same query share its cross-attention keys and values: when every query's rows
/// are consecutive and equally many (as after <see cref="Expand"/>, or a <see cref="Reorder(Tensor)"/> that keeps
/// each row within its query's group, as beam search does), the memory keys/values stay one row per query
/// and a query's rows attend to them together; only the small self-attention cache follows the rows.
/// Any other <see cref="Reorder(Tensor)"/> gives every row its own copy of the memory keys/values.
/// </para>
/// </remarks>
public sealed class GeoTokenDecoderCache : IDisposable
{
    private readonly GeoTokenModel _model;
    private readonly Tensor[] _memoryKeys;
    private readonly Tensor[] _memoryValues;
    private readonly Tensor[] _selfKeys;
    private readonly Tensor[] _selfValues;
    private bool _disposed;

    internal GeoTokenDecoderCache(GeoTokenModel model, Tensor[] memoryKeys, Tensor[] memoryValues, Tensor[] selfKeys, Tensor[] selfValues, NeighborCopyState? copy = null)
    {
        Copy = copy;
        _model = model;
        _memoryKeys = memoryKeys;
        _memoryValues = memoryValues;
        _selfKeys = selfKeys;
        _selfValues = selfValues;
        BatchSize = (int)memoryKeys[0].shape[0];
        RowsPerMemory = 1;
    }

    /// <summary>Rows in the batch (changes with <see cref="Reorder(Tensor)"/> and <see cref="Expand"/>).</summary>
    public int BatchSize { get; private set; }

    /// <summary>
    /// How many consecutive rows share one row of the cross-attention memory keys/values: row <c>r</c> decodes
    /// against memory row <c>r / RowsPerMemory</c>. 1 after <see cref="GeoTokenModel.BeginDecoding(GeoTokenBatch)"/>.
    /// </summary>
    public int RowsPerMemory { get; private set; }

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

    /// <summary>The neighbor-copy head's state; null when the model has no copy head.</summary>
    internal NeighborCopyState? Copy { get; }

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
    /// Replaces the batch by rows <paramref name="batchIndices"/> of it: reorders, drops or repeats rows,
    /// e.g. to expand each query into several beams or samples, or to follow the beams that survived a step.
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

        long[] rows;
        using (var cpu = batchIndices.cpu()) rows = cpu.data<long>().ToArray();
        Reorder(rows);
    }

    /// <summary>As <see cref="Reorder(Tensor)"/>, with the row indices as an array.</summary>
    /// <param name="batchIndices">Non-empty, each in 0..<see cref="BatchSize"/> − 1.</param>
    public void Reorder(ReadOnlySpan<long> batchIndices)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (batchIndices.Length < 1) throw new ArgumentException("batchIndices is empty; at least one row must remain.", nameof(batchIndices));
        for (int i = 0; i < batchIndices.Length; i++)
        {
            if ((ulong)batchIndices[i] >= (ulong)BatchSize)
            {
                throw new ArgumentException($"batchIndices holds {batchIndices[i]} (element {i}); rows are 0..{BatchSize - 1}.", nameof(batchIndices));
            }
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var device = _memoryKeys[0].device;
        int n = batchIndices.Length, r = RowsPerMemory, memoryRows = (int)_memoryKeys[0].shape[0];

        // Memory rows of the new rows: grouped (equal consecutive runs of distinct memory rows) or not.
        var runs = new List<long>();
        int runLength = -1;
        bool grouped = true;
        for (int i = 0; i < n;)
        {
            long m = batchIndices[i] / r;
            int j = i + 1;
            while (j < n && batchIndices[j] / r == m) j++;
            if (runLength < 0) runLength = j - i;
            else if (runLength != j - i) grouped = false;
            runs.Add(m);
            i = j;
        }

        if (grouped && runs.Distinct().Count() != runs.Count) grouped = false;
        if (grouped)
        {
            bool sameMemory = runs.Count == memoryRows && runs.Select((m, i) => m == i).All(x => x);
            if (!sameMemory)
            {
                using var memIdx = tensor(runs.ToArray(), device: device);
                SelectMemoryRows(memIdx);
            }

            RowsPerMemory = runLength;
        }
        else
        {
            var perRow = new long[n];
            for (int i = 0; i < n; i++) perRow[i] = batchIndices[i] / r;
            using var memIdx = tensor(perRow, device: device);
            SelectMemoryRows(memIdx);
            RowsPerMemory = 1;
        }

        bool identity = n == BatchSize;
        for (int i = 0; identity && i < n; i++) identity = batchIndices[i] == i;
        if (!identity)
        {
            using var idx = tensor(batchIndices.ToArray(), device: device);
            Select(_selfKeys, idx);
            Select(_selfValues, idx);
            if (Copy is not null) Copy.Agrees = Select(Copy.Agrees, idx);
        }

        BatchSize = n;
    }

    /// <summary>
    /// Repeats every row <paramref name="copies"/> times in place (row <c>r</c> becomes rows
    /// <c>r·copies … r·copies + copies − 1</c>), e.g. to decode several samples or beams per query.
    /// The memory keys/values are not copied.
    /// </summary>
    public void Expand(int copies)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 1);
        if (copies == 1) return;
        var rows = new long[(long)BatchSize * copies];
        for (int i = 0; i < rows.Length; i++) rows[i] = i / copies;
        Reorder(rows);
    }

    /// <summary>
    /// A new cache at position 0 over the same cross-attention keys/values (shared storage, not copied; each cache
    /// holds its own handles) with an empty self-attention cache. Only a cache fresh from
    /// <see cref="GeoTokenModel.BeginDecoding(GeoTokenBatch)"/> (position 0, one row per memory row) can be forked.
    /// </summary>
    internal GeoTokenDecoderCache Fork()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Position != 0 || RowsPerMemory != 1 || BatchSize != _memoryKeys[0].shape[0])
        {
            throw new InvalidOperationException("Only a fresh cache (position 0, one row per memory row) can be forked.");
        }

        using var noGrad = no_grad();
        var memKeys = _memoryKeys.Select(t => t.alias().DetachFromDisposeScope()).ToArray();
        var memValues = _memoryValues.Select(t => t.alias().DetachFromDisposeScope()).ToArray();
        var selfKeys = _selfKeys.Select(t => zeros_like(t).DetachFromDisposeScope()).ToArray();
        var selfValues = _selfValues.Select(t => zeros_like(t).DetachFromDisposeScope()).ToArray();
        var copy = Copy is null ? null : new NeighborCopyState(
            Copy.Keys.alias().DetachFromDisposeScope(),
            Copy.NeighborTokens.alias().DetachFromDisposeScope(),
            ones_like(Copy.Agrees).DetachFromDisposeScope());
        return new GeoTokenDecoderCache(_model, memKeys, memValues, selfKeys, selfValues, copy);
    }

    /// <summary>Releases every cached tensor.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _memoryKeys.Concat(_memoryValues).Concat(_selfKeys).Concat(_selfValues)) t.Dispose();
        Copy?.Dispose();
    }

    private void SelectMemoryRows(Tensor memIdx)
    {
        Select(_memoryKeys, memIdx);
        Select(_memoryValues, memIdx);
        if (Copy is null) return;
        Copy.Keys = Select(Copy.Keys, memIdx);
        Copy.NeighborTokens = Select(Copy.NeighborTokens, memIdx);
    }

    private static Tensor Select(Tensor t, Tensor idx)
    {
        var selected = t.index_select(0, idx).DetachFromDisposeScope();
        t.Dispose();
        return selected;
    }

    private static void Select(Tensor[] tensors, Tensor idx)
    {
        for (int i = 0; i < tensors.Length; i++) tensors[i] = Select(tensors[i], idx);
    }
}
