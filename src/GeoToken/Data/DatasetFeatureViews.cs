using GeoToken.Data;

namespace GeoToken.Data;

/// <summary>The feature views of a dataset that a model reads, checked against the model's shape.</summary>
public static class DatasetFeatureViews
{
    /// <summary>
    /// The first <paramref name="modalities"/> feature views of <paramref name="dataset"/>, checked to exist and to
    /// have dimension <paramref name="dimension"/> (what a model reads).
    /// </summary>
    /// <exception cref="ArgumentException">A view is missing or has another dimension; the message names the file.</exception>
    public static FeatureMatrix[] Read(GeoDataset dataset, int modalities, int dimension, string role)
    {
        var result = new FeatureMatrix[modalities];
        for (int m = 0; m < modalities; m++)
        {
            var modality = FeatureModalities.All[m];
            if (!dataset.Has(modality))
            {
                throw new ArgumentException($"The model reads {modalities} feature view(s) but the {role} dataset {Path.GetDirectoryName(dataset.MetaPath)} has no {modality.FileName()}.");
            }

            result[m] = dataset.GetFeatures(modality);
            if (result[m].Columns != dimension)
            {
                throw new ArgumentException($"The {role} dataset's {modality.FileName()} has dimension {result[m].Columns}; the model reads {dimension}.");
            }
        }

        return result;
    }
}
