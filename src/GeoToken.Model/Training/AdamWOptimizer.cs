using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GeoToken.Model.Training;

/// <summary>
/// AdamW (decoupled weight decay, Loshchilov &amp; Hutter) with PyTorch's update rule, whose state is
/// keyed by parameter name so it can be checkpointed and restored exactly.
/// </summary>
/// <remarks>
/// Per parameter with gradient <c>g</c> at step <c>t</c>:
/// <c>p ← p·(1 − lr·wd)</c>; <c>m ← β1·m + (1−β1)·g</c>; <c>v ← β2·v + (1−β2)·g²</c>;
/// <c>p ← p − lr/(1−β1^t) · m / (√v / √(1−β2^t) + ε)</c>. Parameters without a gradient are skipped.
/// </remarks>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly (string Name, Parameter Param)[] _params;
    private readonly Tensor[] _expAvg;
    private readonly Tensor[] _expAvgSq;
    private readonly long[] _steps;
    private bool _disposed;

    /// <summary>Creates the optimizer with zero moments.</summary>
    /// <param name="parameters">Named parameters (e.g. <c>model.named_parameters()</c>).</param>
    /// <param name="weightDecay">Decoupled weight decay (paper: 1e-6).</param>
    /// <param name="beta1">First-moment decay (default 0.9).</param>
    /// <param name="beta2">Second-moment decay (default 0.999).</param>
    /// <param name="epsilon">Denominator term (default 1e-8).</param>
    public AdamWOptimizer(IEnumerable<(string Name, Parameter Param)> parameters, double weightDecay = 1e-6, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(weightDecay >= 0) || double.IsInfinity(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be finite and non-negative.");
        if (!(beta1 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon >= 0) || double.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be finite and non-negative.");
        _params = parameters.ToArray();
        var dup = _params.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"Parameter name '{dup.Key}' occurs twice.", nameof(parameters));
        WeightDecay = weightDecay;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _expAvg = new Tensor[_params.Length];
        _expAvgSq = new Tensor[_params.Length];
        _steps = new long[_params.Length];
        using var noGrad = no_grad();
        for (int i = 0; i < _params.Length; i++)
        {
            _expAvg[i] = zeros_like(_params[i].Param).DetachFromDisposeScope();
            _expAvgSq[i] = zeros_like(_params[i].Param).DetachFromDisposeScope();
        }
    }

    /// <summary>The learning rate the next <see cref="Step()"/> uses.</summary>
    public double LearningRate { get; set; } = 5e-5;

    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>First-moment decay.</summary>
    public double Beta1 { get; }

    /// <summary>Second-moment decay.</summary>
    public double Beta2 { get; }

    /// <summary>Denominator term.</summary>
    public double Epsilon { get; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step() => Step(i => _params[i].Param.grad);

    /// <summary>
    /// Applies one update with gradients given per parameter (index into the constructor's order; null skips it), e.g.
    /// float32 gradients computed by a lower-precision replica of the model.
    /// </summary>
    internal void Step(Func<int, Tensor?> gradientOf)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        double lr = LearningRate;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i].Param;
            var grad = gradientOf(i);
            if (grad is null) continue;
            long t = ++_steps[i];
            double bc1 = 1 - Math.Pow(Beta1, t);
            double bc2 = 1 - Math.Pow(Beta2, t);
            // Every scalar is held in a using for the duration of its call (see Scalars: TorchSharp's implicit
            // temporaries can be finalized while libtorch reads them).
            if (WeightDecay != 0)
            {
                using var decay = (1 - lr * WeightDecay).ToScalar();
                p.mul_(decay);
            }

            using var beta1 = Beta1.ToScalar();
            using var oneMinusBeta1 = (1 - Beta1).ToScalar();
            using var beta2 = Beta2.ToScalar();
            using var oneMinusBeta2 = (1 - Beta2).ToScalar();
            using var bias2 = Math.Sqrt(bc2).ToScalar();
            using var epsilon = Epsilon.ToScalar();
            using var step = (-lr / bc1).ToScalar();
            _expAvg[i].mul_(beta1).add_(grad, oneMinusBeta1);
            _expAvgSq[i].mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            var denom = _expAvgSq[i].sqrt().div_(bias2).add_(epsilon);
            p.addcdiv_(_expAvg[i], denom, step);
        }
    }

    /// <summary>The optimizer state as named tensors (for checkpoints): <c>exp_avg.{name}</c>, <c>exp_avg_sq.{name}</c> and <c>steps</c> (int64, one per parameter). The tensors are views owned by the optimizer.</summary>
    internal IEnumerable<(string Name, Tensor Tensor)> StateTensors()
    {
        for (int i = 0; i < _params.Length; i++)
        {
            yield return ("exp_avg." + _params[i].Name, _expAvg[i]);
            yield return ("exp_avg_sq." + _params[i].Name, _expAvgSq[i]);
        }

        yield return ("steps", tensor(_steps));
    }

    /// <summary>The names of the parameters, in the order <see cref="Step(Func{int, Tensor})"/> indexes them.</summary>
    internal IEnumerable<string> ParameterNames => _params.Select(p => p.Name);

    /// <summary>The tensor names <see cref="LoadState"/> needs.</summary>
    internal IEnumerable<string> StateNames() =>
        _params.SelectMany(p => new[] { "exp_avg." + p.Name, "exp_avg_sq." + p.Name }).Append("steps");

    /// <summary>Restores the state written by <see cref="StateTensors"/>.</summary>
    internal void LoadState(IReadOnlyDictionary<string, Tensor> state, string source)
    {
        var steps = state["steps"];
        if (steps.dtype != ScalarType.Int64 || steps.shape.Length != 1 || steps.shape[0] != _params.Length)
        {
            throw new InvalidDataException($"'{source}': optimizer 'steps' has shape [{string.Join(", ", steps.shape)}]; expected [{_params.Length}].");
        }

        using var noGrad = no_grad();
        for (int i = 0; i < _params.Length; i++)
        {
            foreach (var (name, dst) in new[] { ("exp_avg." + _params[i].Name, _expAvg[i]), ("exp_avg_sq." + _params[i].Name, _expAvgSq[i]) })
            {
                var src = state[name];
                if (!src.shape.SequenceEqual(dst.shape) || src.dtype != dst.dtype)
                {
                    throw new InvalidDataException($"'{source}': optimizer state '{name}' is {src.dtype} [{string.Join(", ", src.shape)}]; the parameter is {dst.dtype} [{string.Join(", ", dst.shape)}].");
                }

                dst.copy_(src);
            }
        }

        steps.data<long>().ToArray().CopyTo(_steps, 0);
    }

    /// <summary>Releases the moment tensors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _expAvg.Concat(_expAvgSq)) t.Dispose();
    }
}
