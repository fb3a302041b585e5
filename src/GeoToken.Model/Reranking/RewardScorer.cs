using GeoToken.Decoding;
using GeoToken.Model;

namespace GeoToken.Reranking;

/// <summary>
/// The reward head as a pool scorer: scores every candidate from the batch's kept encoder output (no second encoder
/// pass) under the name <c>reward</c>, which <see cref="RewardReranker"/> ranks by. TorchSharp only: the head reads the
/// decoder's hidden states, which an ONNX export does not output.
/// </summary>
public sealed class RewardScorer : IPoolScorer, IDisposable
{
    private readonly RewardHead _head;
    private readonly bool _ownsHead;
    private readonly string _source; // how messages name the head, at the start of a sentence

    /// <summary>A scorer over <paramref name="head"/> (not owned).</summary>
    /// <param name="head">The reward head.</param>
    public RewardScorer(RewardHead head)
        : this(head ?? throw new ArgumentNullException(nameof(head)), false, "The reward head")
    {
    }

    private RewardScorer(RewardHead head, bool ownsHead, string source)
    {
        _head = head;
        _ownsHead = ownsHead;
        _source = source;
    }

    /// <summary>Loads a reward head file (<c>geotoken reward</c>) onto <paramref name="device"/>; the scorer owns it (dispose the scorer).</summary>
    /// <param name="path">The head file.</param>
    /// <param name="device">The torch device of the model it scores (cpu, cuda, cuda:N).</param>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is not a reward head or is damaged.</exception>
    public static RewardScorer Open(string path, string device = "cpu")
    {
        ArgumentNullException.ThrowIfNull(path);
        return new RewardScorer(RewardHeadFile.Load(path, TorchDevices.Parse(device)), true, $"The reward head {path}");
    }

    /// <inheritdoc/>
    public string Name => RewardReranker.ScorerName;

    /// <inheritdoc/>
    public void CheckUsableWith(IRuntimeModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is not TorchRuntimeModel torch)
        {
            throw new ArgumentException($"{_source} needs the TorchSharp runtime: it reads the decoder's hidden states, which the {model.Runtime} model {model.Path} does not output. Use the TorchSharp model it was exported from, or another reranker.");
        }

        if (_head.ModelDimension != torch.Model.Options.ModelDimension)
        {
            throw new ArgumentException($"{_source} reads {_head.ModelDimension}-d states; the model {model.Path} has {torch.Model.Options.ModelDimension}.");
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<IReadOnlyList<double>> Score(IEncodedBatch batch, IReadOnlyList<IReadOnlyList<GeoCandidate>> pools, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        cancellationToken.ThrowIfCancellationRequested();
        if (batch is not TorchEncodedBatch torch) throw new ArgumentException($"{_source} scores TorchSharp batches only; this batch was encoded on {batch.Model.Runtime}.", nameof(batch));
        return _head.Score(torch.Encoded, pools);
    }

    /// <summary>Releases the head when the scorer loaded it (<see cref="Open"/>).</summary>
    public void Dispose()
    {
        if (_ownsHead) _head.Dispose();
    }
}
