using GeoToken.Tokens;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model;

/// <summary>
/// The GeoToken encoder–decoder transformer. The encoder reads a learned CLS vector, the query's
/// projected feature views and the retrieved neighbors (projected features and embeddings of their
/// S2 tokens); the decoder predicts the query's token sequence autoregressively with one output head
/// per position.
/// </summary>
/// <remarks>
/// <para>
/// Encoder input, in order: <c>cls_token</c>; the query's <c>M</c> feature views, each through its own
/// <c>projections.{m}</c> MLP (d_in → d → d, ReLU) and L2-normalised; then the <c>k</c> neighbors. In the
/// <see cref="ContextLayout.Paper"/> layout each neighbor contributes its <c>M</c> projected views
/// (same MLPs) followed by the <c>context_token_embedding</c> of each of its <c>T</c> tokens
/// (row <c>Offsets[p] + token</c>); in the <see cref="ContextLayout.Compact"/> layout it contributes one
/// position, the sum of its projected views plus the mean of its token embeddings. Sinusoidal positional
/// encodings are added and dropout applied before the encoder layers.
/// </para>
/// <para>
/// Decoder input: <c>start_token</c>, then the <c>token_embedding</c> (a table separate from the
/// context's) of the previous target tokens, plus sinusoidal positions; causal self-attention,
/// cross-attention to the encoder output, and <c>heads.{p}</c> (Linear d → vocabulary of position p)
/// on the output at position <c>p</c>. With <see cref="GeoTokenModelOptions.NeighborCopy"/>, each position's
/// distribution is mixed with a pointer over the neighbors that agree with the prefix (see
/// <see cref="GeoTokenModelOptions.NeighborCopy"/>), and the "logits" returned are those log-probabilities.
/// </para>
/// <para>
/// Parameter names (state-dict keys) are stable and pinned by tests: <c>cls_token</c>, <c>start_token</c>,
/// <c>projections.{m}.fc{1,2}.{weight,bias}</c>, <c>context_token_embedding.weight</c>,
/// <c>token_embedding.weight</c>, <c>encoder.layers.{i}.{self_attn.{q,k,v,out}_proj, self_attn_norm, ffn.fc{1,2}, ffn_norm}.*</c>,
/// <c>decoder.layers.{i}.{self_attn, self_attn_norm, cross_attn, cross_attn_norm, ffn, ffn_norm}.*</c>,
/// <c>encoder.norm.*</c> and <c>decoder.norm.*</c> (pre-norm only), <c>heads.{p}.{weight,bias}</c>, and with
/// <see cref="GeoTokenModelOptions.NeighborCopy"/> <c>copy_head.{query,key,gate}.{weight,bias}</c> and <c>copy_head.rank_bias</c>.
/// </para>
/// <para>Methods that take tensors expect them on the model's device. Not thread-safe.</para>
/// </remarks>
public sealed class GeoTokenModel : nn.Module
{
    private long _encoderRuns;

    [ComponentName(Name = "cls_token")]
    private Parameter _clsToken;

    [ComponentName(Name = "start_token")]
    private Parameter _startToken;

    [ComponentName(Name = "projections")]
    private readonly ModuleList<FeatureProjection> _projections;

    [ComponentName(Name = "context_token_embedding")]
    private readonly Embedding _contextTokenEmbedding;

    [ComponentName(Name = "encoder")]
    private readonly EncoderStack _encoder;

    [ComponentName(Name = "token_embedding")]
    private readonly Embedding _tokenEmbedding;

    [ComponentName(Name = "decoder")]
    private readonly DecoderStack _decoder;

    [ComponentName(Name = "heads")]
    private readonly ModuleList<Linear> _heads;

    [ComponentName(Name = "copy_head")]
    private readonly NeighborCopyHead? _copyHead;

    // Non-persistent buffers (not in the state dict; rebuilt from the options).
    [ComponentName(Name = "positional_encoding")]
    private Tensor _positions;

