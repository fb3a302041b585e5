using GeoToken.Data;
using GeoToken.Decoding;
using GeoToken.Geometry;
using GeoToken.Retrieval;
using static TorchSharp.torch;

namespace GeoToken.Reranking;

/// <summary>
/// GeoCLIP's GPS-gallery predictor: a fixed gallery of coordinates embedded once by a
/// <see cref="SimilarityModel"/>'s location encoder; an image is placed at the gallery coordinates whose
/// embeddings are most similar to its image embedding.
/// </summary>
/// <remarks>
/// Search is exact and flat by default (one matrix product over the whole gallery per batch of queries; 100,000
/// coordinates × 512 dimensions is 200 MB of float32 embeddings), or a beam descent through a hierarchical k-means
/// <see cref="ClusterIndex"/> of the embeddings (<see cref="GpsGalleryOptions.ClusterIndex"/>). Thread-safe:
/// concurrent calls serialize on the model. Dispose to release the embeddings and the index.
/// </remarks>
public sealed class GpsGallery : IDisposable
{
    private readonly SimilarityModel _model;
    private readonly LatLng[] _coordinates;
    private readonly Tensor? _embeddings; // [N, D], L2-normalised; flat search only
    private readonly FeatureMatrix? _indexedEmbeddings; // the same embeddings on the CPU, searched through _index
    private readonly ClusterIndex? _index;
    private readonly IReadOnlyList<int>? _probes;
    private readonly INeighborSearch? _search; // an external search over the embeddings (e.g. a database table); not owned
    private bool _disposed;

    private GpsGallery(SimilarityModel model, LatLng[] coordinates, Tensor? embeddings, FeatureMatrix? indexedEmbeddings, ClusterIndex? index, IReadOnlyList<int>? probes, INeighborSearch? search = null)
    {
        _model = model;
        _coordinates = coordinates;
        _embeddings = embeddings;
        _indexedEmbeddings = indexedEmbeddings;
        _index = index;
        _probes = probes;
        _search = search;
    }

    /// <summary>
    /// A gallery whose location embeddings are searched by <paramref name="search"/> (e.g. a PostgreSQL table written
    /// from <see cref="EmbedCoordinates"/>): gallery row <c>i</c> of the search is <paramref name="coordinates"/>[i],
    /// embedded by <paramref name="model"/>'s location encoder. The gallery does not own the search.
    /// </summary>
    /// <exception cref="ArgumentException">The search's rows or dimension do not match the coordinates or the model.</exception>
    public static GpsGallery FromSearch(SimilarityModel model, IReadOnlyList<LatLng> coordinates, INeighborSearch search)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(coordinates);
        ArgumentNullException.ThrowIfNull(search);
        if (coordinates.Count == 0) throw new ArgumentException("The GPS gallery is empty.", nameof(coordinates));
        if (search.GalleryRows != coordinates.Count)
        {
            throw new ArgumentException($"The search ({search.Method}) has {search.GalleryRows} rows but the GPS gallery has {coordinates.Count} coordinates.", nameof(search));
        }

        if (search.Dimension != model.Options.EmbeddingDimension)
        {
            throw new ArgumentException($"The search ({search.Method}) holds {search.Dimension}-dimensional vectors but the similarity model embeds locations in {model.Options.EmbeddingDimension} dimensions.", nameof(search));
        }

