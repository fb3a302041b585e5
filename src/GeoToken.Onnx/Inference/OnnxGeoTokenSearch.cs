using GeoToken.Decoding;

namespace GeoToken.Onnx.Inference;

/// <summary>
/// Test-time search on ONNX Runtime: greedy decoding, beam search (two-stage by default or the paper's one stage),
/// sampling and candidate pools over an <see cref="OnnxGeoTokenModel"/>, without libtorch. The algorithm is the
/// runtime-neutral <see cref="TokenSearch"/> that the TorchSharp search runs too, with the same seeded sampling
/// streams, so both runtimes give the same sequences up to float rounding of the model's scores.
/// </summary>
/// <remarks>
/// Each call encodes its batch (<see cref="OnnxGeoTokenModel.Encode"/>) or takes a fresh <see cref="OnnxDecodingState"/>
/// (one row per query, position 0), which the search consumes. Log-probabilities are the model's untempered ones, as
/// in <see cref="TokenSearch"/>. Calls serialize on the model (ONNX Runtime already uses every core within a run).
/// Does not own the model.
/// </remarks>
public sealed class OnnxGeoTokenSearch
{
    private readonly TokenSearch _search;

    /// <summary>A search over <paramref name="model"/>.</summary>
    public OnnxGeoTokenSearch(OnnxGeoTokenModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _search = new TokenSearch(model.Tokenizer);
    }

    /// <summary>The model searched.</summary>
    public OnnxGeoTokenModel Model { get; }

    /// <summary>The most likely token at every position, one sequence per query.</summary>
    /// <param name="state">A fresh state of <see cref="Model"/> (consumed).</param>
    /// <param name="region">Decode only inside this region (null: anywhere).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<DecodedSequence> Greedy(OnnxDecodingState state, DecodingRegion? region = null, CancellationToken cancellationToken = default) =>
        Locked(state, () => _search.Greedy(state, region, cancellationToken));

    /// <summary>Beam search (see <see cref="BeamSearchOptions"/>; default two stages, width 5).</summary>
    /// <param name="state">A fresh state of <see cref="Model"/> (consumed).</param>
    /// <param name="options">Width, beams returned, stages and region (null: defaults).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> BeamSearch(OnnxDecodingState state, BeamSearchOptions? options = null, CancellationToken cancellationToken = default) =>
        Locked(state, () => _search.BeamSearch(state, options, cancellationToken));

    /// <summary>Independent samples per query (see <see cref="SamplingOptions"/>).</summary>
    /// <param name="state">A fresh state of <see cref="Model"/> (consumed).</param>
    /// <param name="options">Count, temperature, filters, seed and region (null: defaults, 30 samples at T = 0.7).</param>
    /// <param name="imageKeys">One key per query naming its random stream with the seed (null: the index in the batch).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> Sample(OnnxDecodingState state, SamplingOptions? options = null, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default) =>
        Locked(state, () => _search.Sample(state, options, imageKeys, cancellationToken));

    /// <summary>Each query's candidate pool (see <see cref="CandidatePoolOptions"/>; default the paper's 31: greedy + 30 samples).</summary>
    /// <param name="state">A fresh state of <see cref="Model"/> (consumed).</param>
    /// <param name="options">What goes into a pool (null: the defaults).</param>
    /// <param name="imageKeys">One key per query naming its random stream with the seed (null: the index in the batch).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<GeoCandidate>> BuildPools(OnnxDecodingState state, CandidatePoolOptions? options = null, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default) =>
        Locked(state, () => _search.BuildPools(state, options, imageKeys, cancellationToken));

    /// <summary>Runs a plan's greedy, sample and beam rows of every query together (<see cref="TokenSearch.Run"/>).</summary>
    /// <param name="state">A fresh state of <see cref="Model"/> (consumed).</param>
    /// <param name="plan">What to decode.</param>
    /// <param name="imageKeys">One key per query naming its random stream with the seed (null: the index in the batch).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    /// <exception cref="InvalidOperationException">The state belongs to another model or is not fresh.</exception>
    public IReadOnlyList<ImageSearchResult> Run(OnnxDecodingState state, SearchPlan plan, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default) =>
        Locked(state, () => _search.Run(state, plan, imageKeys, cancellationToken));

    /// <summary>Runs <paramref name="search"/> on <paramref name="state"/> after checking it is this model's and fresh, serialized on the model.</summary>
    private T Locked<T>(OnnxDecodingState state, Func<T> search)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.ThrowIfDisposed();
        if (!ReferenceEquals(state.Model, Model)) throw new InvalidOperationException("The decoding state was created by another OnnxGeoTokenModel.");
        if (state.Position != 0 || state.Rows != state.Queries || state.HasPendingRows)
        {
            throw new InvalidOperationException($"The search needs a fresh decoding state (position 0, one row per query); this one is at position {state.Position} with {state.Rows} rows for {state.Queries} queries.");
        }

        lock (Model.InferenceGate) return search();
    }
}
