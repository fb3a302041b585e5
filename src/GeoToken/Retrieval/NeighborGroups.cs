using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GeoToken.Data;

namespace GeoToken.Retrieval;

/// <summary>
/// The groups of a dataset's rows named by one metadata column (e.g. <c>AUTHOR</c> or <c>SERIES</c>): rows with the
/// same non-empty value share a group; an empty value is a group of its own row. Used to keep a training image's
/// neighbors out of its own group (see <see cref="NeighborCacheOptions.GroupColumn"/>).
/// </summary>
internal sealed class NeighborGroups
{
    private readonly int[] _ids; // 0 = no group
    private readonly int[] _sizes; // by id; _sizes[0] unused

    private NeighborGroups(string column, int[] ids, int[] sizes)
    {
        Column = column;
        _ids = ids;
        _sizes = sizes;
        LargestGroup = sizes.Length > 1 ? sizes.AsSpan(1).ToArray().Max() : 1;
        byte[] hash = SHA256.HashData(MemoryMarshal.AsBytes(ids.AsSpan()));
        Fingerprint = Convert.ToHexStringLower(hash)[..12];
    }

    /// <summary>The metadata column the groups come from.</summary>
    public string Column { get; }

    /// <summary>Rows of the largest group (1 when no row shares a value).</summary>
    public int LargestGroup { get; }

    /// <summary>A short hash of the grouping (which rows share a group), naming cached neighbor files.</summary>
    public string Fingerprint { get; }

    /// <summary>Reads the groups of <paramref name="dataset"/>'s rows from <paramref name="column"/>.</summary>
    /// <exception cref="GeoDatasetException">The metadata has no such column.</exception>
    public static NeighborGroups Read(GeoDataset dataset, string column, CancellationToken cancellationToken)
    {
        var ids = new int[checked((int)dataset.Rows)];
        var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
        var sizes = new List<int> { 0 };
        int row = 0;
        foreach (string value in dataset.ReadColumn(column))
        {
            if ((row & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
            if (value.Length > 0)
            {
                if (!lookup.TryGetValue(value, out int id))
                {
                    id = sizes.Count;
                    lookup.Add(value, id);
                    sizes.Add(0);
                }

                ids[row] = id;
                sizes[id]++;
            }

            row++;
        }

        return new NeighborGroups(column, ids, [.. sizes]);
    }

    /// <summary>Rows in <paramref name="row"/>'s group, itself included.</summary>
    public int SizeOf(long row) => _ids[row] == 0 ? 1 : _sizes[_ids[row]];

    /// <summary>Whether gallery row <paramref name="other"/> is <paramref name="row"/> itself or shares its group.</summary>
    public bool SameGroup(long row, long other) => row == other || (_ids[row] != 0 && _ids[row] == _ids[other]);
}
