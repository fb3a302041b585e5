
namespace GeoToken.Decoding;

/// <summary>Which distribution a sampled sequence's <see cref="DecodedSequence.LogProbability"/> is summed under.</summary>
public enum SampleScore
{
    /// <summary>
    /// The model's untempered distribution (GeoToken.NET's default): every candidate — greedy, beam or sampled at any
    /// temperature — is scored by the same model, so their log-probabilities compare directly.
    /// </summary>
    Untempered,

    /// <summary>
    /// The tempered distribution the token was drawn from, <c>log_softmax(logits / T)</c> (the reference sampler's score,
    /// <c>sample_n.py</c>). Scores of samples drawn at different temperatures, and of greedy or beam candidates (always
    /// untempered), are then on different scales. Top-k/top-p do not renormalise it. Unused at temperature 0.
    /// </summary>
    Tempered,
}