    [ComponentName(Name = "token_offsets")]
    private Tensor _offsets;

    [ComponentName(Name = "vocabulary_sizes")]
    private Tensor _vocabSizes;

    private readonly int[] _vocab;

    // Encoder positions of each neighbor's first element (the copy head's keys).
    private readonly long[] _neighborPositions;

    /// <summary>Builds a model with freshly initialised weights (seed with <c>torch.manual_seed</c> first for reproducibility).</summary>
    /// <param name="options">The model's shape; null for <see cref="GeoTokenModelOptions.Paper"/>.</param>
    /// <exception cref="ArgumentException">The options are invalid (see <see cref="GeoTokenModelOptions.Validate"/>).</exception>
    public GeoTokenModel(GeoTokenModelOptions? options = null) : base(TorchRuntime.Checked(nameof(GeoTokenModel)))
    {
        options ??= GeoTokenModelOptions.Paper;
        options.Validate();
        Options = options;
        Tokenizer = new GeoTokenizer(options.Tokenizer);
        int d = options.ModelDimension;
        _vocab = Tokenizer.VocabularySizes.ToArray();

        _clsToken = nn.Parameter(randn(d));
        _startToken = nn.Parameter(randn(d));
        _projections = new ModuleList<FeatureProjection>();
        for (int m = 0; m < options.ModalityCount; m++) _projections.Add(new FeatureProjection(options.FeatureDimension, d));
        _contextTokenEmbedding = nn.Embedding(Tokenizer.TotalVocabularySize, d);
        _encoder = new EncoderStack(options);
        _tokenEmbedding = nn.Embedding(Tokenizer.TotalVocabularySize, d);
        _decoder = new DecoderStack(options);
        _heads = new ModuleList<Linear>();
        for (int p = 0; p < Tokenizer.Length; p++) _heads.Add(nn.Linear(d, _vocab[p]));
        if (options.NeighborCopy) _copyHead = new NeighborCopyHead(d, options.NeighborCount);
        _neighborPositions = NeighborPositions(options);

        // Decoder positions 0..T (T + 1: the state after the last token feeds the reward head).
        _positions = SinusoidalPositions.Table(Math.Max(options.ContextLength, options.SequenceLength + 1), d);
        _offsets = tensor(Tokenizer.Offsets.ToArray().Select(o => (long)o).ToArray());
        _vocabSizes = tensor(_vocab.Select(v => (long)v).ToArray());
        register_buffer("positional_encoding", _positions, persistent: false);
        register_buffer("token_offsets", _offsets, persistent: false);
        register_buffer("vocabulary_sizes", _vocabSizes, persistent: false);
        RegisterComponents();
    }

    /// <summary>The model's shape.</summary>
    public GeoTokenModelOptions Options { get; }

    /// <summary>The tokenizer that defines the token sequences the model reads and writes.</summary>
    public GeoTokenizer Tokenizer { get; }

    /// <summary>Trainable parameters in total.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>The device holding the weights.</summary>
    public Device Device => _clsToken.device;

    /// <summary>
    /// The number of rows of the sinusoidal position table added to the encoder and decoder inputs
    /// (<c>max(ContextLength, SequenceLength + 1)</c>).
    /// </summary>
    public int PositionalEncodingLength => (int)_positions.shape[0];

    /// <summary>A copy of the position table <c>[P, d]</c> (float32, on the CPU).</summary>
    public Tensor GetPositionalEncoding()
    {
        using var noGrad = no_grad();
        return _positions.to(CPU).clone();
    }

