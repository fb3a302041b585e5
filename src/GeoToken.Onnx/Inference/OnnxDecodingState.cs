using GeoToken.Decoding;
using Microsoft.ML.OnnxRuntime;

namespace GeoToken.Onnx.Inference;

/// <summary>
/// The state of one batch's cached decoding on an <see cref="OnnxGeoTokenModel"/> (from <see cref="OnnxGeoTokenModel.Encode"/>):
/// the encoder's cross-attention keys/values (one row per query), the self-attention cache of every row and, with the copy
/// head, each row's agreement with the neighbors. Opaque; advanced by <see cref="OnnxGeoTokenModel.Step"/>. Owns its
/// ONNX Runtime values: dispose it when done.
/// </summary>
/// <remarks>
/// Rows are grouped by query: row <c>r</c> decodes query <c>r / RowsPerQuery</c>. Not thread-safe.
/// A fresh state is also the <see cref="IDecoderSession"/> the runtime-neutral search (<see cref="TokenSearch"/>) drives
/// (see <see cref="OnnxGeoTokenSearch"/>): its expand and reorder are applied as the next step's beam rows.
/// </remarks>
public sealed class OnnxDecodingState : IDisposable, IDecoderSession
{
    private readonly bool _ownsEncoderOutputs;
    private bool _disposed;

    // The session's expand/reorder not yet applied: the next step's beam rows (null: continue every row as it is).
    private long[]? _pendingRows;

    internal OnnxDecodingState(OnnxGeoTokenModel model, int queries, OrtValue[] encoderOutputs, OrtValue[] past, OrtValue? agrees, OrtValue? neighborTokens, bool ownsEncoderOutputs = true)
    {
        _ownsEncoderOutputs = ownsEncoderOutputs;
        Model = model;
        Queries = queries;
        Rows = queries;
        EncoderOutputs = encoderOutputs;
        Past = past;
        Agrees = agrees;
        NeighborTokens = neighborTokens;
    }

    /// <summary>Queries in the batch, <c>B</c> (fixed).</summary>
    public int Queries { get; }

    /// <summary>Rows decoded, <c>B · RowsPerQuery</c> (changes when <see cref="OnnxGeoTokenModel.Step"/> is given beam rows).</summary>
    public int Rows { get; private set; }

    /// <summary>Consecutive rows per query: row <c>r</c> decodes query <c>r / RowsPerQuery</c>.</summary>
    public int RowsPerQuery => Rows / Queries;

    /// <summary>The position the next <see cref="OnnxGeoTokenModel.Step"/> predicts, 0 … <c>T</c> − 1; <c>T</c> when complete.</summary>
    public int Position { get; private set; }

    /// <summary>Whether every position has been predicted.</summary>
    public bool IsComplete => Position >= Model.SequenceLength;

    internal OnnxGeoTokenModel Model { get; }

    /// <summary>The encoder's outputs (cross keys/values per layer, then the copy keys), as the step takes them.</summary>
    internal OrtValue[] EncoderOutputs { get; }

    /// <summary>The self-attention cache: past key and value of each layer, as the step takes them.</summary>
    internal OrtValue[] Past { get; private set; }

    internal OrtValue? Agrees { get; private set; }

    internal OrtValue? NeighborTokens { get; }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Takes the step's presents as the new past (disposing the old) and advances the position.</summary>
    internal void Advance(OrtValue[] present, OrtValue? agrees, int rows)
    {
        foreach (var v in Past) v.Dispose();
        Agrees?.Dispose();
        Past = present;
        Agrees = agrees;
        Rows = rows;
        Position++;
    }

    /// <summary>Rows after the pending expand/reorder.</summary>
    int IDecoderSession.Rows => _pendingRows?.Length ?? Rows;

    /// <inheritdoc/>
    void IDecoderSession.Expand(int copies)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(copies, 1);
        int current = ((IDecoderSession)this).Rows;
        var rows = new long[(long)current * copies];
        for (int i = 0; i < rows.Length; i++) rows[i] = Pending(i / copies);
        _pendingRows = rows;
    }

    /// <inheritdoc/>
    void IDecoderSession.Reorder(ReadOnlySpan<long> rows)
    {
        int current = ((IDecoderSession)this).Rows;
        if (rows.IsEmpty) throw new ArgumentException("rows is empty; at least one row must remain.", nameof(rows));
        var composed = new long[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            if ((ulong)rows[i] >= (ulong)current) throw new ArgumentException($"rows holds {rows[i]} (element {i}); rows are 0..{current - 1}.", nameof(rows));
            composed[i] = Pending((int)rows[i]);
        }

        _pendingRows = composed;
    }

    /// <inheritdoc/>
    float[] IDecoderSession.Step(ReadOnlySpan<long> previousTokens)
    {
        var scores = Model.StepFlat(this, previousTokens, _pendingRows, out _);
        _pendingRows = null;
        return scores;
    }

    /// <summary>Whether a session expand/reorder waits for the next step.</summary>
    internal bool HasPendingRows => _pendingRows is not null;

    /// <summary>The current row that pending row <paramref name="row"/> continues.</summary>
    private long Pending(int row) => _pendingRows is null ? row : _pendingRows[row];

    /// <summary>Releases the ONNX Runtime values.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var v in Past) v.Dispose();
        Agrees?.Dispose();
        if (!_ownsEncoderOutputs) return;
        foreach (var v in EncoderOutputs) v.Dispose();
        NeighborTokens?.Dispose();
    }
}
