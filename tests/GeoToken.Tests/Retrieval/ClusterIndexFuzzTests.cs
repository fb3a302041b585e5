using GeoToken.Data;
using GeoToken.Retrieval;
using GeoToken.Tests.Support;

namespace GeoToken.Tests.Retrieval;

/// <summary>
/// Property-based fuzzing of <see cref="ClusterIndex.Open"/>: a damaged index file either opens (and
/// then searches without error: bytes outside the checksummed metadata, e.g. stored vectors, only
/// change scores) or fails with <see cref="IndexFormatException"/>/<see cref="GalleryMismatchException"/> naming the file.
/// </summary>
public sealed class ClusterIndexFuzzTests : IDisposable
{
    private const int D = 8;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Damaged_index_files_open_and_search_or_fail_with_an_exception_naming_the_file()
    {
        using var gallery = FeatureMatrix.FromArray(RetrievalTestData.Clustered(400, D, 10, 1), D);
        var queries = FeatureMatrix.FromArray(RetrievalTestData.Clustered(5, D, 10, 1, sampleSeed: 2), D);
        string valid = _dir.File("valid.gtci");
        ClusterIndex.BuildFile(gallery, valid, new ClusterIndexOptions { Clusters = 6, Levels = 2, LeafSize = 16, StoreVectors = true, MiniBatchSize = 256 }, cancellationToken: TestContext.Current.CancellationToken);
        byte[] seed = File.ReadAllBytes(valid);
        int opened = 0;

        await Fuzz.SampleAsync(ByteMutations.Of([seed], focus: 256), file =>
        {
            string path = _dir.File("fuzz.gtci");
            File.WriteAllBytes(path, file);
            return Fuzz.ParsesOrFailsDocumented(() =>
            {
                using var index = ClusterIndex.Open(path, gallery);
                var result = index.Search(queries, new SearchOptions { K = 3 });
                Assert.Equal(15, result.Indices.Length);
                opened++;
            }, path, typeof(IndexFormatException), typeof(GalleryMismatchException));
        }, 2000, ByteMutations.Describe);
        Assert.True(opened > 0, "no input opened: the generator never produced the valid file or a harmless mutation");
    }
}
