using GeoToken.Geometry;
using GeoToken.Model.Training;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model.Reranking;

/// <summary>
/// GeoCLIP-style embeddings of images and locations in one space, trained contrastively
/// (<see cref="SimilarityTrainer"/>): the cosine of an image's and a location's embedding says how well they match.
/// </summary>
/// <remarks>
/// <para>
/// Image side: an MLP (<c>image.fc1</c> d_in → hidden, ReLU, <c>image.fc2</c> hidden → D) on the image features,
/// L2-normalised. Location side: the position as a 3-D unit vector <c>x</c>; for each scale σ, random Fourier
/// features <c>[cos 2πBx, sin 2πBx]</c> with a fixed frequency matrix <c>B</c> (<c>location.frequencies_{i}</c>,
/// entries N(0, σ²), drawn from the model's seed) through that scale's MLP
/// (<c>location.branches.{i}.layers.{j}</c>); the branches are summed and L2-normalised.
/// <c>logit_scale</c> is the learned inverse temperature (log scale, capped at ln 100 as in CLIP).
/// </para>
/// <para>Not thread-safe by itself; <see cref="SimilarityReranker"/> and <see cref="GpsGallery"/> serialize their calls on the model.</para>
/// </remarks>
public sealed class SimilarityModel : nn.Module
{
    /// <summary>The cap of the logit scale, ln 100 (CLIP's).</summary>
    public static readonly double MaxLogitScale = Math.Log(100);

    [ComponentName(Name = "image")]
    private readonly ImageBranch _image;

    [ComponentName(Name = "location")]
    private readonly LocationEncoder _location;

    [ComponentName(Name = "logit_scale")]
    private readonly Parameter _logitScale;

    /// <summary>Builds a model with fresh weights drawn from <paramref name="seed"/> (torch's global generator is left as it was).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public SimilarityModel(SimilarityModelOptions options, ulong seed = 1) : base(nameof(SimilarityModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        using var state = random.get_rng_state();
        try
        {
            random.manual_seed(unchecked((long)SplitMix64.Mix(seed, 0x51A1)));
            _image = new ImageBranch(options);
            _location = new LocationEncoder(options, seed);
            _logitScale = nn.Parameter(tensor(new[] { (float)Math.Log(1 / options.InitialTemperature) }));
        }
        finally
        {
            random.set_rng_state(state);
        }

