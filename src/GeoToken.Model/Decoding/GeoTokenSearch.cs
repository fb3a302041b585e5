using GeoToken.Geometry;
using GeoToken.Model;
using GeoToken.Model.Common;
using GeoToken.Tokens;
using static TorchSharp.torch;

namespace GeoToken.Decoding;

/// <summary>
/// Test-time search over a <see cref="GeoTokenModel"/>: greedy decoding, beam search and sampling, batched over
/// images on the KV cache (<see cref="GeoTokenDecoderCache"/>).
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
    // Higher prefix log-probability first at the first position where two beams' prefixes differ in it (the
    // coarsest cell that tells them apart); equal histories keep the sequence order (stable sort).
    private static int CompareCoarseToFine(double[] prefixLogp, int x, int y, int t)
    {
        for (int p = 0; p < t; p++)
        {
            int c = prefixLogp[y * t + p].CompareTo(prefixLogp[x * t + p]);
            if (c != 0) return c;
        }

        return 0;
    }

    private readonly object _gate;
    private readonly int[] _vocab;

    /// <summary>A search over <paramref name="model"/>.</summary>
    public GeoTokenSearch(GeoTokenModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        _gate = GateOf(model);
        _vocab = model.Tokenizer.VocabularySizes.ToArray();
    }

    /// <summary>The model searched.</summary>
    public GeoTokenModel Model { get; }

    /// <summary>The lock that serializes inference on <paramref name="model"/> across searches and rerankers.</summary>
    internal static object GateOf(GeoTokenModel model) => model.InferenceGate;

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
    public IReadOnlyList<DecodedSequence> Greedy(EncodedBatch batch, DecodingRegion? region = null, CancellationToken cancellationToken = default)
    {
        var plan = new SearchPlan { Greedy = true, Region = region };
        return Run(batch, plan, null, cancellationToken).Select(r => r.Greedy!).ToArray();
    }

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
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> BeamSearch(EncodedBatch batch, BeamSearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new BeamSearchOptions();
        options.Validate();
        int? commitTokens = options.CommitLevel is int level ? CommitTokens(level) : null;
        var plan = new SearchPlan { BeamWidth = options.Width, BeamReturn = options.ReturnCount ?? options.Width, BeamRanking = options.Ranking, BeamCommitTokens = commitTokens, BeamCommitScore = options.CommitScore, Region = options.Region };
        return Run(batch, plan, null, cancellationToken).Select(r => (IReadOnlyList<DecodedSequence>)r.Beams).ToArray();
    }

    /// <summary>The number of tokens of the first prefix (before the last token) whose cell is at least as fine as <paramref name="level"/>; null when none is.</summary>
    private int? CommitTokens(int level)
    {
        var tokenizer = Model.Tokenizer;
        for (int n = 1; n < tokenizer.Length; n++)
        {
            if (tokenizer.LevelOfPrefix(n) >= level) return n;
        }

        return null;
    }

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
    public IReadOnlyList<IReadOnlyList<DecodedSequence>> Sample(EncodedBatch batch, SamplingOptions? options = null, IReadOnlyList<long>? imageKeys = null, CancellationToken cancellationToken = default)
    {
        options ??= new SamplingOptions();
        options.Validate();
        var plan = new SearchPlan
        {
            Samples = options.Count,
            Temperature = options.Temperature,
            TopK = options.TopK,
            TopP = options.TopP,
            ScoreWith = options.ScoreWith,
            Seed = options.Seed,
            Region = options.Region,
        };
        return Run(batch, plan, imageKeys, cancellationToken).Select(r => (IReadOnlyList<DecodedSequence>)r.Samples).ToArray();
    }

    /// <summary>Encodes a batch for this search's model (after checking it is not null).</summary>
    internal EncodedBatch Encode(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return Model.EncodeBatch(batch);
    }

    /// <summary>As <see cref="Run(EncodedBatch, SearchPlan, IReadOnlyList{long}?, CancellationToken)"/>, encoding the batch first.</summary>
    internal ImageResult[] Run(GeoTokenBatch batch, SearchPlan plan, IReadOnlyList<long>? imageKeys, CancellationToken cancellationToken)
    {
        using var encoded = Encode(batch);
        return Run(encoded, plan, imageKeys, cancellationToken);
    }

    /// <summary>Runs greedy rows, sample rows and beam rows of every image together, in one cache started from the kept encoder output.</summary>
    internal ImageResult[] Run(EncodedBatch batch, SearchPlan plan, IReadOnlyList<long>? imageKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!ReferenceEquals(batch.Model, Model)) throw new ArgumentException("The batch was encoded by another model.", nameof(batch));
        var tokenizer = Model.Tokenizer;
        plan.Region?.CheckUsableWith(tokenizer);
        int images = batch.Count;
        if (imageKeys is not null && imageKeys.Count != images)
        {
            throw new ArgumentException($"imageKeys has {imageKeys.Count} keys for a batch of {images} images.", nameof(imageKeys));
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (Model.training)
            {
                throw new InvalidOperationException("The model is in training mode, so dropout would make decoding random; call model.eval() before searching.");
            }

            return RunLocked(batch, plan, imageKeys, cancellationToken);
        }
    }

    private ImageResult[] RunLocked(EncodedBatch batch, SearchPlan plan, IReadOnlyList<long>? imageKeys, CancellationToken cancellationToken)
    {
        var tokenizer = Model.Tokenizer;
        int images = batch.Count, t = tokenizer.Length;
        int g = plan.Greedy ? 1 : 0, s = plan.Samples, w = plan.BeamWidth;
        int rowsPerImage = g + s + w, rows = images * rowsPerImage;
        var region = plan.Region;

        var tokens = new int[rows * t];
        var logp = new double[rows];
        var prefixLogp = new double[rows * t]; // beam rows: the log-probability of each prefix (commit choice, coarse-to-fine ranking)
        var cells = new ulong[rows];
        var inside = new bool[rows]; // the prefix cell lies inside the region: every continuation is allowed
        var rng = new SplitMix64[images];
        for (int i = 0; i < images; i++)
        {
            long key = imageKeys?[i] ?? i;
            rng[i] = new SplitMix64(SplitMix64.Mix(plan.Seed, unchecked((ulong)key)));
            for (int b = 1; b < w; b++) logp[i * rowsPerImage + g + s + b] = double.NegativeInfinity; // one live beam at the start
        }

        var previous = new long[rows];
        var parents = new long[rows];
        var scratchTokens = new int[w * t];
        var scratchLogp = new double[w];
        var scratchPrefix = new double[w * t];
        var scratchCells = new ulong[w];
        var scratchInside = new bool[w];
        var candidates = new List<(double Score, int Beam, int Token)>();
        var sampler = new TokenSampler(plan.Temperature, plan.TopK, plan.TopP);
        double sampleScale = plan.ScoreWith == SampleScore.Tempered && plan.Temperature > 0 ? 1 / plan.Temperature : 1;

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var cache = batch.BeginDecoding();
        cache.Expand(rowsPerImage);
        for (int p = 0; p < t; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int v = _vocab[p];
            float[] logits;
            using (var stepScope = NewDisposeScope())
            {
                var prevTensor = p == 0 ? null : tensor(previous, device: Model.Device);
                logits = cache.StepLogits(prevTensor).cpu().data<float>().ToArray();
            }

            var allowed = new bool[v];
            var lsm = new double[v];
            for (int i = 0; i < images; i++)
            {
                int baseRow = i * rowsPerImage;

                // Greedy and sample rows: choose a token each.
                for (int r = baseRow; r < baseRow + g + s; r++)
                {
                    var row = logits.AsSpan(r * v, v);
                    Allowed(region, cells[r], inside[r], p, allowed);
                    bool greedyRow = r < baseRow + g;
                    LogSoftmax(row, lsm, greedyRow ? 1 : sampleScale);
                    int token = greedyRow ? TokenSampler.ArgMax(row, allowed) : sampler.Choose(row, allowed, ref rng[i]);
                    tokens[r * t + p] = token;
                    logp[r] += lsm[token];
                    (cells[r], inside[r]) = Advance(region, cells[r], inside[r], p, token);
                    parents[r] = r;
                }

                if (w == 0) continue;

                // Beam rows: the best (beam, token) extensions over all live beams.
                int beamBase = baseRow + g + s;
                candidates.Clear();
                for (int b = 0; b < w; b++)
                {
                    int r = beamBase + b;
                    if (double.IsNegativeInfinity(logp[r])) continue;
                    var row = logits.AsSpan(r * v, v);
                    Allowed(region, cells[r], inside[r], p, allowed);
                    LogSoftmax(row, lsm, 1);
                    for (int k = 0; k < v; k++)
                    {
                        if (allowed[k]) candidates.Add((logp[r] + lsm[k], b, k));
                    }
                }

                if (candidates.Count == 0) throw new InvalidOperationException($"No beam of image {i} can continue at position {p} (the region excludes every continuation).");
                candidates.Sort((a, c) => a.Score != c.Score ? c.Score.CompareTo(a.Score) : a.Beam != c.Beam ? a.Beam.CompareTo(c.Beam) : a.Token.CompareTo(c.Token));
                bool commit = plan.BeamCommitTokens == p + 1;
                if (commit && plan.BeamCommitScore == BeamCommitScore.HierarchyMass)
                {
                    // Only the first row survives the commit: put the extension whose cell and coarser cells hold the most mass there.
                    int best = BestByHierarchyMass(candidates, prefixLogp, beamBase, p, t);
                    (candidates[0], candidates[best]) = (candidates[best], candidates[0]);
                }

                for (int b = 0; b < w; b++)
                {
                    if (b < candidates.Count)
                    {
                        var (score, parent, token) = candidates[b];
                        int pr = beamBase + parent;
                        Array.Copy(tokens, pr * t, scratchTokens, b * t, p);
                        scratchTokens[b * t + p] = token;
                        Array.Copy(prefixLogp, pr * t, scratchPrefix, b * t, p);
                        scratchPrefix[b * t + p] = score;
                        scratchLogp[b] = score;
                        (scratchCells[b], scratchInside[b]) = Advance(region, cells[pr], inside[pr], p, token);
                        parents[beamBase + b] = pr;
                    }
                    else
                    {
                        // Not enough extensions yet (e.g. width > 6 at the face): the row stays dead.
                        scratchTokens[b * t + p] = 0;
                        scratchLogp[b] = double.NegativeInfinity;
                        parents[beamBase + b] = beamBase + candidates[0].Beam;
                    }
                }

                // Two-stage search: after the commit cell's last token only the chosen prefix lives on.
                if (commit)
                {
                    for (int b = 1; b < w; b++) scratchLogp[b] = double.NegativeInfinity;
                }

                for (int b = 0; b < w; b++)
                {
                    int r = beamBase + b;
                    Array.Copy(scratchTokens, b * t, tokens, r * t, p + 1);
                    Array.Copy(scratchPrefix, b * t, prefixLogp, r * t, p + 1);
                    logp[r] = scratchLogp[b];
                    cells[r] = scratchCells[b];
                    inside[r] = scratchInside[b];
                }
            }

            if (p == t - 1) break;
            if (w > 0) cache.Reorder(parents);
            for (int r = 0; r < rows; r++) previous[r] = tokens[r * t + p];
        }

        var results = new ImageResult[images];
        for (int i = 0; i < images; i++)
        {
            int baseRow = i * rowsPerImage;
            DecodedSequence Make(int r)
            {
                var seq = tokens.AsSpan(r * t, t).ToArray();
                return new DecodedSequence(seq, logp[r], tokenizer.Decode(seq));
            }

            var greedy = g == 1 ? Make(baseRow) : null;
            var samples = Enumerable.Range(baseRow + g, s).Select(Make).ToArray();
            var live = Enumerable.Range(baseRow + g + s, w).Where(r => !double.IsNegativeInfinity(logp[r]));
            if (plan.BeamRanking == BeamRanking.CoarseToFine) live = live.Order(Comparer<int>.Create((x, y) => CompareCoarseToFine(prefixLogp, x, y, t)));
            var beams = live
                .Take(plan.BeamReturn)
                .Select(Make)
                .ToArray();
            results[i] = new ImageResult(greedy, samples, beams);
        }

        return results;
    }

    /// <summary>
    /// The index in <paramref name="candidates"/> (sorted best first) of the extension whose cell and coarser prefix
    /// cells hold the most probability mass in sum; the first such on ties.
    /// </summary>
    private static int BestByHierarchyMass(List<(double Score, int Beam, int Token)> candidates, double[] prefixLogp, int beamBase, int position, int t)
    {
        int best = 0;
        double bestMass = double.NegativeInfinity;
        for (int c = 0; c < candidates.Count; c++)
        {
            var (score, beam, _) = candidates[c];
            int offset = (beamBase + beam) * t;
            double mass = Math.Exp(score);
            for (int q = 0; q < position; q++) mass += Math.Exp(prefixLogp[offset + q]);
            if (mass > bestMass)
            {
                bestMass = mass;
                best = c;
            }
        }

        return best;
    }

    /// <summary>Which tokens of position <paramref name="position"/> keep a row with prefix cell <paramref name="prefix"/> inside the region.</summary>
    private void Allowed(DecodingRegion? region, ulong prefix, bool prefixInside, int position, bool[] allowed)
    {
        if (region is null || prefixInside)
        {
            Array.Fill(allowed, true);
            return;
        }

        for (int k = 0; k < allowed.Length; k++) allowed[k] = region.Intersects(new S2CellId(Child(prefix, position, k)));
    }

    /// <summary>The prefix cell after choosing <paramref name="token"/> at <paramref name="position"/>, and whether it lies inside the region.</summary>
    private (ulong Cell, bool Inside) Advance(DecodingRegion? region, ulong prefix, bool prefixInside, int position, int token)
    {
        if (region is null) return (0, true);
        ulong child = Child(prefix, position, token);
        return (child, prefixInside || region.Contains(new S2CellId(child)));
    }

    /// <summary>The cell named by <paramref name="prefix"/> (the cell of positions 0..position−1; unused at position 0) extended by <paramref name="token"/>.</summary>
    private ulong Child(ulong prefix, int position, int token)
    {
        if (position == 0) return S2CellId.FromFace(token).Id;
        int level = Model.Tokenizer.LevelOfPrefix(position + 1);
        int markerShift = 2 * (S2CellId.MaxLevel - level);
        ulong parentBits = prefix & ~(prefix & (~prefix + 1)); // clear the parent's marker bit
        return parentBits | ((ulong)token << (markerShift + 1)) | (1UL << markerShift);
    }

    /// <summary><c>log_softmax(logits · scale)</c> (scale 1/T scores under the tempered distribution).</summary>
    private static void LogSoftmax(ReadOnlySpan<float> logits, double[] result, double scale)
    {
        double max = double.NegativeInfinity;
        foreach (float x in logits) max = Math.Max(max, x * scale);
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x * scale - max);
        double lse = max + Math.Log(sum);
        for (int k = 0; k < logits.Length; k++) result[k] = logits[k] * scale - lse;
    }
}

/// <summary>What one <see cref="GeoTokenSearch.Run(EncodedBatch, SearchPlan, IReadOnlyList{long}?, CancellationToken)"/> decodes per image.</summary>
internal sealed record SearchPlan
{
    public bool Greedy { get; init; }

    public int Samples { get; init; }

    public double Temperature { get; init; } = 1;

    public int? TopK { get; init; }

    public double? TopP { get; init; }

    public SampleScore ScoreWith { get; init; }

    public ulong Seed { get; init; }

    public int BeamWidth { get; init; }

    public int BeamReturn { get; init; }

    public BeamRanking BeamRanking { get; init; }

    public int? BeamCommitTokens { get; init; }

    public BeamCommitScore BeamCommitScore { get; init; }

    public DecodingRegion? Region { get; init; }
}

/// <summary>One image's results of <see cref="GeoTokenSearch.Run(EncodedBatch, SearchPlan, IReadOnlyList{long}?, CancellationToken)"/>.</summary>
internal sealed record ImageResult(DecodedSequence? Greedy, DecodedSequence[] Samples, DecodedSequence[] Beams);
