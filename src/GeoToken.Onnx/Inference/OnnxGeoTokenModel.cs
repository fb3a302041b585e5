using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using GeoToken.Tokens;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using N = GeoToken.Onnx.Inference.OnnxTensorNames;

namespace GeoToken.Onnx.Inference;

/// <summary>
/// The GeoToken transformer on ONNX Runtime (no libtorch): runs a folder written by <c>geotoken export onnx</c>
/// (<see cref="OnnxModelConfig"/>). <see cref="Encode"/> runs the encoder once per batch; <see cref="Step"/> decodes
/// one position for every row with the cached keys and values and returns its log-probabilities. Greedy decoding,
/// beam search, sampling and candidate pools run on top (<see cref="OnnxGeoTokenSearch"/>): the step can continue any
/// rows of the same query (reorder, drop or repeat them). Disposable: owns the two inference sessions.
/// </summary>
/// <remarks>
/// <para>
/// Inputs are flattened row-major arrays: query features <c>[B, M, d_in]</c>, neighbor features <c>[B, k, M, d_in]</c>
/// (float32, need not be normalised) and neighbor tokens <c>[B, k, T]</c> (raw per-position token values). The step's
/// output is the log-softmax over position <c>p</c>'s vocabulary of the model's logits or, with the neighbor-copy head,
/// of the mixture with the pointer over the neighbors that agree with the row's prefix; it equals the TorchSharp
/// model's cached <c>Step</c> up to float rounding.
/// </para>
/// <para>
/// The graphs (for tools that run them directly): <c>encoder.onnx</c> maps <c>query_features</c>, <c>neighbor_features</c>,
/// <c>neighbor_tokens</c> to <c>cross_key_i [B, h, d/h, S]</c> and <c>cross_value_i [B, h, S, d/h]</c> for each decoder layer
/// and, with the copy head, <c>copy_keys [B, d, k]</c>. <c>decoder_step.onnx</c> takes <c>tokens [N]</c> (the previous
/// position's tokens, ignored at position 0), <c>beam_rows [N]</c> (the previous row each row continues),
/// <c>past_key_i [N', h, P, d/h]</c> and <c>past_value_i [N', h, P, d/h]</c> (P, the past's length, is the position
/// decoded), the encoder outputs, and with the copy head <c>past_agrees [N', k]</c> (bool) and <c>neighbor_tokens</c>;
/// it returns <c>log_probs [N, V_P]</c>, <c>present_key_i</c>/<c>present_value_i</c> (P + 1 positions) and
/// <c>present_agrees</c>. Rows are grouped by query: <c>N = B·R</c> and row <c>r</c> uses query <c>r / R</c>.
/// </para>
/// <para>Not thread-safe (one decoding at a time per state; sessions themselves may be shared).</para>
/// </remarks>
public sealed partial class OnnxGeoTokenModel : IDisposable
{
    private readonly InferenceSession _encoder;
    private readonly InferenceSession _step;
    private readonly string[] _encoderInputs;
    private readonly string[] _encoderOutputs;
    private readonly string[] _stepInputs;
    private readonly string[] _stepOutputs;
    private readonly int[] _vocab;
    private bool _disposed;

    /// <summary>Opens an export folder: reads <c>config.json</c>, checks it and the SHA-256 of both graphs, and creates the sessions.</summary>
    /// <param name="directory">The folder written by the exporter.</param>
    /// <param name="options">Session settings; null for the defaults (CPU).</param>
    /// <exception cref="FileNotFoundException">The folder lacks <c>config.json</c> or a graph.</exception>
    /// <exception cref="InvalidDataException">The config is unreadable or inconsistent, or a graph's SHA-256, inputs or outputs differ from the config's; the message names the file.</exception>
    public OnnxGeoTokenModel(string directory, OnnxGeoTokenModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Options = options ?? new OnnxGeoTokenModelOptions();
        if (Options.IntraOpThreads < 0) throw new ArgumentException($"IntraOpThreads must be 0 (ONNX Runtime's choice) or positive; got {Options.IntraOpThreads}.", nameof(options));
        Directory = Path.GetFullPath(directory);
        Config = ReadConfig(Path.Combine(Directory, OnnxModelConfig.FileName));
        var m = Config.Model;
        _vocab = Config.VocabularySizes.ToArray();
        Tokenizer = new GeoTokenizer(m.Tokenizer);
        _encoderInputs = N.EncoderInputs();
        _encoderOutputs = N.EncoderOutputs(m.DecoderLayers, m.NeighborCopy);
        _stepInputs = N.StepInputs(m.DecoderLayers, m.NeighborCopy);
        _stepOutputs = N.StepOutputs(m.DecoderLayers, m.NeighborCopy);
        _encoder = OpenGraph(Config.Encoder, N.EncoderFile, _encoderInputs, _encoderOutputs);
        try
        {
            _step = OpenGraph(Config.DecoderStep, N.DecoderStepFile, _stepInputs, _stepOutputs);
        }
        catch
        {
            _encoder.Dispose();
            throw;
        }
    }

