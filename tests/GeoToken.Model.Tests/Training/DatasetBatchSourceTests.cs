using GeoToken.Data;
using GeoToken.Model.Training;
using GeoToken.Retrieval;
using GeoToken.Tokens;

namespace GeoToken.Model.Tests.Training;

public sealed class DatasetBatchSourceTests
{
    private static GeoTokenModelOptions Model(int dim) => TestData.Micro() with { FeatureDimension = dim, NeighborCount = 4 };

    [Fact]
    public void Batches_hold_the_query_and_its_neighbors_rows_and_tokens()
    {
        string dir = TinyDatasets.Write(Path.GetDirectoryName(TestData.TempPath("x"))!, 60, 8, seed: 1);
        using var ds = GeoDataset.Open(dir);
        var options = Model(8);
        var tokenizer = new GeoTokenizer(options.Tokenizer);
        var tokens = TokenTable.Build(ds, tokenizer, TestContext.Current.CancellationToken);
        using var nf = NeighborFile.Open(NeighborCache.Ensure(ds, ds, 4, cancellationToken: TestContext.Current.CancellationToken));
        var source = new DatasetBatchSource(ds, ds, nf, tokens, tokens, options);
        Assert.Equal(60, source.Count);
        using var batch = source.ReadBatch([7, 3]);
        batch.Validate(options, requireTargets: true);

        var q = batch.QueryFeatures.data<float>().ToArray();
        var expected = new float[8];
        ds.GetFeatures(FeatureModality.Location).ReadRow(3, expected);
        Assert.Equal(expected, q.AsSpan((1 * 3 + 1) * 8, 8).ToArray());

        long neighbor = nf.Indices[3, 2];
        Assert.NotEqual(3, neighbor); // training neighbors exclude the image itself
        var nbr = batch.NeighborFeatures.data<float>().ToArray();
        ds.GetFeatures(FeatureModality.Text).ReadRow(neighbor, expected);
        Assert.Equal(expected, nbr.AsSpan(((1 * 4 + 2) * 3 + 2) * 8, 8).ToArray());

        var t = new int[options.SequenceLength];
        ds.GetTokens(neighbor, tokenizer, t);
        var nt = batch.NeighborTokens.data<long>().ToArray();
        Assert.Equal(t.Select(x => (long)x), nt.Skip((1 * 4 + 2) * t.Length).Take(t.Length));
        ds.GetTokens(7, tokenizer, t);
        Assert.Equal(t.Select(x => (long)x), batch.TargetTokens!.data<long>().ToArray().Take(t.Length));
    }

    [Fact]
    public void Prefetched_batches_equal_direct_ones_and_early_exit_frees_the_rest()
    {
        string dir = TinyDatasets.Write(Path.GetDirectoryName(TestData.TempPath("x"))!, 50, 8, seed: 2);
        using var ds = GeoDataset.Open(dir);
        var options = Model(8);
        var tokens = TokenTable.Build(ds, new GeoTokenizer(options.Tokenizer), TestContext.Current.CancellationToken);
        using var nf = NeighborFile.Open(NeighborCache.Ensure(ds, ds, 4, cancellationToken: TestContext.Current.CancellationToken));
        var prefetching = new DatasetBatchSource(ds, ds, nf, tokens, tokens, options, new DatasetBatchSourceOptions { Prefetch = 2 });
        var direct = new DatasetBatchSource(ds, ds, nf, tokens, tokens, options, new DatasetBatchSourceOptions { Prefetch = 0 });
        var order = Enumerable.Range(0, 50).Reverse().ToArray();
        var a = prefetching.ReadBatches(order, 16, TestContext.Current.CancellationToken).ToList();
        var b = direct.ReadBatches(order, 16, TestContext.Current.CancellationToken).ToList();
        Assert.Equal([16, 16, 16, 2], a.Select(x => x.Count));
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(b[i].NeighborFeatures.data<float>().ToArray(), a[i].NeighborFeatures.data<float>().ToArray());
            Assert.Equal(b[i].TargetTokens!.data<long>().ToArray(), a[i].TargetTokens!.data<long>().ToArray());
        }

        foreach (var x in a.Concat(b)) x.Dispose();
        foreach (var first in prefetching.ReadBatches(order, 4, TestContext.Current.CancellationToken))
        {
            first.Dispose();
            break; // the producer must stop and dispose what it queued; the test hangs or leaks otherwise
        }
    }

    [Fact]
    public void Mismatches_are_named()
    {
        string dir = TinyDatasets.Write(Path.GetDirectoryName(TestData.TempPath("x"))!, 20, 8, seed: 3, modalities: 1);
        using var ds = GeoDataset.Open(dir);
        var options = Model(8);
        var tokens = TokenTable.Build(ds, new GeoTokenizer(options.Tokenizer), TestContext.Current.CancellationToken);
        using var nf = NeighborFile.Open(NeighborCache.Ensure(ds, ds, 4, cancellationToken: TestContext.Current.CancellationToken));
        var e = Assert.Throws<ArgumentException>(() => new DatasetBatchSource(ds, ds, nf, tokens, tokens, options));
        Assert.Contains("reads 3 feature view(s)", e.Message);
        Assert.Contains("no loc.npy", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DatasetBatchSource(ds, ds, nf, tokens, tokens, options with { ModalityCount = 1, NeighborCount = 6 }));
        Assert.Contains("holds 4 neighbors per query; the model reads 6", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DatasetBatchSource(ds, ds, nf, tokens, tokens, options with { ModalityCount = 1, FeatureDimension = 9 }));
        Assert.Contains("has dimension 8; the model reads 9", e.Message);
    }
}
