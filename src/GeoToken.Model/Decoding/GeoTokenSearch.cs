using GeoToken.Model;
using static TorchSharp.torch;

namespace GeoToken.Decoding;

/// <summary>
/// Test-time search over a <see cref="GeoTokenModel"/> on TorchSharp: greedy decoding, beam search and sampling, batched
/// over images on the KV cache (<see cref="GeoTokenDecoderCache"/>). The algorithm is the runtime-neutral
/// <see cref="TokenSearch"/>; this class runs it on the model's cache (ONNX Runtime has its own adapter).
/// </summary>
/// <remarks>
/// <para>
/// Every call runs the encoder once per image and computes each decoder layer's cross-attention keys and
/// values of the memory once per image; beams and samples are rows of the cache that share them (see
/// <see cref="GeoTokenDecoderCache.RowsPerMemory"/>), and each step decodes one position for all rows of all
/// images at once. Token choices are made on the CPU from the step's logits (one small copy per step).
/// </para>
/// <para>
/// Scores: every <see cref="DecodedSequence.LogProbability"/> is the sum of the model's untempered,
/// unconstrained log-probabilities, so candidates from different searches compare directly (unless samples are
/// scored by their tempered distribution, <see cref="SamplingOptions.ScoreWith"/>).
/// A <see cref="DecodingRegion"/> masks the tokens leading outside it (see there).
/// </para>
/// <para>
/// The model must be in evaluation mode (<c>model.eval()</c>): dropout would make decoding random.
/// Calls are thread-safe: they serialize on the model (libtorch already uses every core within a call).
/// The search does not own the model.
/// </para>
/// </remarks>
public sealed class GeoTokenSearch
{
    private readonly TokenSearch _search;

    /// <summary>A search over <paramref name="model"/>.</summary>
    public GeoTokenSearch(GeoTokenModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _search = new TokenSearch(model.Tokenizer);
    }

    /// <summary>The model searched.</summary>
    public GeoTokenModel Model { get; }

    /// <summary>The most likely token at every position, one sequence per image.</summary>
    /// <param name="batch">The images (targets are ignored).</param>
    /// <param name="region">Decode only inside this region (null: anywhere).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<DecodedSequence> Greedy(GeoTokenBatch batch, DecodingRegion? region = null, CancellationToken cancellationToken = default)
    {
        using var encoded = Encode(batch);
        return Greedy(encoded, region, cancellationToken);
    }

    /// <summary>As <see cref="Greedy(GeoTokenBatch, DecodingRegion?, CancellationToken)"/> from a batch already encoded (<see cref="GeoTokenModel.EncodeBatch"/>).</summary>
    public IReadOnlyList<DecodedSequence> Greedy(EncodedBatch batch, DecodingRegion? region = null, CancellationToken cancellationToken = default) =>
        Locked(batch, session => _search.Greedy(session, region, cancellationToken), cancellationToken);

    /// <summary>
    /// Beam search; per image, the best beams, all distinct, highest log-probability first (or coarse to fine, see
    /// <see cref="BeamSearchOptions.Ranking"/>). By default in two stages, committing to the level-6 cell that with
    /// its coarser cells holds the most mass (see <see cref="BeamSearchOptions.CommitLevel"/>); set <c>CommitLevel = null</c> for the paper's one-stage search.
    /// </summary>
    /// <param name="batch">The images (targets are ignored).</param>
    /// <param name="options">Width, beams returned and region (null: defaults, width 5).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> BeamSearch(GeoTokenBatch batch, BeamSearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var encoded = Encode(batch);
        return BeamSearch(encoded, options, cancellationToken);
    }

    /// <summary>As <see cref="BeamSearch(GeoTokenBatch, BeamSearchOptions?, CancellationToken)"/> from a batch already encoded (<see cref="GeoTokenModel.EncodeBatch"/>).</summary>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> BeamSearch(EncodedBatch batch, BeamSearchOptions? options = null, CancellationToken cancellationToken = default) =>
        Locked(batch, session => _search.BeamSearch(session, options, cancellationToken), cancellationToken);

    /// <summary>Independent samples per image (ancestral sampling with temperature, top-k and top-p; see <see cref="SamplingOptions"/>).</summary>
    /// <param name="batch">The images (targets are ignored).</param>
    /// <param name="options">Count, temperature, filters, seed and region (null: defaults, 30 samples at T = 0.7).</param>
    /// <param name="imageKeys">
    /// One key per image naming its random stream together with the seed (e.g. the image's row in its dataset);
    /// null uses the image's index in the batch. With keys, an image's samples do not depend on its batch.
    /// </param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> Sample(GeoTokenBatch batch, SamplingOptions? options = null, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default)
    {
        using var encoded = Encode(batch);
        return Sample(encoded, options, imageKeys, cancellationToken);
    }

    /// <summary>As <see cref="Sample(GeoTokenBatch, SamplingOptions?, IReadOnlyList{long}?, CancellationToken)"/> from a batch already encoded (<see cref="GeoTokenModel.EncodeBatch"/>).</summary>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> Sample(EncodedBatch batch, SamplingOptions? options = null, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default) =>
        Locked(batch, session => _search.Sample(session, options, imageKeys, cancellationToken), cancellationToken);

    /// <summary>Encodes a batch for this search's model (after checking it is not null).</summary>
    internal EncodedBatch Encode(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Model.EncodeBatch(batch);
    }

    /// <summary>As <see cref="Run(EncodedBatch, SearchPlan, IReadOnlyList{long}?, CancellationToken)"/>, encoding the batch first.</summary>
    public IReadOnlyList<ImageSearchResult> Run(GeoTokenBatch batch, SearchPlan plan, IReadOnlyList<long>? imageKeys, CancellationToken cancellationToken)
    {
        using var encoded = Encode(batch);
        return Run(encoded, plan, imageKeys, cancellationToken);
    }

    /// <summary>
    /// Runs a plan's greedy, sample and beam rows of every image together (<see cref="TokenSearch.Run"/>), in one cache
    /// started from the kept encoder output.
    /// </summary>
    /// <param name="batch">The encoded images (of this search's model).</param>
    /// <param name="plan">What to decode.</param>
    /// <param name="imageKeys">One key per image naming its random stream with the seed (null: the image's index in the batch).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<ImageSearchResult> Run(EncodedBatch batch, SearchPlan plan, IReadOnlyList<long>? imageKeys, CancellationToken cancellationToken) =>
        Locked(batch, session => _search.Run(session, plan, imageKeys, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs <paramref name="search"/> on a new cache started from the kept encoder output, serialized on the model, in
    /// evaluation mode, inside a dispose scope without gradients.
    /// </summary>
    private T Locked<T>(EncodedBatch batch, Func<IDecoderSession, T> search, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!ReferenceEquals(batch.Model, Model)) throw new ArgumentException("The batch was encoded by another model.", nameof(batch));
        return TorchEncodedBatch.Run(batch, search, cancellationToken);
    }
}