    /// <summary>The export folder (full path).</summary>
    public string Directory { get; }

    /// <summary>The folder's configuration.</summary>
    public OnnxModelConfig Config { get; }

    /// <summary>The session settings.</summary>
    public OnnxGeoTokenModelOptions Options { get; }

    /// <summary>The model's tokenizer (from the config).</summary>
    public GeoTokenizer Tokenizer { get; }

    /// <summary>The lock that serializes searches on this model (<see cref="OnnxGeoTokenSearch"/>).</summary>
    internal object InferenceGate { get; } = new();

    /// <summary>Tokens per sequence, <c>T</c>.</summary>
    public int SequenceLength => Config.SequenceLength;

    /// <summary>Vocabulary size of each position.</summary>
    public IReadOnlyList<int> VocabularySizes => _vocab;

    /// <summary>
    /// Runs the encoder for <paramref name="batch"/> queries and returns the decoding state (one row per query, position 0).
    /// </summary>
    /// <param name="queryFeatures">Row-major <c>[B, M, d_in]</c>.</param>
    /// <param name="neighborFeatures">Row-major <c>[B, k, M, d_in]</c>.</param>
    /// <param name="neighborTokens">Row-major <c>[B, k, T]</c>, each within its position's vocabulary.</param>
    /// <param name="batch">Queries, <c>B</c> ≥ 1.</param>
    /// <param name="cancellationToken">Stops a running encoder.</param>
    /// <exception cref="ArgumentException">A length does not match the batch, or a neighbor token is out of its position's vocabulary (the message names the element).</exception>
    public OnnxDecodingState Encode(ReadOnlySpan<float> queryFeatures, ReadOnlySpan<float> neighborFeatures, ReadOnlySpan<long> neighborTokens, int batch, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var m = Config.Model;
        int t = SequenceLength, k = m.NeighborCount;
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "The batch needs at least one query.");
        long[] queryShape = [batch, m.ModalityCount, m.FeatureDimension];
        long[] neighborShape = [batch, k, m.ModalityCount, m.FeatureDimension];
        long[] tokenShape = [batch, k, t];
        RequireLength(queryFeatures.Length, queryShape, nameof(queryFeatures));
        RequireLength(neighborFeatures.Length, neighborShape, nameof(neighborFeatures));
        RequireLength(neighborTokens.Length, tokenShape, nameof(neighborTokens));
        for (int i = 0; i < neighborTokens.Length; i++)
        {
            int p = i % t;
            if ((ulong)neighborTokens[i] >= (ulong)_vocab[p])
            {
                throw new ArgumentException($"neighborTokens holds token {neighborTokens[i]} at element {i} (query {i / (k * t)}, neighbor {i / t % k}, position {p}); position {p} accepts 0..{_vocab[p] - 1}.", nameof(neighborTokens));
            }
        }