    /// <summary>
    /// Replaces the position table with the first <see cref="PositionalEncodingLength"/> rows of
    /// <paramref name="table"/>: the same sinusoids, as another implementation rounded them (PyTorch
    /// computes them in float32, this library in float64). Importers use it so that an imported model
    /// adds exactly the values its checkpoint holds.
    /// </summary>
    /// <param name="table">A float tensor <c>[≥ P, d]</c>.</param>
    /// <param name="tolerance">How far an entry may be from this library's own table; a table that is
    /// not the same sinusoids is refused.</param>
    /// <exception cref="ArgumentException">The table has too few rows, another width, a non-finite entry, or entries farther than <paramref name="tolerance"/> from the sinusoids.</exception>
    public void SetPositionalEncoding(Tensor table, double tolerance = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(table);
        int rows = PositionalEncodingLength, d = Options.ModelDimension;
        if (!is_floating_point(table) || table.dim() != 2 || table.shape[0] < rows || table.shape[1] != d)
        {
            throw new ArgumentException($"The position table is {table.dtype} [{string.Join(", ", table.shape)}]; expected floating point [≥ {rows}, {d}].", nameof(table));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var head = table.narrow(0, 0, rows).to(ScalarType.Float32).to(_positions.device);
        if (!head.isfinite().all().item<bool>())
        {
            throw new ArgumentException("The position table has a non-finite entry.", nameof(table));
        }

        double diff = (head - _positions).abs().max().item<float>();
        if (diff > tolerance)
        {
            throw new ArgumentException(FormattableString.Invariant($"The position table differs from the sinusoids by up to {diff:G3} (tolerance {tolerance:G3}); it is not the table this model uses."), nameof(table));
        }

        _positions.copy_(head);
    }

    /// <summary>
    /// Runs the encoder: returns the memory <c>[B, S, d]</c> (<c>S</c> = <see cref="GeoTokenModelOptions.ContextLength"/>).
    /// <see cref="GeoTokenBatch.TargetTokens"/> is not used.
    /// </summary>
    /// <exception cref="ArgumentException">The batch does not match the model's options, or a neighbor token is out of its position's vocabulary.</exception>
    public Tensor Encode(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate(Options, requireTargets: false);
        Interlocked.Increment(ref _encoderRuns);
        CheckTokenRange(batch.NeighborTokens, nameof(GeoTokenBatch.NeighborTokens));
        using var scope = NewDisposeScope();
        var o = Options;
        long b = batch.Count;
        int d = o.ModelDimension, k = o.NeighborCount, mCount = o.ModalityCount;

        Tensor cls = _clsToken.view(1, 1, d).expand(b, 1, d);
        Tensor sequence;
        if (k == 0)
        {
            var queryViews = new Tensor[mCount];
            for (int m = 0; m < mCount; m++) queryViews[m] = _projections[m].Forward(batch.QueryFeatures.to_type(_clsToken.dtype).select(1, m));
            sequence = cat([cls, stack(queryViews, 1)], 1);
        }
        else
        {
            // Query and neighbors share each modality's projection: project [B, 1 + k, d_in] per modality.
            // Features are float32; a model converted to another floating type (a bfloat16 training replica) reads them in its own.
            Tensor all = cat([batch.QueryFeatures.unsqueeze(1), batch.NeighborFeatures], 1).to_type(_clsToken.dtype); // [B, 1+k, M, d_in]
            var views = new Tensor[mCount];
            for (int m = 0; m < mCount; m++) views[m] = _projections[m].Forward(all.select(2, m)); // [B, 1+k, d]
            Tensor projected = stack(views, 2); // [B, 1+k, M, d]
            Tensor queryProjected = projected.select(1, 0); // [B, M, d]
            Tensor neighborProjected = projected.narrow(1, 1, k); // [B, k, M, d]
            Tensor tokenEmb = _contextTokenEmbedding.forward(batch.NeighborTokens.Plus(_offsets)); // [B, k, T, d]
            Tensor neighbors = o.ContextLayout == ContextLayout.Paper
                ? cat([neighborProjected, tokenEmb], 2).reshape(b, k * (mCount + o.SequenceLength), d)
                : neighborProjected.sum(2).Plus(tokenEmb.mean([2]));
            sequence = cat([cls, queryProjected, neighbors], 1);
        }

        Tensor x = F.dropout(sequence.Plus(Positions(sequence.shape[1], sequence.dtype)), o.Dropout, training);
        return _encoder.Forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Full (non-cached) causal decoding of a prefix: given the memory <c>[B, S, d]</c> and the first
    /// <c>n</c> tokens <c>[B, n]</c> (0 ≤ n &lt; T), returns the logits of positions 0..n, one
    /// <c>[B, V_p]</c> tensor per position.
    /// </summary>
    /// <param name="memory">The encoder output <c>[B, S, d]</c> (see <see cref="Encode"/>).</param>
    /// <param name="prefixTokens">The tokens decoded so far, int64 <c>[B, n]</c>.</param>
    /// <param name="neighborTokens">The batch's <see cref="GeoTokenBatch.NeighborTokens"/> <c>[B, k, T]</c>; required with <see cref="GeoTokenModelOptions.NeighborCopy"/>, ignored otherwise.</param>
    /// <exception cref="ArgumentException">The prefix has the wrong shape or type, a token is out of its position's vocabulary, or the copy head's neighbor tokens are missing.</exception>
    public Tensor[] Decode(Tensor memory, Tensor prefixTokens, Tensor? neighborTokens = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(prefixTokens);
        int t = Options.SequenceLength;
        if (prefixTokens.dtype != ScalarType.Int64 || prefixTokens.dim() != 2 || prefixTokens.shape[0] != memory.shape[0] || prefixTokens.shape[1] >= t)
        {
            throw new ArgumentException($"prefixTokens has type {prefixTokens.dtype} and shape [{string.Join(", ", prefixTokens.shape)}]; expected int64 [{memory.shape[0]}, n] with 0 ≤ n < {t}.", nameof(prefixTokens));
        }

        CheckTokenRange(prefixTokens, nameof(prefixTokens));
        if (_copyHead is not null) CheckNeighborTokens(neighborTokens, memory.shape[0]);
        using var scope = NewDisposeScope();
        long b = memory.shape[0];
        int n = (int)prefixTokens.shape[1];
        int d = Options.ModelDimension;
        Tensor start = _startToken.view(1, 1, d).expand(b, 1, d);
        Tensor x = n == 0 ? start : cat([start, _tokenEmbedding.forward(prefixTokens.Plus(_offsets.narrow(0, 0, n)))], 1);
        x = F.dropout(x.Plus(Positions(n + 1, x.dtype)), Options.Dropout, training);
        Tensor h = _decoder.Forward(x, memory);
        var logits = new Tensor[n + 1];
        if (_copyHead is null)
        {
            for (int p = 0; p <= n; p++) logits[p] = _heads[p].forward(h.select(1, p)).MoveToOuterDisposeScope();
            return logits;
        }

        // Neighbor j agrees with the prefix at position p when its tokens 0..p−1 equal the prefix's.
        Tensor keys = _copyHead.Keys(NeighborMemory(memory));
        Tensor agreesSoFar = ones([b, Options.NeighborCount], ScalarType.Bool, memory.device);
        for (int p = 0; p <= n; p++)
        {
            if (p > 0) agreesSoFar = agreesSoFar.logical_and(NeighborCopyHead.Matches(neighborTokens!.select(2, p - 1), prefixTokens.select(1, p - 1), 1));
            Tensor state = h.select(1, p);
            logits[p] = _copyHead.Mix(_heads[p].forward(state), state, keys, neighborTokens!.select(2, p), agreesSoFar, 1).MoveToOuterDisposeScope();
        }

        return logits;
    }

    /// <summary>
    /// The teacher-forced forward pass used in training: encodes the batch and decodes its target tokens;
    /// returns the logits of every position, one <c>[B, V_p]</c> tensor per position (T in all).
    /// </summary>
    /// <exception cref="ArgumentException">The batch has no targets or does not match the model's options.</exception>
    public Tensor[] Forward(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Validate(Options, requireTargets: true);
        CheckTokenRange(batch.TargetTokens!, nameof(GeoTokenBatch.TargetTokens));
        using var scope = NewDisposeScope();
        Tensor memory = Encode(batch);
        Tensor[] logits = Decode(memory, batch.TargetTokens!.narrow(1, 0, Options.SequenceLength - 1), batch.NeighborTokens);
        foreach (var l in logits) l.MoveToOuterDisposeScope();
        return logits;
    }

    /// <summary>
    /// Starts KV-cached incremental decoding for a batch (inference; no autograd): runs the encoder once
    /// and computes every decoder layer's cross-attention keys and values once. Put the model in
    /// evaluation mode (<c>eval()</c>) first unless you want dropout. The returned cache owns its tensors.
    /// </summary>
    public GeoTokenDecoderCache BeginDecoding(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor memory = Encode(batch);
        return BeginDecodingCore(memory, batch.NeighborTokens);
    }

    /// <summary>
    /// Runs the encoder once for <paramref name="batch"/> and keeps its output (as a decoder cache at position 0), so
    /// that greedy decoding, beam searches, candidate pools and pool scorers of this batch all decode from it without
    /// running the encoder again (see <see cref="EncodedBatch.BeginDecoding"/>). Inference only (no autograd).
    /// </summary>
    /// <param name="batch">The batch (the result refers to it but does not own it: keep it alive while decoding).</param>
    public EncodedBatch EncodeBatch(GeoTokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (InferenceGate)
        {
            return new EncodedBatch(this, batch, BeginDecoding(batch));
        }
    }

    /// <summary>The lock that serializes inference on this model (encoding, searches, pool scorers): libtorch already uses every core within a call.</summary>
    internal object InferenceGate { get; } = new();

    /// <summary>How often the encoder has run (<see cref="Encode"/>), for tests and diagnostics.</summary>
    internal long EncoderRuns => Interlocked.Read(ref _encoderRuns);

    /// <summary>
    /// As <see cref="BeginDecoding(GeoTokenBatch)"/> from an encoder output <c>[B, S, d]</c> (see <see cref="Encode"/>);
    /// the cache does not keep a reference to the memory. <paramref name="neighborTokens"/> (<c>[B, k, T]</c>, the
    /// batch's <see cref="GeoTokenBatch.NeighborTokens"/>) is required with <see cref="GeoTokenModelOptions.NeighborCopy"/>.
    /// </summary>
    public GeoTokenDecoderCache BeginDecoding(Tensor memory, Tensor? neighborTokens = null)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (memory.dim() != 3 || memory.shape[2] != Options.ModelDimension)
        {
            throw new ArgumentException($"memory has shape [{string.Join(", ", memory.shape)}]; expected [B, S, {Options.ModelDimension}].", nameof(memory));
        }

        if (_copyHead is not null) CheckNeighborTokens(neighborTokens, memory.shape[0]);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return BeginDecodingCore(memory, neighborTokens);
    }

    private GeoTokenDecoderCache BeginDecodingCore(Tensor memory, Tensor? neighborTokens)
    {
        var o = Options;
        long b = memory.shape[0];
        int layers = o.DecoderLayers;
        var memKeys = new Tensor[layers];
        var memValues = new Tensor[layers];
        var selfKeys = new Tensor[layers];
        var selfValues = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            var (k, v) = _decoder.Layers[i].MemoryKeyValue(memory);
            memKeys[i] = k.contiguous().DetachFromDisposeScope();
            memValues[i] = v.contiguous().DetachFromDisposeScope();
            selfKeys[i] = zeros([b, o.HeadCount, o.SequenceLength, o.HeadDimension], memory.dtype, memory.device).DetachFromDisposeScope();
            selfValues[i] = zeros([b, o.HeadCount, o.SequenceLength, o.HeadDimension], memory.dtype, memory.device).DetachFromDisposeScope();
        }

        NeighborCopyState? copy = null;
        if (_copyHead is not null)
        {
            copy = new NeighborCopyState(
                _copyHead.Keys(NeighborMemory(memory)).contiguous().DetachFromDisposeScope(),
                neighborTokens!.contiguous().DetachFromDisposeScope(),
                ones([b, o.NeighborCount], ScalarType.Bool, memory.device).DetachFromDisposeScope());
        }

        return new GeoTokenDecoderCache(this, memKeys, memValues, selfKeys, selfValues, copy);
    }

