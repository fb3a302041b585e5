using System.Threading.Channels;
using GeoToken.Data;
using GeoToken.Retrieval;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

/// <summary>
/// Training or evaluation batches over datasets on disk: the queries' feature views and true tokens,
/// and for each query its retrieved gallery neighbors' feature views and tokens. Features are read
/// from the memory-mapped <c>.npy</c> files when a batch is assembled, so memory does not grow with
/// the dataset (only the gallery's token table, 2·T bytes per row, is held).
/// </summary>
/// <remarks>
/// Batches are assembled on a background thread (<see cref="DatasetBatchSourceOptions.Prefetch"/>)
/// while the trainer computes. Reading is thread-safe; the source does not own the datasets or the
/// neighbor file.
/// </remarks>
public sealed class DatasetBatchSource : IGeoTokenBatchSource
{
    private readonly GeoDataset _queries;
    private readonly GeoDataset _gallery;
    private readonly NeighborFile _neighbors;
    private readonly TokenTable _galleryTokens;
    private readonly TokenTable _queryTokens;
    private readonly FeatureMatrix[] _queryFeatures;
    private readonly FeatureMatrix[] _galleryFeatures;
    private readonly DatasetBatchSourceOptions _options;
    private readonly int _m, _d, _k, _t;

    /// <summary>Creates a source.</summary>
    /// <param name="queries">The query dataset (training rows, or validation/test rows).</param>
    /// <param name="gallery">The gallery the neighbors index into (for training: the same dataset).</param>
    /// <param name="neighbors">Neighbor rows of each query, best first (at least <see cref="GeoTokenModelOptions.NeighborCount"/> per query).</param>
    /// <param name="galleryTokens">The gallery's token table (<see cref="TokenTable.Build"/>).</param>
    /// <param name="queryTokens">The queries' token table (the gallery's when they are the same dataset).</param>
    /// <param name="model">The model the batches are for (modalities, dimension, k, sequence length).</param>
    /// <param name="options">Prefetching and row limits.</param>
    /// <exception cref="ArgumentException">The datasets, neighbor file and model do not fit together; the message says how.</exception>
    public DatasetBatchSource(GeoDataset queries, GeoDataset gallery, NeighborFile neighbors, TokenTable galleryTokens, TokenTable queryTokens, GeoTokenModelOptions model, DatasetBatchSourceOptions? options = null)
    {
        _queries = queries ?? throw new ArgumentNullException(nameof(queries));
        _gallery = gallery ?? throw new ArgumentNullException(nameof(gallery));
        _neighbors = neighbors ?? throw new ArgumentNullException(nameof(neighbors));
        _galleryTokens = galleryTokens ?? throw new ArgumentNullException(nameof(galleryTokens));
        _queryTokens = queryTokens ?? throw new ArgumentNullException(nameof(queryTokens));
        ArgumentNullException.ThrowIfNull(model);
        _options = options ?? new DatasetBatchSourceOptions();
        _m = model.ModalityCount;
        _d = model.FeatureDimension;
        _k = model.NeighborCount;
        _t = model.SequenceLength;
        _queryFeatures = Features(queries, "query");
        _galleryFeatures = Features(gallery, "gallery");
        if (neighbors.QueryCount != queries.Rows)
        {
            throw new ArgumentException($"The neighbor file {neighbors.Indices.Path} has {neighbors.QueryCount} rows but the query dataset {queries.MetaPath} has {queries.Rows}.", nameof(neighbors));
        }

        if (neighbors.K < _k)
        {
            throw new ArgumentException($"The neighbor file {neighbors.Indices.Path} holds {neighbors.K} neighbors per query; the model reads {_k}.", nameof(neighbors));
        }

        if (galleryTokens.Rows != gallery.Rows || galleryTokens.Length != _t) throw new ArgumentException("The gallery token table does not match the gallery and model.", nameof(galleryTokens));
        if (queryTokens.Rows != queries.Rows || queryTokens.Length != _t) throw new ArgumentException("The query token table does not match the query dataset and model.", nameof(queryTokens));
        long rows = _options.MaxRows is int max ? Math.Min(max, queries.Rows) : queries.Rows;
        if (rows > int.MaxValue) throw new ArgumentException($"{rows} query rows exceed the {int.MaxValue} a source addresses.", nameof(queries));
        Count = (int)rows;
    }

