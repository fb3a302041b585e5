namespace GeoToken.Data;

/// <summary>One file of a dataset as <c>dataset.json</c> records it.</summary>
/// <param name="Name">File name inside the dataset folder.</param>
/// <param name="Bytes">Length in bytes.</param>
/// <param name="Sha256">SHA-256 of the whole content (lowercase hex).</param>
/// <param name="HeadTailSha256">The cheap hash of <see cref="IO.FileHash.HeadTailSha256"/>.</param>
/// <param name="ModifiedUtcTicks">The file's last-write time (UTC ticks) when it was recorded.</param>
internal sealed record DatasetFileRecord(string Name, long Bytes, string Sha256, string HeadTailSha256, long ModifiedUtcTicks)
{
    /// <summary>Records <paramref name="name"/> in <paramref name="folder"/> as it is now.</summary>
    public static DatasetFileRecord Of(string folder, string name, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(folder, name);
        var info = new FileInfo(path);
        return new DatasetFileRecord(name, info.Length, IO.FileHash.Sha256(path, cancellationToken), IO.FileHash.HeadTailSha256(path), info.LastWriteTimeUtc.Ticks);
    }
}