        using var q = Tensor(queryFeatures, queryShape);
        using var nf = Tensor(neighborFeatures, neighborShape);
        var nt = Tensor(neighborTokens, tokenShape);
        OrtValue[] outputs;
        try
        {
            using var runOptions = new RunOptions();
            using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
            try
            {
                outputs = _encoder.Run(runOptions, _encoderInputs, [q, nf, nt], _encoderOutputs).ToArray();
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
        catch
        {
            nt.Dispose();
            throw;
        }

        OrtValue[] past;
        OrtValue? agrees;
        try
        {
            (past, agrees) = EmptyPast(batch);
        }
        catch
        {
            foreach (var v in outputs) v.Dispose();
            nt.Dispose();
            throw;
        }

        if (!m.NeighborCopy) nt.Dispose();
        return new OnnxDecodingState(this, batch, outputs, past, agrees, m.NeighborCopy ? nt : null);
    }

    /// <summary>A fresh state (position 0, one row per query) over <paramref name="encoded"/>'s encoder output, which it shares and does not own.</summary>
    internal OnnxDecodingState Restart(OnnxDecodingState encoded)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        encoded.ThrowIfDisposed();
        var (past, agrees) = EmptyPast(encoded.Queries);
        return new OnnxDecodingState(this, encoded.Queries, encoded.EncoderOutputs, past, agrees, encoded.NeighborTokens, ownsEncoderOutputs: false);
    }

    /// <summary>The self-attention cache before position 0 (no positions) and, with the copy head, every neighbor agreeing.</summary>
    private (OrtValue[] Past, OrtValue? Agrees) EmptyPast(int batch)
    {
        var m = Config.Model;
        var past = new OrtValue[2 * m.DecoderLayers];
        OrtValue? agrees = null;
        try
        {
            int h = m.HeadCount, dh = m.ModelDimension / m.HeadCount;
            for (int i = 0; i < m.DecoderLayers; i++)
            {
                past[2 * i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [batch, h, 0, dh]);
                past[2 * i + 1] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [batch, h, 0, dh]);
            }

            if (m.NeighborCopy)
            {
                agrees = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Bool, [batch, m.NeighborCount]);
                agrees.GetTensorMutableDataAsSpan<bool>().Fill(true);
            }

