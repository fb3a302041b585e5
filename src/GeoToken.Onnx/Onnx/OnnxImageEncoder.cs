using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using GeoToken.Embeddings;
using GeoToken.Imaging;
using GeoToken.Preprocessing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GeoToken.Onnx;

/// <summary>
/// An <see cref="IImageEncoder"/> over a user-supplied ONNX image model run with ONNX Runtime (CPU
/// unless <see cref="OnnxImageEncoderOptions.ConfigureSession"/> adds an execution provider).
/// Owns its <see cref="InferenceSession"/>: dispose the encoder.
/// </summary>
/// <remarks>
/// <para>The image input, its layout check, the crop size and a fixed or dynamic batch dimension
/// are read from the model's metadata; so are the output and its dimension (by one trial run on a
/// blank batch when the metadata leaves it open). The output may be any tensor of the graph,
/// including intermediate ones (<see cref="OnnxImageEncoderOptions.OutputName"/>).</para>
/// <para>Encoding is batched; while ONNX Runtime runs one batch, the next is decoded and
/// preprocessed on other threads. Encoding methods are thread-safe and may run concurrently
/// (ONNX Runtime sessions are); do not dispose the encoder while an encoding runs.</para>
/// </remarks>
public sealed class OnnxImageEncoder : IImageEncoder, IDisposable
{
    /// <summary>ONNX Runtime's session configuration key for where external initializers live when a model is loaded from memory.</summary>
    private const string ExternalInitializersFolderKey = "session.model_external_initializers_file_folder_path";

    private readonly InferenceSession _session;
    private readonly ImagePreprocessor _preprocessor;
    private readonly ImageDecodeOptions _decoding;
    private readonly bool _float16Input;
    private readonly bool _float16Output;
    private readonly int _decodeThreads;
    private int _disposed;

    /// <summary>Loads the ONNX model at <paramref name="modelPath"/> and inspects its input and output.</summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="OnnxModelException">The file is not a valid ONNX model, or its inputs and outputs do not fit the options; the message names the file and says what to change.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public OnnxImageEncoder(string modelPath, OnnxImageEncoderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        Options = options ??= new OnnxImageEncoderOptions();
        ArgumentNullException.ThrowIfNull(options.Preprocessing, nameof(options.Preprocessing));
        ArgumentNullException.ThrowIfNull(options.Decoding, nameof(options.Decoding));
        if (options.BatchSize <= 0) throw new ArgumentException($"BatchSize must be positive; got {options.BatchSize}.", nameof(options));
        if (options.IntraOpThreads < 0) throw new ArgumentException($"IntraOpThreads must be 0 (ONNX Runtime's choice) or positive; got {options.IntraOpThreads}.", nameof(options));
        if (options.DecodeThreads < 0) throw new ArgumentException($"DecodeThreads must be 0 (all processors) or positive; got {options.DecodeThreads}.", nameof(options));
        if (!Enum.IsDefined(options.Pooling)) throw new ArgumentException($"Pooling {options.Pooling} is not defined.", nameof(options));
        _preprocessor = new ImagePreprocessor(options.Preprocessing);

        // Images beyond the full-decode budget need only the preprocessing's shorter side.
        _decoding = options.Decoding.LargeImageShorterSide is null
            ? options.Decoding with { LargeImageShorterSide = options.Preprocessing.ResizeShorterSide }
            : options.Decoding;
        _decodeThreads = options.DecodeThreads == 0 ? Environment.ProcessorCount : options.DecodeThreads;

        ModelPath = Path.GetFullPath(modelPath);
        if (!File.Exists(ModelPath)) throw new FileNotFoundException($"{modelPath}: the ONNX model file does not exist.", ModelPath);

