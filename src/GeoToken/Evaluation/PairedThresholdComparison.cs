namespace GeoToken.Evaluation;

/// <summary>
/// Two strategies' accuracy within one distance on the same images (see <see cref="PairedComparison"/>), in percent
/// of the images and percentage points.
/// </summary>
/// <param name="ThresholdKm">The distance, in km.</param>
/// <param name="Accuracy">Percentage of images the candidate strategy places within the distance.</param>
/// <param name="BaselineAccuracy">Percentage of images the baseline places within the distance.</param>
/// <param name="Wins">Images the candidate places within the distance and the baseline does not.</param>
/// <param name="Losses">Images the baseline places within the distance and the candidate does not.</param>
/// <param name="Difference">Accuracy minus baseline accuracy, in percentage points: 100 · (wins − losses) / images.</param>
/// <param name="DifferenceLow">Lower end of the 95 % confidence interval of <paramref name="Difference"/> (normal approximation for paired proportions).</param>
/// <param name="DifferenceHigh">Upper end of that interval.</param>
/// <param name="PValue">
/// Exact two-sided McNemar test of "both strategies are equally accurate within the distance": the probability of
/// a win/loss split at least this uneven when every image that separates them is a fair coin flip (1 when none does).
/// </param>
public sealed record PairedThresholdComparison(
    double ThresholdKm,
    double Accuracy,
    double BaselineAccuracy,
    int Wins,
    int Losses,
    double Difference,
    double DifferenceLow,
    double DifferenceHigh,
    double PValue);