    /// <summary>One decoding step for the cache's next position; returns the logits [B, V_p].</summary>
    internal Tensor StepLogits(GeoTokenDecoderCache cache, Tensor? previousTokens)
    {
        int t = cache.Position;
        long b = cache.BatchSize;
        int d = Options.ModelDimension;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor x;
        if (t == 0)
        {
            x = _startToken.view(1, 1, d).expand(b, 1, d);
        }
        else
        {
            CheckTokenRange(previousTokens!.unsqueeze(1), nameof(previousTokens), firstPosition: t - 1);
            x = _tokenEmbedding.forward(previousTokens!.Plus(_offsets[t - 1])).unsqueeze(1);
        }

        x = F.dropout(x.Plus(_positions[t].to_type(x.dtype)), Options.Dropout, training);
        Tensor h = _decoder.Step(x, cache.MemoryKeys, cache.MemoryValues, cache.SelfKeys, cache.SelfValues, t, cache.RowsPerMemory).squeeze(1);
        Tensor logits = _heads[t].forward(h);
        if (_copyHead is not null)
        {
            var copy = cache.Copy!;
            if (t > 0) copy.Agrees.logical_and_(NeighborCopyHead.Matches(copy.NeighborTokens.select(2, t - 1), previousTokens!, cache.RowsPerMemory));

            logits = _copyHead.Mix(logits, h, copy.Keys, copy.NeighborTokens.select(2, t), copy.Agrees, cache.RowsPerMemory);
        }

        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The decoder's output states for full (teacher-forced) token sequences: <paramref name="tokens"/> int64
    /// <c>[N, T]</c> (<c>N</c> = <paramref name="cache"/>'s batch size; row <c>r</c> decodes against the memory of
    /// the cache's row <c>r</c>) → <c>[N, T + 1, d]</c>: the state at position <c>p</c> has read the start vector
    /// and tokens 0..p−1, so positions 0..T−1 feed the output heads and position <c>T</c> is the state after the
    /// last token (the reward head's input). Uses only the cache's cross-attention keys/values.
    /// </summary>
    internal Tensor DecoderStates(GeoTokenDecoderCache cache, Tensor tokens)
    {
        int t = Options.SequenceLength, d = Options.ModelDimension;
        if (tokens.dtype != ScalarType.Int64 || tokens.dim() != 2 || tokens.shape[0] != cache.BatchSize || tokens.shape[1] != t)
        {
            throw new ArgumentException($"tokens has type {tokens.dtype} and shape [{string.Join(", ", tokens.shape)}]; expected int64 [{cache.BatchSize}, {t}].", nameof(tokens));
        }

        CheckTokenRange(tokens, nameof(tokens));
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long n = tokens.shape[0];
        Tensor start = _startToken.view(1, 1, d).expand(n, 1, d);
        Tensor x = cat([start, _tokenEmbedding.forward(tokens.Plus(_offsets))], 1);
        x = F.dropout(x.Plus(Positions(t + 1, x.dtype)), Options.Dropout, training);
        return _decoder.Forward(x, cache.MemoryKeys, cache.MemoryValues, cache.RowsPerMemory).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="DecoderStates"/>, with autograd (for fine-tuning the model through a head on its states): encodes
    /// <paramref name="batch"/>, then decodes the full sequences <paramref name="tokens"/> <c>[N, T]</c>, row <c>r</c>
    /// against the memory of image <paramref name="imageOfRow"/>[r] → <c>[N, T + 1, d]</c>.
    /// </summary>
    internal Tensor TeacherForcedStates(GeoTokenBatch batch, Tensor imageOfRow, Tensor tokens)
    {
        int t = Options.SequenceLength, d = Options.ModelDimension;
        if (tokens.dtype != ScalarType.Int64 || tokens.dim() != 2 || tokens.shape[1] != t || imageOfRow.shape[0] != tokens.shape[0])
        {
            throw new ArgumentException($"tokens has type {tokens.dtype} and shape [{string.Join(", ", tokens.shape)}]; expected int64 [{imageOfRow.shape[0]}, {t}].", nameof(tokens));
        }

        CheckTokenRange(tokens, nameof(tokens));
        using var scope = NewDisposeScope();
        Tensor memory = Encode(batch).index_select(0, imageOfRow);
        long n = tokens.shape[0];
        Tensor start = _startToken.view(1, 1, d).expand(n, 1, d);
        Tensor x = cat([start, _tokenEmbedding.forward(tokens.Plus(_offsets))], 1);
        x = F.dropout(x.Plus(Positions(t + 1, x.dtype)), Options.Dropout, training);
        return _decoder.Forward(x, memory).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The first <paramref name="length"/> rows of the positional encoding in <paramref name="dtype"/>: the buffer stays
    /// float32 when the module is converted to another floating type (TorchSharp's <c>to(ScalarType)</c> leaves it).
    /// </summary>
    private Tensor Positions(long length, ScalarType dtype) => _positions.narrow(0, 0, length).to_type(dtype);

    /// <summary>The output head of <paramref name="position"/> applied to decoder states <c>[N, d]</c>: logits <c>[N, V_p]</c>.</summary>
    internal Tensor HeadLogits(int position, Tensor states) => _heads[position].forward(states);

    /// <summary>The encoder outputs at each neighbor's first position, <c>[B, k, d]</c>.</summary>
    private Tensor NeighborMemory(Tensor memory)
    {
        using var idx = tensor(_neighborPositions, device: memory.device);
        return memory.index_select(1, idx);
    }

    private static long[] NeighborPositions(GeoTokenModelOptions o)
    {
        int stride = o.ContextLayout == ContextLayout.Paper ? o.ModalityCount + o.SequenceLength : 1;
        return Enumerable.Range(0, o.NeighborCount).Select(j => (long)(1 + o.ModalityCount + j * stride)).ToArray();
    }

    private void CheckNeighborTokens(Tensor? neighborTokens, long batch)
    {
        long[] expected = [batch, Options.NeighborCount, Options.SequenceLength];
        if (neighborTokens is null)
        {
            throw new ArgumentException($"This model has the neighbor-copy head (NeighborCopy); pass the batch's neighbor tokens [{string.Join(", ", expected)}].", nameof(neighborTokens));
        }

        if (neighborTokens.dtype != ScalarType.Int64 || !neighborTokens.shape.SequenceEqual(expected))
        {
            throw new ArgumentException($"neighborTokens has type {neighborTokens.dtype} and shape [{string.Join(", ", neighborTokens.shape)}]; expected int64 [{string.Join(", ", expected)}].", nameof(neighborTokens));
        }

        CheckTokenRange(neighborTokens, nameof(neighborTokens));
    }

    /// <summary>Throws when a token lies outside its position's vocabulary (the last dimension indexes positions from <paramref name="firstPosition"/>).</summary>
    private void CheckTokenRange(Tensor tokens, string name, int firstPosition = 0)
    {
        using var scope = NewDisposeScope();
        long n = tokens.shape[^1];
        if (n == 0) return;
        Tensor limits = _vocabSizes.narrow(0, firstPosition, n);
        Tensor bad = tokens.lt(0).logical_or_(tokens.ge(limits));
        if (!bad.any().item<bool>()) return;

        Tensor index = bad.reshape(-1).nonzero()[0, 0];
        long flat = index.item<long>();
        long position = flat % n + firstPosition;
        long value = tokens.reshape(-1)[flat].item<long>();
        throw new ArgumentException(
            $"{name} holds token {value} at position {position} (element {flat} of the flattened tensor); position {position} accepts 0..{_vocab[position] - 1}.",
            name);
    }
}