        var gallery = new GpsGallery(model, coordinates.ToArray(), null, null, null, null, search);
        gallery.CheckSearchHoldsModelEmbeddings();
        return gallery;
    }

    /// <summary>
    /// The external search must hold this model's embeddings of these coordinates: the embedding of a few gallery
    /// coordinates, searched, must find a vector at cosine ≥ <see cref="SearchCheckCosine"/> (its own row, or an equal
    /// coordinate's). A table embedded by another model, or of other coordinates, fails (cosines of unrelated
    /// locations are far lower).
    /// </summary>
    private void CheckSearchHoldsModelEmbeddings()
    {
        int n = _coordinates.Length;
        var rows = new[] { 0, n / 3, 2 * n / 3, n - 1 }.Distinct().ToArray();
        using var probes = EmbedCoordinates(_model, rows.Select(r => _coordinates[r]).ToArray());
        var queries = new NeighborQueries { Vectors = probes, K = 1 };
        var found = _search!.SearchAsync(queries).AsTask().GetAwaiter().GetResult();
        found.CheckFrom(_search, queries);
        for (int i = 0; i < rows.Length; i++)
        {
            float cosine = found.SimilaritiesOf(i)[0];
            if (!(cosine >= SearchCheckCosine))
            {
                throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"The search ({_search.Method}) does not hold this similarity model's embeddings of the gallery coordinates: the embedding of row {rows[i]} ({_coordinates[rows[i]]}) finds at best cosine {cosine:F3} (≥ {SearchCheckCosine} expected). Was it pushed from another similarity model or other coordinates?"), "search");
            }
        }
    }

    /// <summary>
    /// The cosine a gallery coordinate's own embedding must reach in an external search (<see cref="FromSearch"/>): a
    /// float16 copy of a unit vector keeps a cosine above 0.9999 with it; 0.99 also allows the search's own rounding.
    /// </summary>
    public const double SearchCheckCosine = 0.99;

    /// <summary>
    /// The L2-normalised location embeddings of <paramref name="coordinates"/> by <paramref name="model"/>, one row per
    /// coordinate (to store in an external search, <see cref="FromSearch"/>).
    /// </summary>
    public static FeatureMatrix EmbedCoordinates(SimilarityModel model, IReadOnlyList<LatLng> coordinates, int chunkSize = 8192, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(coordinates);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        if (coordinates.Count == 0) throw new ArgumentException("No coordinates to embed.", nameof(coordinates));
        var coords = coordinates.ToArray();
        int d = model.Options.EmbeddingDimension;
        var data = new float[checked((long)coords.Length * d)];
        lock (model.Gate)
        {
            using var noGrad = no_grad();
            for (int start = 0; start < coords.Length; start += chunkSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int n = Math.Min(chunkSize, coords.Length - start);
                model.EmbedPositions(coords.AsSpan(start, n)).cpu().data<float>().CopyTo(data.AsSpan(start * d, n * d));
            }
        }

        return FeatureMatrix.FromArray(data, d);
    }

    /// <summary>The hierarchical index searched instead of the flat product, or null for flat search.</summary>
    public ClusterIndex? Index => _index;

    /// <summary>The gallery coordinates, in order.</summary>
    public IReadOnlyList<LatLng> Coordinates => _coordinates;

    /// <summary>Gallery size.</summary>
    public int Count => _coordinates.Length;

    /// <summary>Embeds <paramref name="coordinates"/> with <paramref name="model"/>'s location encoder (in chunks of <paramref name="chunkSize"/>); flat search.</summary>
    /// <exception cref="ArgumentException">The gallery is empty.</exception>
    public static GpsGallery Create(SimilarityModel model, IReadOnlyList<LatLng> coordinates, int chunkSize = 8192, CancellationToken cancellationToken = default) =>
        Create(model, coordinates, new GpsGalleryOptions { ChunkSize = chunkSize }, cancellationToken);

    /// <summary>
    /// Embeds <paramref name="coordinates"/> with <paramref name="model"/>'s location encoder and, with
    /// <see cref="GpsGalleryOptions.ClusterIndex"/>, builds the hierarchical index over the embeddings.
    /// </summary>
    /// <exception cref="ArgumentException">The gallery is empty, or the options are invalid.</exception>
    public static GpsGallery Create(SimilarityModel model, IReadOnlyList<LatLng> coordinates, GpsGalleryOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(coordinates);
        options ??= new GpsGalleryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkSize, 1);
        if (options.ClusterIndex is not null && !(options.LeafBeamFraction is > 0 and <= 1))
        {
            throw new ArgumentException($"GpsGalleryOptions.LeafBeamFraction is {options.LeafBeamFraction}; it must be in (0, 1].", nameof(options));
        }

        if (coordinates.Count == 0) throw new ArgumentException("The GPS gallery is empty.", nameof(coordinates));
        var coords = coordinates.ToArray();
        if (options.ClusterIndex is not null) return CreateIndexed(model, coords, options, cancellationToken);

        // Flat: the embeddings stay a tensor on the model's device, searched by one matrix product per batch.
        Tensor all;
        lock (model.Gate)
        {
            using var noGrad = no_grad();
            var chunks = new List<Tensor>();
            try
            {
                for (int start = 0; start < coords.Length; start += options.ChunkSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    int n = Math.Min(options.ChunkSize, coords.Length - start);
                    chunks.Add(model.EmbedPositions(coords.AsSpan(start, n)).DetachFromDisposeScope());
                }

                all = cat(chunks, 0).DetachFromDisposeScope();
            }
            finally
            {
                foreach (var c in chunks) c.Dispose();
            }
        }

        return new GpsGallery(model, coords, all, null, null, null);
    }

    /// <summary>Indexed: the embeddings as a CPU matrix (<see cref="EmbedCoordinates"/>) and the hierarchical index over them.</summary>
    private static GpsGallery CreateIndexed(SimilarityModel model, LatLng[] coords, GpsGalleryOptions options, CancellationToken cancellationToken)
    {
        var matrix = EmbedCoordinates(model, coords, options.ChunkSize, cancellationToken);
        try
        {
            var index = ClusterIndex.Build(matrix, options.ClusterIndex!, cancellationToken: cancellationToken);
            try
            {
                var probes = options.Probes ?? index.ProbesForLeafBeam((int)Math.Ceiling(options.LeafBeamFraction * index.NodesPerLevel[^1]));
                return new GpsGallery(model, coords, null, matrix, index, probes);
            }
            catch
            {
                index.Dispose();
                throw;
            }
        }
        catch
        {
            matrix.Dispose();
            throw;
        }
    }

    /// <summary>A gallery of a dataset's coordinates (e.g. the training set's).</summary>
    public static GpsGallery FromDataset(SimilarityModel model, GeoDataset dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Rows > Array.MaxLength) throw new ArgumentException($"{dataset.MetaPath} has too many rows ({dataset.Rows}) for one gallery.", nameof(dataset));
        return Create(model, dataset.GetLocations(0, (int)dataset.Rows).ToArray(), cancellationToken: cancellationToken);
    }

    /// <summary>The <paramref name="topK"/> best gallery coordinates for one image's features, best first.</summary>
    public IReadOnlyList<GalleryMatch> Predict(ReadOnlySpan<float> imageFeatures, int topK = 1) => Predict(imageFeatures, 1, topK)[0];

    /// <summary>
    /// The <paramref name="topK"/> best gallery coordinates for each of <paramref name="count"/> images whose
    /// features are stored one after the other in <paramref name="imageFeatures"/>, best first.
    /// </summary>
    /// <exception cref="ArgumentException">The features do not hold <paramref name="count"/> vectors of the model's dimension.</exception>
    public IReadOnlyList<IReadOnlyList<GalleryMatch>> Predict(ReadOnlySpan<float> imageFeatures, int count, int topK)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int d = _model.Options.FeatureDimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        if (imageFeatures.Length != (long)count * d)
        {
            throw new ArgumentException($"imageFeatures holds {imageFeatures.Length} floats; {count} images × {d} dimensions need {(long)count * d}.", nameof(imageFeatures));
        }

        int k = Math.Min(topK, Count);
        float[] values;
        long[] indices;
        FeatureMatrix? external = null;
        try
        {
            lock (_model.Gate)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var img = _model.EmbedImages(tensor(imageFeatures.ToArray(), [count, d], device: _model.Device));
                if (_embeddings is not null)
                {
                    var sims = img.matmul(_embeddings.t()); // [count, N]
                    var (v, i) = sims.topk(k, dim: 1, largest: true, sorted: true);
                    values = v.cpu().data<float>().ToArray();
                    indices = i.cpu().data<long>().ToArray();
                }
                else
                {
                    int embedding = (int)img.shape[1];
                    external = FeatureMatrix.FromArray(img.cpu().data<float>().ToArray(), embedding);
                    values = [];
                    indices = [];
                    if (_index is not null)
                    {
                        var found = _index.Search(external, new SearchOptions { K = k, Probes = _probes });
                        values = found.Similarities.ToArray();
                        indices = found.Indices.ToArray();
                    }
                }
            }

            if (_search is not null)
            {
                // Outside the model's lock: the search may wait on a server.
                var queries = new NeighborQueries { Vectors = external!, K = k };
                var found = _search.SearchAsync(queries).AsTask().GetAwaiter().GetResult();
                found.CheckFrom(_search, queries);
                values = found.Similarities.ToArray();
                indices = found.Indices.ToArray();
            }
        }
        finally
        {
            external?.Dispose();
        }

        var result = new IReadOnlyList<GalleryMatch>[count];
        for (int q = 0; q < count; q++)
        {
            var matches = new GalleryMatch[k];
            for (int j = 0; j < k; j++)
            {
                int index = (int)indices[q * k + j];
                matches[j] = new GalleryMatch(index, _coordinates[index], values[q * k + j]);
            }

            result[q] = matches;
        }

        return result;
    }

    /// <summary>Releases the embeddings.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _index?.Dispose();
        _indexedEmbeddings?.Dispose();
        _embeddings?.Dispose();
    }
}

/// <summary>A gallery coordinate chosen for an image.</summary>
/// <param name="Index">Its index in the gallery.</param>
/// <param name="Position">The coordinate.</param>
/// <param name="Similarity">Cosine similarity between the image and location embeddings.</param>
public sealed record GalleryMatch(int Index, LatLng Position, double Similarity)
{
    /// <summary>This match as a free-position candidate (<see cref="CandidateSources.GpsGallery"/>, no cell, no log-probability).</summary>
    public GeoCandidate ToCandidate() => GeoCandidate.At(Position, CandidateSources.GpsGallery);
}
