using GeoToken.Tokens;

namespace GeoToken.Decoding;

/// <summary>
/// Test-time search over GeoToken sequences on any runtime: greedy decoding, beam search (two-stage by default, or the
/// paper's one stage), ancestral sampling and candidate pools, driving an <see cref="IDecoderSession"/> (TorchSharp's
/// KV cache, ONNX Runtime, …). The same algorithm on every runtime, so two runtimes whose steps agree give the same
/// sequences.
/// </summary>
/// <remarks>
/// <para>
/// Every call decodes all rows of all images of the session at once: one <see cref="IDecoderSession.Step"/> per
/// position, token choices made on the CPU from the step's scores.
/// </para>
/// <para>
/// Scores: every <see cref="DecodedSequence.LogProbability"/> is the sum of the model's untempered, unconstrained
/// log-probabilities, so candidates from different searches compare directly (unless samples are scored by their
/// tempered distribution, <see cref="SamplingOptions.ScoreWith"/>). A <see cref="DecodingRegion"/> masks the tokens
/// leading outside it. Sampling draws from one <see cref="Randomness.SplitMix64"/> stream per image, keyed by the
/// seed and the image's key, so an image's samples depend neither on the runtime nor on its batch.
/// </para>
/// <para>Thread-safe (no state between calls); a session is used by one call at a time.</para>
/// </remarks>
public sealed class TokenSearch
{
    /// <summary>A search over sequences of <paramref name="tokenizer"/> (the model's).</summary>
    public TokenSearch(GeoTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Tokenizer = tokenizer;
    }

    /// <summary>The tokenizer of the sequences searched.</summary>
    public GeoTokenizer Tokenizer { get; }

    /// <summary>The most likely token at every position, one sequence per image.</summary>
    /// <param name="session">A fresh session (position 0, one row per image).</param>
    /// <param name="region">Decode only inside this region (null: anywhere).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<DecodedSequence> Greedy(IDecoderSession session, DecodingRegion? region = null, CancellationToken cancellationToken = default) =>
        Run(session, new SearchPlan { Greedy = true, Region = region }, null, cancellationToken).Select(r => r.Greedy!).ToArray();

    /// <summary>
    /// Beam search; per image, the best beams, all distinct, highest log-probability first (or coarse to fine); two-stage
    /// by default (see <see cref="BeamSearchOptions.CommitLevel"/>).
    /// </summary>
    /// <param name="session">A fresh session (position 0, one row per image).</param>
    /// <param name="options">Width, beams returned, stages and region (null: defaults, width 5, two stages).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> BeamSearch(IDecoderSession session, BeamSearchOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(session, SearchPlan.ForBeams(options ?? new BeamSearchOptions()), null, cancellationToken).Select(r => r.Beams).ToArray();

    /// <summary>Independent samples per image (ancestral sampling with temperature, top-k and top-p; see <see cref="SamplingOptions"/>).</summary>
    /// <param name="session">A fresh session (position 0, one row per image).</param>
    /// <param name="options">Count, temperature, filters, seed and region (null: defaults, 30 samples at T = 0.7).</param>
    /// <param name="imageKeys">One key per image naming its random stream with the seed (null: the image's index in the batch).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> Sample(IDecoderSession session, SamplingOptions? options = null, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default) =>
        Run(session, SearchPlan.ForSamples(options ?? new SamplingOptions()), imageKeys, cancellationToken).Select(r => r.Samples).ToArray();

    /// <summary>Each image's candidate pool (<see cref="CandidatePoolOptions"/>; see <see cref="ImageSearchResult.ToPool"/>).</summary>
    /// <param name="session">A fresh session (position 0, one row per image).</param>
    /// <param name="options">What goes into a pool (null: the paper's, greedy + 30 samples at T = 0.7).</param>
    /// <param name="imageKeys">One key per image naming its random stream with the seed (null: the image's index in the batch).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    public IReadOnlyList<IReadOnlyList<GeoCandidate>> BuildPools(IDecoderSession session, CandidatePoolOptions? options = null, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default) =>
        Run(session, SearchPlan.ForPool(options ?? new CandidatePoolOptions()), imageKeys, cancellationToken).Select(r => r.ToPool()).ToArray();

    /// <summary>Decodes the plan's greedy, sample and beam rows of every image together in <paramref name="session"/>.</summary>
    /// <param name="session">A fresh session (position 0, one row per image); left at the last position.</param>
    /// <param name="plan">What to decode.</param>
    /// <param name="imageKeys">One key per image naming its random stream with the seed (null: the image's index in the batch).</param>
    /// <param name="cancellationToken">Checked before every position.</param>
    /// <exception cref="ArgumentException">The plan is invalid, its region is finer than the tokens, or the keys do not match the images.</exception>
    public IReadOnlyList<ImageSearchResult> Run(IDecoderSession session, SearchPlan plan, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        plan.Region?.CheckUsableWith(Tokenizer);
        int images = session.Rows;
        if (images < 1) throw new ArgumentException($"The session has {images} rows; a fresh session has one row per image.", nameof(session));
        if (imageKeys is not null && imageKeys.Count != images)
        {
            throw new ArgumentException($"imageKeys has {imageKeys.Count} keys for a batch of {images} images.", nameof(imageKeys));
        }

        cancellationToken.ThrowIfCancellationRequested();
        return SearchRun.Run(session, Tokenizer, plan, imageKeys, cancellationToken);
    }
}