            return (past, agrees);
        }
        catch
        {
            foreach (var v in past) v?.Dispose();
            agrees?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes the state's next position and returns its log-probabilities <c>[rows, V_p]</c>, then advances the state.
    /// </summary>
    /// <param name="state">From <see cref="Encode"/> on this model.</param>
    /// <param name="previousTokens">Empty at position 0; afterwards the token each (new) row appends at the previous position.</param>
    /// <param name="beamRows">
    /// Empty to continue every row as it is; otherwise, for each new row, the current row it continues (reorders, drops or
    /// repeats rows, as beam search and sampling do). Rows stay grouped by query: the count must be a multiple of
    /// <see cref="OnnxDecodingState.Queries"/>, and new row <c>i</c> must continue a row of query <c>i / R'</c>
    /// (R' = new rows per query).
    /// </param>
    /// <exception cref="ArgumentException">Tokens or rows are missing, superfluous, of the wrong count, out of range, or cross queries.</exception>
    /// <exception cref="InvalidOperationException">The sequence is complete, or the state belongs to another model.</exception>
    public float[,] Step(OnnxDecodingState state, ReadOnlySpan<long> previousTokens, ReadOnlySpan<long> beamRows = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.HasPendingRows) throw new InvalidOperationException("The decoding state is being driven as a search session (IDecoderSession) with an expand or reorder pending; step it through the session.");
        var flat = StepFlat(state, previousTokens, beamRows, out int rows);
        var result = new float[rows, flat.Length / rows];
        flat.CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(result)), result.Length));
        return result;
    }

    /// <summary>As <see cref="Step"/>, the log-probabilities row-major in one array (<paramref name="rows"/> rows).</summary>
    internal float[] StepFlat(OnnxDecodingState state, ReadOnlySpan<long> previousTokens, ReadOnlySpan<long> beamRows, out int rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        state.ThrowIfDisposed();
        if (!ReferenceEquals(state.Model, this)) throw new InvalidOperationException("The decoding state was created by another OnnxGeoTokenModel.");
        if (state.IsComplete) throw new InvalidOperationException($"All {SequenceLength} positions have been decoded.");
        int position = state.Position;
        rows = beamRows.IsEmpty ? state.Rows : beamRows.Length;
        var rowIndex = CheckRows(state, beamRows);
        var tokens = new long[rows];
        if (position == 0)
        {
            if (!previousTokens.IsEmpty) throw new ArgumentException($"The first step (position 0) takes no previous tokens; got {previousTokens.Length}.", nameof(previousTokens));
        }
        else
        {
            if (previousTokens.Length != rows) throw new ArgumentException($"Position {position} needs one token per row for position {position - 1}: {rows}; got {previousTokens.Length}.", nameof(previousTokens));
            int v = _vocab[position - 1];
            for (int i = 0; i < rows; i++)
            {
                if ((ulong)previousTokens[i] >= (ulong)v) throw new ArgumentException($"previousTokens holds {previousTokens[i]} at row {i}; position {position - 1} accepts 0..{v - 1}.", nameof(previousTokens));
            }

            previousTokens.CopyTo(tokens);
        }

        using var tokenValue = OrtValue.CreateTensorValueFromMemory(tokens, [rows]);
        using var rowValue = OrtValue.CreateTensorValueFromMemory(rowIndex, [rows]);
        int layers = Config.Model.DecoderLayers;
        var inputs = new List<OrtValue>(_stepInputs.Length) { tokenValue, rowValue };
        inputs.AddRange(state.Past);
        inputs.AddRange(state.EncoderOutputs.Take(2 * layers));
        if (Config.Model.NeighborCopy)
        {
            inputs.Add(state.Agrees!);
            inputs.Add(state.EncoderOutputs[2 * layers]);
            inputs.Add(state.NeighborTokens!);
        }

        using var runOptions = new RunOptions();
        var outputs = _step.Run(runOptions, _stepInputs, inputs, _stepOutputs).ToArray();
        float[] result;
        using (var logProbs = outputs[0]) result = logProbs.GetTensorDataAsSpan<float>().ToArray();

        state.Advance(outputs[1..(1 + 2 * layers)], Config.Model.NeighborCopy ? outputs[1 + 2 * layers] : null, rows);
        return result;
    }

    /// <summary>Releases the sessions.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _encoder.Dispose();
        _step.Dispose();
    }

    private static long[] CheckRows(OnnxDecodingState state, ReadOnlySpan<long> beamRows)
    {
        int current = state.Rows;
        if (beamRows.IsEmpty)
        {
            var identity = new long[current];
            for (int i = 0; i < current; i++) identity[i] = i;
            return identity;
        }

        int b = state.Queries, n = beamRows.Length;
        if (n % b != 0) throw new ArgumentException($"beamRows has {n} rows; rows stay grouped by query, so the count must be a multiple of the {b} queries.", nameof(beamRows));
        int perQueryNew = n / b, perQueryOld = state.RowsPerQuery;
        for (int i = 0; i < n; i++)
        {
            long r = beamRows[i];
            if ((ulong)r >= (ulong)current) throw new ArgumentException($"beamRows holds {r} (element {i}); rows are 0..{current - 1}.", nameof(beamRows));
            if (r / perQueryOld != i / perQueryNew)
            {
                throw new ArgumentException($"beamRows holds {r} (element {i}): row {r} decodes query {r / perQueryOld}, but new row {i} belongs to query {i / perQueryNew} ({perQueryNew} rows per query).", nameof(beamRows));
            }
        }

        return beamRows.ToArray();
    }

    private static void RequireLength(int length, long[] shape, string name)
    {
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (length != expected) throw new ArgumentException($"{name} has {length} elements; expected [{string.Join(", ", shape)}] = {expected}.", name);
    }

    private static OrtValue Tensor<T>(ReadOnlySpan<T> data, long[] shape) where T : unmanaged
    {
        var type = typeof(T) == typeof(float) ? TensorElementType.Float : TensorElementType.Int64;
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, shape);
        data.CopyTo(value.GetTensorMutableDataAsSpan<T>());
        return value;
    }

    private static OnnxModelConfig ReadConfig(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing: not a GeoToken ONNX export folder (write one with 'geotoken export onnx').", path);
        long size = new FileInfo(path).Length;
        if (size > OnnxModelConfig.MaxFileBytes) throw new InvalidDataException($"{path} is {size} bytes; a GeoToken ONNX config is at most {OnnxModelConfig.MaxFileBytes}.");
        OnnxModelConfig config;
        try
        {
            config = JsonSerializer.Deserialize<OnnxModelConfig>(File.ReadAllBytes(path), OnnxModelConfig.Json)
                ?? throw new InvalidDataException($"{path} holds null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid GeoToken ONNX config: {e.Message}", e);
        }

        void Require(bool ok, string message)
        {
            if (!ok) throw new InvalidDataException($"{path}: {message}");
        }

        Require(config.Format == OnnxModelConfig.FormatName, $"format is '{config.Format}'; expected '{OnnxModelConfig.FormatName}'.");
        Require(config.FormatVersion == OnnxModelConfig.CurrentFormatVersion, $"formatVersion is {config.FormatVersion}; this library reads version {OnnxModelConfig.CurrentFormatVersion} (export the model again with geotoken export onnx).");
        var m = config.Model;
        if (m?.Tokenizer is null) throw new InvalidDataException($"{path}: the model section or its tokenizer is missing.");
        Require(m.ModelDimension >= 1 && m.HeadCount >= 1 && m.ModelDimension % m.HeadCount == 0, $"model.headCount {m.HeadCount} does not divide model.modelDimension {m.ModelDimension}.");
        Require(m.DecoderLayers >= 1, $"model.decoderLayers is {m.DecoderLayers}; expected at least 1.");
        Require(m.NeighborCount >= 1, $"model.neighborCount is {m.NeighborCount}; expected at least 1.");
        Require(m.ModalityCount >= 1 && m.FeatureDimension >= 1, $"model.modalityCount {m.ModalityCount} and model.featureDimension {m.FeatureDimension} must be positive.");
        GeoTokenizer tokenizer;
        try
        {
            tokenizer = new GeoTokenizer(m.Tokenizer);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: model.tokenizer is invalid: {e.Message}", e);
        }

        Require(config.SequenceLength == tokenizer.Length, $"sequenceLength is {config.SequenceLength}; the tokenizer (level {m.Tokenizer.Level}, group size {m.Tokenizer.GroupSize}) has {tokenizer.Length} tokens.");
        Require(config.VocabularySizes is not null && config.VocabularySizes.SequenceEqual(tokenizer.VocabularySizes.ToArray()),
            $"vocabularySizes [{string.Join(", ", config.VocabularySizes ?? [])}] are not the tokenizer's [{string.Join(", ", tokenizer.VocabularySizes.ToArray())}].");
        Require(config.Encoder is not null && config.DecoderStep is not null, "the encoder or decoderStep section is missing.");
        return config;
    }

    private InferenceSession OpenGraph(OnnxGraphInfo info, string expectedFile, string[] inputs, string[] outputs)
    {
        string configPath = Path.Combine(Directory, OnnxModelConfig.FileName);
        if (info.File != expectedFile) throw new InvalidDataException($"{configPath} names the graph '{info.File}'; expected '{expectedFile}'.");
        string path = Path.Combine(Directory, info.File);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} is missing (named in {configPath}).", path);
        if (!info.Inputs.SequenceEqual(inputs) || !info.Outputs.SequenceEqual(outputs))
        {
            throw new InvalidDataException($"{configPath} lists inputs [{string.Join(", ", info.Inputs)}] and outputs [{string.Join(", ", info.Outputs)}] for {info.File}; this library runs [{string.Join(", ", inputs)}] → [{string.Join(", ", outputs)}].");
        }

        byte[] bytes = File.ReadAllBytes(path);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(sha, info.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{path} has SHA-256 {sha}, but {configPath} records {info.Sha256}: the graph was changed or damaged after export.");
        }

        using var so = new SessionOptions
        {
            IntraOpNumThreads = Options.IntraOpThreads,
            GraphOptimizationLevel = Options.OptimizationLevel,
        };
        Options.ConfigureSession?.Invoke(so);
        InferenceSession session;
        try
        {
            session = new InferenceSession(bytes, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load the graph: {e.Message}", e);
        }

        var actualIn = session.InputNames.ToHashSet();
        var actualOut = session.OutputNames.ToHashSet();
        if (!actualIn.SetEquals(inputs) || !actualOut.SetEquals(outputs))
        {
            session.Dispose();
            throw new InvalidDataException($"{path} has inputs [{string.Join(", ", session.InputNames)}] and outputs [{string.Join(", ", session.OutputNames)}]; expected [{string.Join(", ", inputs)}] → [{string.Join(", ", outputs)}].");
        }

        return session;
    }
}
