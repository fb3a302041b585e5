using GeoToken.Model;

namespace GeoToken.Decoding;

/// <summary>
/// Builds each image's candidate pool — greedy, samples and optionally beams, decoded together in one
/// KV cache per batch — and merges candidates naming the same cell (<see cref="CandidatePool.Merge"/>:
/// counts add up, sources combine, the highest log-probability is kept).
/// </summary>
/// <remarks>
/// Order of a pool before merging: the greedy candidate, the samples in drawing order, then the beams best
/// first; merged candidates keep the place of their first appearance. Every candidate's
/// <see cref="GeoCandidate.Position"/> is its cell's centre and its <see cref="GeoCandidate.LogProbability"/>
/// the summed untempered model log-probability of its tokens (samples: tempered with
/// <see cref="CandidatePoolOptions.ScoreWith"/> = <see cref="SampleScore.Tempered"/>, the reference's). Thread-safe (see <see cref="GeoTokenSearch"/>).
/// </remarks>
public sealed class CandidatePoolBuilder
{
    private readonly GeoTokenSearch _search;

    /// <summary>A builder over <paramref name="model"/> (which must be in evaluation mode when building).</summary>
    /// <param name="model">The trained model.</param>
    /// <param name="options">What goes into a pool (null: the paper's pool, greedy + 30 samples at T = 0.7).</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public CandidatePoolBuilder(GeoTokenModel model, CandidatePoolOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Options = options ?? new CandidatePoolOptions();
        Options.Validate();
        _search = new GeoTokenSearch(model);
    }

    /// <summary>What goes into a pool.</summary>
    public CandidatePoolOptions Options { get; }

    /// <summary>The pools of a batch of images, one per image.</summary>
    /// <param name="batch">The images (targets are ignored).</param>
    /// <param name="imageKeys">Per-image keys of the sampling streams (see <see cref="GeoTokenSearch.Sample(GeoTokenBatch, SamplingOptions?, IReadOnlyList{long}?, CancellationToken)"/>); null: the index in the batch.</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<GeoCandidate>> Build(GeoTokenBatch batch, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default)
    {
        using var encoded = _search.Encode(batch);
        return Build(encoded, imageKeys, cancellationToken);
    }

    /// <summary>The pools of a batch already encoded (<see cref="GeoTokenModel.EncodeBatch"/>), one per image.</summary>
    /// <param name="batch">The encoded images.</param>
    /// <param name="imageKeys">Per-image keys of the sampling streams (see <see cref="GeoTokenSearch.Sample(EncodedBatch, SamplingOptions?, IReadOnlyList{long}?, CancellationToken)"/>); null: the index in the batch.</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<GeoCandidate>> Build(EncodedBatch batch, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default)
    {
        var results = _search.Run(batch, SearchPlan.ForPool(Options), imageKeys, cancellationToken);
        return results.Select(r => r.ToPool()).ToArray();
    }
}