    /// <inheritdoc/>
    public int Count { get; }

    /// <summary>The query dataset.</summary>
    public GeoDataset Queries => _queries;

    /// <summary>The gallery dataset.</summary>
    public GeoDataset Gallery => _gallery;

    /// <summary>The neighbors of query rows.</summary>
    public NeighborFile Neighbors => _neighbors;

    /// <inheritdoc/>
    public GeoTokenBatch ReadBatch(ReadOnlySpan<int> rows)
    {
        int b = rows.Length;
        if (b == 0) throw new ArgumentException("A batch needs at least one row.", nameof(rows));
        var query = new float[(long)b * _m * _d];
        var neighborFeatures = new float[(long)b * _k * _m * _d];
        var neighborTokens = new long[(long)b * _k * _t];
        var targets = new long[(long)b * _t];
        for (int i = 0; i < b; i++)
        {
            int row = rows[i];
            if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), row, $"Row {row} is outside the source's {Count} rows.");
            for (int m = 0; m < _m; m++) _queryFeatures[m].ReadRow(row, query.AsSpan((i * _m + m) * _d, _d));
            Copy(_queryTokens[row], targets.AsSpan(i * _t, _t));
            var nbrs = _neighbors.Indices.GetRow(row);
            for (int j = 0; j < _k; j++)
            {
                long g = nbrs[j];
                if ((ulong)g >= (ulong)_gallery.Rows)
                {
                    throw new InvalidDataException($"{_neighbors.Indices.Path}, row {row + 1} (index {row}): neighbor {j + 1} is gallery row index {g}, outside the gallery's {_gallery.Rows} rows.");
                }

                int slot = i * _k + j;
                for (int m = 0; m < _m; m++) _galleryFeatures[m].ReadRow(g, neighborFeatures.AsSpan((slot * _m + m) * _d, _d));
                Copy(_galleryTokens[g], neighborTokens.AsSpan(slot * _t, _t));
            }
        }

        return new GeoTokenBatch(
            tensor(query, [b, _m, _d]),
            tensor(neighborFeatures, [b, _k, _m, _d]),
            tensor(neighborTokens, [b, _k, _t]),
            tensor(targets, [b, _t]));
    }

    /// <summary>Batches of one pass over <paramref name="order"/>, assembled ahead on a background thread.</summary>
    public IEnumerable<GeoTokenBatch> ReadBatches(ReadOnlyMemory<int> order, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (_options.Prefetch <= 0)
        {
            for (int start = 0; start < order.Length; start += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return ReadBatch(order.Span.Slice(start, Math.Min(batchSize, order.Length - start)));
            }

            yield break;
        }

        var channel = Channel.CreateBounded<GeoTokenBatch>(new BoundedChannelOptions(_options.Prefetch) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                for (int start = 0; start < order.Length; start += batchSize)
                {
                    var batch = ReadBatch(order.Span.Slice(start, Math.Min(batchSize, order.Length - start)));
                    try
                    {
                        await channel.Writer.WriteAsync(batch, stop.Token).ConfigureAwait(false);
                    }
                    catch
                    {
                        batch.Dispose();
                        throw;
                    }
                }

                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.Complete(e);
            }
        }, CancellationToken.None);

        try
        {
            while (true)
            {
                GeoTokenBatch next;
                try
                {
                    if (!channel.Reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult()) break;
                    if (!channel.Reader.TryRead(out next!)) continue;
                }
                catch (ChannelClosedException e) when (e.InnerException is not null)
                {
                    throw e.InnerException;
                }

                yield return next;
            }

            // Surface a producer failure that completed the channel.
            if (channel.Reader.Completion.IsFaulted) channel.Reader.Completion.GetAwaiter().GetResult();
        }
        finally
        {
            // The consumer stopped early (break, exception, cancellation): stop the producer and free queued batches.
            stop.Cancel();
            try
            {
                producer.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }

            while (channel.Reader.TryRead(out var left)) left.Dispose();
        }
    }

    private FeatureMatrix[] Features(GeoDataset dataset, string role) => DatasetFeatureViews.Read(dataset, _m, _d, role);

    private static void Copy(ReadOnlySpan<ushort> from, Span<long> to)
    {
        for (int i = 0; i < from.Length; i++) to[i] = from[i];
    }
}
