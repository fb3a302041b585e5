namespace GeoToken.Data;

/// <summary>How much of a <see cref="GeoDataset"/>'s content was checked against its <c>dataset.json</c> when it was opened.</summary>
public enum DatasetIntegrity
{
    /// <summary>No <c>dataset.json</c> applies (files opened in place): nothing to check against.</summary>
    NoManifest,

    /// <summary>
    /// A <c>dataset.json</c> written before content hashes existed (version 1): nothing is checked and the
    /// coordinate sidecar is not used (coordinates come from the CSV). <c>geotoken dataset rehash DIR</c> adds the hashes.
    /// </summary>
    NoHashes,

    /// <summary>
    /// Checked on open: <c>meta.csv</c> and <c>latlon.npy</c> by their full SHA-256; feature files by size,
    /// the SHA-256 of their first and last MiB, and their modification time (a feature file whose time changed
    /// is hashed in full).
    /// </summary>
    Checked,

    /// <summary>Every file's full SHA-256 was checked (<see cref="GeoDatasetOptions.Verify"/>).</summary>
    Verified,
}
