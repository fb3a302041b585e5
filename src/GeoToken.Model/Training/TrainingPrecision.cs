namespace GeoToken.Model.Training;

/// <summary>The number format of the training forward and backward passes (<see cref="GeoTokenTrainerOptions.Precision"/>).</summary>
public enum TrainingPrecision
{
    /// <summary>Everything in float32 (GeoToken.NET's default).</summary>
    Float32,

    /// <summary>
    /// Mixed precision as the reference trains (<c>autocast(dtype=bfloat16)</c>): the forward and backward passes run in
    /// bfloat16 on a replica of the model, the gradients are accumulated in float32, and the optimizer updates float32
    /// master weights (which are what checkpoints and saved models hold). TorchSharp 0.107 has no autocast, so the
    /// replica is the whole model in bfloat16 (autocast would keep a few operations, e.g. layer norms and softmax, in
    /// float32); the loss is computed in float32 from bfloat16 logits. On CPUs it is for fidelity to the paper, not speed:
    /// on an AVX-512-BF16 CPU it trained the small preset at about 0.7× the float32 rate (README).
    /// </summary>
    BFloat16,
}