        _session = CreateSession(null);
        try
        {
            (InputName, _float16Input) = ResolveInput(_session, options);
            if (options.OutputName is { } wanted && !_session.OutputMetadata.ContainsKey(wanted))
            {
                byte[] edited = ExposeIntermediate(wanted);
                _session.Dispose();
                _session = CreateSession(edited);
            }

            (OutputName, _float16Output) = ResolveOutput(_session, options);
            Dimension = DetectDimension();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The settings in use.</summary>
    public OnnxImageEncoderOptions Options { get; }

    /// <summary>The model file (full path).</summary>
    public string ModelPath { get; }

    /// <summary>The model input that receives the images.</summary>
    public string InputName { get; }

    /// <summary>The tensor used as the embedding.</summary>
    public string OutputName { get; }

    /// <summary>The model's fixed batch size, or <see langword="null"/> when the batch dimension is dynamic.</summary>
    public int? FixedBatchSize { get; private set; }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <inheritdoc/>
    public Task<ImageEmbeddings> EncodeAsync(IReadOnlyList<string> paths, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return EncodeCoreAsync(paths.Count, i => ImageDecoder.Decode(paths[i], _decoding), i => paths[i], progress, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<ImageEmbeddings> EncodeAsync(IReadOnlyList<RgbImage> images, IProgress<EncodeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return EncodeCoreAsync(images.Count, i => images[i] ?? throw new ArgumentException($"Image #{i} is null.", nameof(images)), i => $"image #{i}", progress, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<float[]> EncodeAsync(Stream image, string sourceName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var ms = new MemoryStream();
        await image.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
        var decoded = ImageDecoder.Decode(ms.GetBuffer().AsSpan(0, (int)ms.Length), sourceName, _decoding);
        var result = await EncodeCoreAsync(1, _ => decoded, _ => sourceName, null, cancellationToken).ConfigureAwait(false);
        return result.GetRow(0);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _session.Dispose();
    }

    private int InputHeight => Options.Preprocessing.CropHeight;

    private int InputWidth => Options.Preprocessing.CropWidth;

    private async Task<ImageEmbeddings> EncodeCoreAsync(int count, Func<int, RgbImage> load, Func<int, string> name, IProgress<EncodeProgress>? progress, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ct.ThrowIfCancellationRequested();
        int d = Dimension;
        var result = new float[(long)count * d];
        if (count == 0) return new ImageEmbeddings(result, 0, d);

        int runBatch = FixedBatchSize ?? Math.Min(Options.BatchSize, count);
        int per = _preprocessor.Settings.ValuesPerImage;
        int batches = (count + runBatch - 1) / runBatch;
        float[][] buffers = batches == 1 ? [new float[runBatch * per]] : [new float[runBatch * per], new float[runBatch * per]];

        Task Prepare(int batch) => Task.Run(() => PrepareBatch(buffers[batch % buffers.Length], batch * runBatch, Math.Min(runBatch, count - (batch * runBatch)), load, ct), ct);

        Task? pending = Prepare(0);
        try
        {
            for (int b = 0; b < batches; b++)
            {
                await pending!.ConfigureAwait(false);
                pending = b + 1 < batches ? Prepare(b + 1) : null;
                ct.ThrowIfCancellationRequested();
                int start = b * runBatch, n = Math.Min(runBatch, count - start);
                (long[] shape, float[] values) = Run(buffers[b % buffers.Length], FixedBatchSize ?? n, ct, name(start));
                Pool(shape, values, n, result.AsSpan(start * d, n * d), i => name(start + i));
                progress?.Report(new EncodeProgress(start + n, count));
            }
        }
        finally
        {
            if (pending is not null)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // An earlier failure is already propagating; this batch's outcome no longer matters.
                }
            }
        }

        return new ImageEmbeddings(result, count, d);
    }

    private void PrepareBatch(float[] buffer, int start, int n, Func<int, RgbImage> load, CancellationToken ct)
    {
        int per = _preprocessor.Settings.ValuesPerImage;
        buffer.AsSpan(n * per).Clear(); // padding images of a fixed-size batch
        var errors = new Exception?[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = _decodeThreads, CancellationToken = ct }, i =>
        {
            try
            {
                _preprocessor.Process(load(start + i), buffer.AsSpan(i * per, per));
            }
            catch (Exception e)
            {
                errors[i] = e;
            }
        });

        // Report the first failing image in input order, whatever the threads' timing.
        if (Array.Find(errors, e => e is not null) is { } first) ExceptionDispatchInfo.Capture(first).Throw();
    }

    private (long[] Shape, float[] Values) Run(float[] input, int runBatch, CancellationToken ct, string firstImage)
    {
        long[] shape = Options.Preprocessing.Layout == TensorLayout.Nchw
            ? [runBatch, 3, InputHeight, InputWidth]
            : [runBatch, InputHeight, InputWidth, 3];
        int length = runBatch * _preprocessor.Settings.ValuesPerImage;
        using var runOptions = new RunOptions();
        using var registration = ct.Register(() => runOptions.Terminate = true);
        using OrtValue inputValue = _float16Input
            ? OrtValue.CreateTensorValueFromMemory(ToFloat16(input.AsSpan(0, length)), shape)
            : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(0, length), shape);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, [InputName], [inputValue], [OutputName]);
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException($"{ModelPath}: inference failed on the batch starting with {firstImage}: {e.Message}", e);
        }