        RegisterComponents();
    }

    /// <summary>The model's shape.</summary>
    public SimilarityModelOptions Options { get; }

    /// <summary>The current softmax temperature, 1 / exp(logit_scale) (after the cap).</summary>
    public double Temperature
    {
        get
        {
            using var noGrad = no_grad();
            return 1 / Math.Exp(Math.Min(_logitScale.item<float>(), MaxLogitScale));
        }
    }

    internal object Gate { get; } = new();

    /// <summary>The capped logit scale (inverse temperature), a scalar tensor with autograd.</summary>
    internal Tensor LogitScale() => _logitScale.clamp(max: MaxLogitScale).exp();

    /// <summary>Image features <c>[N, d_in]</c> → L2-normalised embeddings <c>[N, D]</c>.</summary>
    public Tensor EmbedImages(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[1] != Options.FeatureDimension)
        {
            throw new ArgumentException($"features has shape [{string.Join(", ", features.shape)}]; expected [N, {Options.FeatureDimension}].", nameof(features));
        }

        return _image.Forward(features);
    }

    /// <summary>Unit vectors <c>[N, 3]</c> (see <see cref="UnitVectors"/>) → L2-normalised location embeddings <c>[N, D]</c>.</summary>
    public Tensor EmbedLocations(Tensor unitVectors)
    {
        ArgumentNullException.ThrowIfNull(unitVectors);
        if (unitVectors.dim() != 2 || unitVectors.shape[1] != 3)
        {
            throw new ArgumentException($"unitVectors has shape [{string.Join(", ", unitVectors.shape)}]; expected [N, 3].", nameof(unitVectors));
        }

        return _location.Forward(unitVectors);
    }

    /// <summary>Positions as float32 unit vectors <c>[N, 3]</c> (x towards lat 0 lng 0, z towards the north pole) on the model's device.</summary>
    public Tensor UnitVectors(ReadOnlySpan<LatLng> positions)
    {
        var data = new float[positions.Length * 3];
        for (int i = 0; i < positions.Length; i++)
        {
            var p = positions[i].ToPoint();
            data[3 * i] = (float)p.X;
            data[3 * i + 1] = (float)p.Y;
            data[3 * i + 2] = (float)p.Z;
        }

        return tensor(data, [positions.Length, 3], device: _logitScale.device);
    }

    /// <summary>The device holding the weights.</summary>
    public Device Device => _logitScale.device;

    private sealed class ImageBranch : nn.Module
    {
        [ComponentName(Name = "fc1")]
        private readonly Linear _fc1;

        [ComponentName(Name = "fc2")]
        private readonly Linear _fc2;

        public ImageBranch(SimilarityModelOptions o) : base(nameof(ImageBranch))
        {
            _fc1 = nn.Linear(o.FeatureDimension, o.ImageHiddenDimension);
            _fc2 = nn.Linear(o.ImageHiddenDimension, o.EmbeddingDimension);
            RegisterComponents();
        }

        public Tensor Forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var y = _fc2.forward(F.relu(_fc1.forward(x)));
            return F.normalize(y, p: 2.0, dim: -1, eps: 1e-12).MoveToOuterDisposeScope();
        }
    }

    private sealed class LocationEncoder : nn.Module
    {
        [ComponentName(Name = "branches")]
        private readonly ModuleList<LocationBranch> _branches;

        private readonly Tensor[] _frequencies;

        public LocationEncoder(SimilarityModelOptions o, ulong seed) : base(nameof(LocationEncoder))
        {
            _branches = new ModuleList<LocationBranch>();
            _frequencies = new Tensor[o.Scales.Count];
            for (int s = 0; s < o.Scales.Count; s++)
            {
                _branches.Add(new LocationBranch(o));
                var rng = new SplitMix64(SplitMix64.Mix(seed, 0xF0F0UL + (ulong)s));
                var b = new float[o.FourierFeatures * 3];
                for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextGaussian() * o.Scales[s]);
                _frequencies[s] = tensor(b, [o.FourierFeatures, 3]);
            }

            RegisterComponents();
            for (int s = 0; s < _frequencies.Length; s++) register_buffer($"frequencies_{s}", _frequencies[s], persistent: true);
        }

        public Tensor Forward(Tensor unit)
        {
            using var scope = NewDisposeScope();
            Tensor? sum = null;
            for (int s = 0; s < _frequencies.Length; s++)
            {
                // The registered buffer (it follows the module to other devices).
                var b = get_buffer($"frequencies_{s}")!;
                var angle = unit.matmul(b.t()).mul_(2 * Math.PI);
                var features = cat([angle.cos(), angle.sin()], 1);
                var y = _branches[s].Forward(features);
                sum = sum is null ? y : sum + y;
            }

            return F.normalize(sum!, p: 2.0, dim: -1, eps: 1e-12).MoveToOuterDisposeScope();
        }
    }

    private sealed class LocationBranch : nn.Module
    {
        [ComponentName(Name = "layers")]
        private readonly ModuleList<Linear> _layers;

        public LocationBranch(SimilarityModelOptions o) : base(nameof(LocationBranch))
        {
            _layers = new ModuleList<Linear>();
            int width = 2 * o.FourierFeatures;
            for (int j = 0; j < o.LocationHiddenLayers; j++)
            {
                _layers.Add(nn.Linear(width, o.LocationHiddenDimension));
                width = o.LocationHiddenDimension;
            }

            _layers.Add(nn.Linear(width, o.EmbeddingDimension));
            RegisterComponents();
        }

        public Tensor Forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            for (int j = 0; j < _layers.Count; j++)
            {
                x = _layers[j].forward(x);
                if (j < _layers.Count - 1) x = F.relu(x);
            }

            return x.MoveToOuterDisposeScope();
        }
    }
}
