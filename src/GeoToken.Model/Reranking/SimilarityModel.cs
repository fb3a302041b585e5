using GeoToken.Geometry;
using GeoToken.Randomness;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Reranking;

/// <summary>
/// GeoCLIP-style embeddings of images and locations in one space, trained contrastively
/// (<see cref="Model.Training.SimilarityTrainer"/>): the cosine of an image's and a location's embedding says how well they match.
/// </summary>
/// <remarks>
/// <para>
/// Image side: an MLP (<c>image.fc1</c> d_in → hidden, ReLU, <c>image.fc2</c> hidden → D) on the image features,
/// L2-normalised. Location side: the position as the model's location input (<see cref="SimilarityModelOptions.LocationInput"/>:
/// a 3-D unit vector <c>x</c>, or GeoCLIP's Equal Earth projection <c>v</c> of (latitude, longitude), see
/// <see cref="EqualEarthProjection"/>); for each scale σ, random Fourier features <c>[cos 2πBx, sin 2πBx]</c> with a
/// fixed frequency matrix <c>B</c> (<c>location.frequencies_{i}</c>, [F, 3] or [F, 2], entries N(0, σ²), drawn from the
/// model's seed or imported) through that scale's MLP (<c>location.branches.{i}.layers.{j}</c>: Linear and ReLU
/// for each hidden layer, then a Linear head to D); the branches' outputs are summed, and the sum is L2-normalised.
/// <c>logit_scale</c> is the learned inverse temperature (log scale, capped at ln 100 as in CLIP).
/// </para>
/// <para>
/// With <see cref="SimilarityLocationInput.EqualEarth"/> this is GeoCLIP's computation step for step: projection in
/// float32, <c>(2π v) Bᵀ</c>, cosines then sines, three hidden layers of 1,024 with ReLU, a 1,024 → 512 head per
/// branch, the sum normalised once; the image MLP's output normalised; the logit scale exponentiated.
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

    /// <summary>
    /// Location inputs (see <see cref="LocationInputs"/>: <c>[N, 3]</c> unit vectors or <c>[N, 2]</c> latitude/longitude
    /// degrees, as <see cref="SimilarityModelOptions.LocationInput"/> says) → L2-normalised location embeddings <c>[N, D]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The inputs are not <c>[N, width]</c> for this model's location input.</exception>
    public Tensor EmbedLocations(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int width = Options.LocationInputWidth;
        if (inputs.dim() != 2 || inputs.shape[1] != width)
        {
            string what = Options.LocationInput == SimilarityLocationInput.EqualEarth ? "(latitude, longitude) degrees" : "unit vectors";
            throw new ArgumentException($"The location inputs have shape [{string.Join(", ", inputs.shape)}]; this model reads [N, {width}] {what}.", nameof(inputs));
        }

        return _location.Forward(inputs);
    }

    /// <summary>L2-normalised location embeddings <c>[N, D]</c> of <paramref name="positions"/> (<see cref="LocationInputs"/> then <see cref="EmbedLocations"/>).</summary>
    public Tensor EmbedPositions(ReadOnlySpan<LatLng> positions)
    {
        using var scope = NewDisposeScope();
        return EmbedLocations(LocationInputs(positions)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The model's location inputs for <paramref name="positions"/> on its device: float32 unit vectors <c>[N, 3]</c>
    /// (<see cref="UnitVectors"/>) or float32 (latitude, longitude) degrees <c>[N, 2]</c> for the Equal Earth input.
    /// </summary>
    public Tensor LocationInputs(ReadOnlySpan<LatLng> positions)
    {
        if (Options.LocationInput != SimilarityLocationInput.EqualEarth) return UnitVectors(positions);
        var data = new float[positions.Length * 2];
        for (int i = 0; i < positions.Length; i++)
        {
            data[2 * i] = (float)positions[i].Latitude;
            data[2 * i + 1] = (float)positions[i].Longitude;
        }

        return tensor(data, [positions.Length, 2], device: _logitScale.device);
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
        private readonly bool _equalEarth;

        public LocationEncoder(SimilarityModelOptions o, ulong seed) : base(nameof(LocationEncoder))
        {
            _equalEarth = o.LocationInput == SimilarityLocationInput.EqualEarth;
            int width = o.LocationInputWidth;
            _branches = new ModuleList<LocationBranch>();
            _frequencies = new Tensor[o.Scales.Count];
            for (int s = 0; s < o.Scales.Count; s++)
            {
                _branches.Add(new LocationBranch(o));
                var rng = new SplitMix64(SplitMix64.Mix(seed, 0xF0F0UL + (ulong)s));
                var b = new float[o.FourierFeatures * width];
                for (int i = 0; i < b.Length; i++) b[i] = (float)(rng.NextGaussian() * o.Scales[s]);
                _frequencies[s] = tensor(b, [o.FourierFeatures, width]);
            }

            RegisterComponents();
            for (int s = 0; s < _frequencies.Length; s++) register_buffer($"frequencies_{s}", _frequencies[s], persistent: true);
        }

        public Tensor Forward(Tensor inputs)
        {
            using var scope = NewDisposeScope();
            // GeoCLIP scales the projected point by 2π before the product with B; the unit-vector variant scales the product.
            var projected = _equalEarth ? EqualEarthProjection.Project(inputs).mul_(2 * Math.PI) : null;
            Tensor? sum = null;
            for (int s = 0; s < _frequencies.Length; s++)
            {
                // The registered buffer (it follows the module to other devices).
                var b = get_buffer($"frequencies_{s}")!;
                var angle = projected is null ? inputs.matmul(b.t()).mul_(2 * Math.PI) : projected.matmul(b.t());
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