        using (outputs)
        {
            OrtValue output = outputs[0];
            long[] outShape = output.GetTensorTypeAndShape().Shape;
            float[] values;
            if (_float16Output)
            {
                ReadOnlySpan<Half> half = MemoryMarshal.Cast<Float16, Half>(output.GetTensorDataAsSpan<Float16>());
                values = new float[half.Length];
                TensorPrimitives.ConvertToSingle(half, values);
            }
            else
            {
                values = output.GetTensorDataAsSpan<float>().ToArray();
            }

            return (outShape, values);
        }
    }

    private static Float16[] ToFloat16(ReadOnlySpan<float> values)
    {
        var result = new Float16[values.Length];
        TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<Float16, Half>(result.AsSpan()));
        return result;
    }

    /// <summary>The embedding length an output of <paramref name="shape"/> gives, or an explanation why it cannot be used.</summary>
    private (int Dimension, string? Problem) PooledDimension(ReadOnlySpan<long> shape)
    {
        string s = $"[{string.Join(", ", shape.ToArray())}]";
        if (shape.Length < 2) return (0, $"output '{OutputName}' has shape {s}; it needs a batch axis and at least one more");
        long perImage = 1;
        foreach (long v in shape[1..]) perImage *= v;
        return Options.Pooling switch
        {
            OutputPooling.GlobalAveragePool when shape.Length < 3 => (0, $"GlobalAveragePool needs a feature map [N, C, H, W]; output '{OutputName}' has shape {s}"),
            OutputPooling.GlobalAveragePool => ((int)shape[1], null),
            OutputPooling.FirstToken when shape.Length != 3 => (0, $"FirstToken needs hidden states [N, T, D]; output '{OutputName}' has shape {s}"),
            OutputPooling.FirstToken => ((int)shape[2], null),
            _ when perImage > int.MaxValue / 16 => (0, $"output '{OutputName}' of shape {s} is too large to be an embedding"),
            _ => ((int)perImage, null),
        };
    }

    private void Pool(long[] shape, float[] values, int n, Span<float> destination, Func<int, string> name)
    {
        int d = Dimension;
        (int pd, string? problem) = PooledDimension(shape);
        if (problem is null && pd != d) problem = $"output '{OutputName}' has shape [{string.Join(", ", shape)}], which gives {pd} values per image instead of {d}";
        if (problem is null && shape[0] < n) problem = $"output '{OutputName}' has {shape[0]} rows for a batch of {n}";
        if (problem is not null) throw new OnnxModelException($"{ModelPath}: {problem}.");

        int perImage = values.Length / (int)shape[0];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> src = values.AsSpan(i * perImage, perImage);
            Span<float> dst = destination.Slice(i * d, d);
            switch (Options.Pooling)
            {
                case OutputPooling.GlobalAveragePool:
                    int spatial = perImage / d;
                    for (int c = 0; c < d; c++) dst[c] = TensorPrimitives.Sum(src.Slice(c * spatial, spatial)) / spatial;
                    break;
                case OutputPooling.FirstToken:
                    src[..d].CopyTo(dst);
                    break;
                default:
                    src.CopyTo(dst);
                    break;
            }

            for (int k = 0; k < d; k++)
            {
                if (!float.IsFinite(dst[k]))
                {
                    throw new OnnxModelException($"{ModelPath}: the model's output '{OutputName}' for {name(i)} contains {dst[k].ToString(CultureInfo.InvariantCulture)} at index {k}.");
                }
            }

            if (Options.L2Normalize)
            {
                float norm = TensorPrimitives.Norm(dst);
                if (norm > 0) TensorPrimitives.Divide(dst, norm, dst);
            }
        }
    }

    private InferenceSession CreateSession(byte[]? model)
    {
        using var so = new SessionOptions
        {
            IntraOpNumThreads = Options.IntraOpThreads,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        if (model is not null) so.AddSessionConfigEntry(ExternalInitializersFolderKey, Path.GetDirectoryName(ModelPath)!);

        // Idle ONNX Runtime threads sleep instead of spinning, so the threads decoding the next batch get the cores.
        if (!Options.SpinWaitThreads) so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        Options.ConfigureSession?.Invoke(so);
        try
        {
            return model is null ? new InferenceSession(ModelPath, so) : new InferenceSession(model, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException($"{ModelPath}: ONNX Runtime cannot load this file as an ONNX model: {e.Message}", e);
        }
    }

    private (string Name, bool Float16) ResolveInput(InferenceSession session, OnnxImageEncoderOptions options)
    {
        var inputs = session.InputMetadata;
        string Describe() => string.Join(", ", inputs.Select(kv => $"'{kv.Key}' {DescribeNode(kv.Value)}"));
        string name;
        if (options.InputName is { } wanted)
        {
            if (!inputs.ContainsKey(wanted)) throw Model($"has no input '{wanted}'; its inputs are {Describe()}");
            name = wanted;
        }
        else
        {
            var candidates = inputs.Where(kv => IsFloatTensor(kv.Value) && kv.Value.Dimensions.Length == 4).Select(kv => kv.Key).ToList();
            if (candidates.Count != 1)
            {
                throw Model(candidates.Count == 0
                    ? $"has no 4-D float input for images; its inputs are {Describe()}"
                    : $"has several 4-D float inputs ({string.Join(", ", candidates)}); choose one with InputName");
            }

            name = candidates[0];
        }

        if (inputs.Count > 1)
        {
            throw Model($"needs other inputs besides the image input '{name}': {Describe()}. Export the image encoder alone (e.g. CLIP's vision model with its projection)");
        }

        NodeMetadata meta = inputs[name];
        if (!IsFloatTensor(meta)) throw Model($"input '{name}' is {DescribeNode(meta)}; a float or float16 tensor is needed");
        int[] dims = meta.Dimensions;
        if (dims.Length != 4) throw Model($"input '{name}' has {dims.Length} dimensions {DescribeNode(meta)}; an image batch [N, 3, H, W] or [N, H, W, 3] is needed");
        bool nchw = options.Preprocessing.Layout == TensorLayout.Nchw;
        int c = nchw ? dims[1] : dims[3], h = nchw ? dims[2] : dims[1], w = nchw ? dims[3] : dims[2];
        if (c != 3 && c > 0)
        {
            int other = nchw ? dims[3] : dims[1];
            throw Model(other == 3
                ? $"input '{name}' {DescribeNode(meta)} has its channels {(nchw ? "last" : "first")}; set Preprocessing.Layout = {(nchw ? TensorLayout.Nhwc : TensorLayout.Nchw)}"
                : $"input '{name}' {DescribeNode(meta)} has {c} channels; only 3-channel colour models are supported");
        }

        var p = options.Preprocessing;
        if ((h > 0 && h != p.CropHeight) || (w > 0 && w != p.CropWidth))
        {
            throw Model($"input '{name}' {DescribeNode(meta)} takes {(w > 0 ? w : p.CropWidth)}×{(h > 0 ? h : p.CropHeight)} images but the preprocessing crops {p.CropWidth}×{p.CropHeight}; set Preprocessing.CropWidth/CropHeight (and ResizeShorterSide) to match");
        }

        FixedBatchSize = dims[0] > 0 ? dims[0] : null;
        return (name, meta.ElementDataType == TensorElementType.Float16);
    }

    private (string Name, bool Float16) ResolveOutput(InferenceSession session, OnnxImageEncoderOptions options)
    {
        var outputs = session.OutputMetadata;
        string name;
        if (options.OutputName is { } wanted)
        {
            name = wanted;
        }
        else
        {
            name = outputs.FirstOrDefault(kv => IsFloatTensor(kv.Value)).Key
                ?? throw Model($"has no float tensor output ({string.Join(", ", outputs.Select(kv => $"'{kv.Key}' {DescribeNode(kv.Value)}"))}); name the tensor to use with OutputName (an intermediate tensor such as a penultimate layer works too)");
        }

        NodeMetadata meta = outputs[name];
        if (!IsFloatTensor(meta)) throw Model($"output '{name}' is {DescribeNode(meta)}; a float or float16 tensor is needed");
        return (name, meta.ElementDataType == TensorElementType.Float16);
    }

    private byte[] ExposeIntermediate(string tensor)
    {
        byte[] bytes = File.ReadAllBytes(ModelPath);
        List<string> produced;
        try
        {
            produced = [.. OnnxProtobuf.ReadGraph(bytes).Nodes.SelectMany(n => n.Outputs)];
        }
        catch (InvalidDataException e)
        {
            throw new OnnxModelException($"{ModelPath}: cannot read the model's graph to expose '{tensor}': {e.Message}", e);
        }

        if (!produced.Contains(tensor, StringComparer.Ordinal))
        {
            throw Model($"has no tensor '{tensor}'; graph outputs are {string.Join(", ", _session.OutputMetadata.Keys.Select(k => $"'{k}'"))} and the last node outputs are {string.Join(", ", produced.TakeLast(8).Select(k => $"'{k}'"))}");
        }

        return OnnxProtobuf.AddGraphOutputs(bytes, [tensor]);
    }

    private int DetectDimension()
    {
        int[] dims = _session.OutputMetadata[OutputName].Dimensions;
        bool known = dims.Length >= 2 && dims.Skip(1).All(v => v > 0);
        long[] shape;
        if (known)
        {
            shape = [.. dims.Select(v => (long)v)];
            shape[0] = 1;
        }
        else
        {
            // The metadata leaves the shape open: run a blank batch once.
            int batch = FixedBatchSize ?? 1;
            shape = Run(new float[batch * _preprocessor.Settings.ValuesPerImage], batch, CancellationToken.None, "a blank probe image").Shape;
        }

        (int d, string? problem) = PooledDimension(shape);
        if (problem is not null) throw Model(problem);
        if (d <= 0) throw Model($"output '{OutputName}' has an empty shape [{string.Join(", ", shape)}]");
        return d;
    }

    private OnnxModelException Model(string message) => new($"{ModelPath}: the model {message}.");

    private static bool IsFloatTensor(NodeMetadata m) =>
        m.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR && m.ElementDataType is TensorElementType.Float or TensorElementType.Float16;

    private static string DescribeNode(NodeMetadata m) => m.OnnxValueType == OnnxValueType.ONNX_TYPE_TENSOR
        ? $"{m.ElementDataType} [{string.Join(", ", m.Dimensions.Select(v => v > 0 ? v.ToString(CultureInfo.InvariantCulture) : "?"))}]"
        : m.OnnxValueType.ToString();
}
