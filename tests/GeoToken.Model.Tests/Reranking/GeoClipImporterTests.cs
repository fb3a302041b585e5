using GeoToken.Geometry;
using GeoToken.IO;
using GeoToken.Reranking;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace GeoToken.Model.Tests.Reranking;

public class GeoClipImporterTests
{
    private const int Fin = 24, Hidden = 20, Dim = 16, Freq = 32, Width = 12;

    private static SimilarityModel ImportSmall(ulong seed = 1, float logitScale = 3.5f)
    {
        using var image = GeoClipTestWeights.ImageMlp(Fin, Hidden, Dim, seed);
        using var location = GeoClipTestWeights.LocationEncoder(Freq, Width, Dim, seed + 100);
        using var scale = GeoClipTestWeights.LogitScale(logitScale);
        return GeoClipImporter.Import(image, location, scale);
    }

    [Fact]
    public void The_imported_model_has_geoclip_shape_read_from_the_tensors_and_its_weights()
    {
        using var image = GeoClipTestWeights.ImageMlp(Fin, Hidden, Dim, 1);
        using var location = GeoClipTestWeights.LocationEncoder(Freq, Width, Dim, 2);
        using var scale = GeoClipTestWeights.LogitScale(3.5f);
        using var model = GeoClipImporter.Import(image, location, scale);
        var o = model.Options;
        Assert.Equal(SimilarityLocationInput.EqualEarth, o.LocationInput);
        Assert.Equal((Fin, Hidden, Dim, Width, 3, Freq), (o.FeatureDimension, o.ImageHiddenDimension, o.EmbeddingDimension, o.LocationHiddenDimension, o.LocationHiddenLayers, o.FourierFeatures));
        Assert.Equal([1.0, 16, 256], o.Scales);
        Assert.Equal(1 / Math.Exp(3.5), model.Temperature, 6);
        Assert.False(model.training);

        var ours = model.state_dict();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(ours[$"location.frequencies_{i}"].equal(location[$"LocEnc{i}.capsule.0.b"]).all().item<bool>());
            Assert.True(ours[$"location.branches.{i}.layers.2.weight"].equal(location[$"LocEnc{i}.capsule.5.weight"]).all().item<bool>());
            Assert.True(ours[$"location.branches.{i}.layers.3.bias"].equal(location[$"LocEnc{i}.head.0.bias"]).all().item<bool>());
        }

        // The image side is GeoCLIP's MLP: normalize(W2 relu(W1 x + b1) + b2).
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var x = randn([7, Fin], generator: g) * 3;
        var expected = F.normalize(F.linear(F.relu(F.linear(x, image["0.weight"], image["0.bias"])), image["2.weight"], image["2.bias"]), dim: 1);
        using var noGrad = no_grad();
        var actual = model.EmbedImages(x);
        Assert.True((actual - expected).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void Location_embeddings_are_unit_rows_that_depend_on_the_position()
    {
        using var model = ImportSmall();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var positions = new[] { new LatLng(0, 0), new LatLng(90, 0), new LatLng(-90, 180), new LatLng(48.85, 2.35), new LatLng(48.86, 2.35) };
        var e = model.EmbedPositions(positions);
        Assert.Equal([5L, Dim], e.shape);
        Assert.True((e.norm(1) - 1).abs().max().item<float>() < 1e-5f);
        var sims = e.matmul(e.t()).data<float>().ToArray();
        Assert.True(sims[3 * 5 + 4] > sims[3 * 5 + 0], "nearby points are more similar than far ones");
        var inputs = model.LocationInputs(positions);
        Assert.Equal([5L, 2], inputs.shape);
        Assert.Equal(48.85f, inputs[3, 0].item<float>());
        Assert.Throws<ArgumentException>(() => model.EmbedLocations(zeros(2, 3)));
    }

    [Fact]
    public void Missing_misshapen_extra_and_misordered_tensors_are_named()
    {
        using var image = GeoClipTestWeights.ImageMlp(Fin, Hidden, Dim, 1);
        using var location = GeoClipTestWeights.LocationEncoder(Freq, Width, Dim, 2);
        using var scale = GeoClipTestWeights.LogitScale(3.5f);

        using (var noBias = Without(image, "2.bias"))
        {
            var e = Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(noBias, location, scale));
            Assert.Contains("'2.bias'", e.Message);
        }

        using (var wrongHead = Replace(location, "LocEnc1.head.0.weight", zeros(Dim + 1, Width)))
        {
            var e = Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(image, wrongHead, scale));
            Assert.Contains("'LocEnc1.head.0.weight'", e.Message);
            Assert.Contains($"[{Dim + 1}, {Width}]", e.Message);
        }

        using (var extra = Replace(location, "LocEnc3.capsule.0.b", randn(Freq, 2)))
        {
            var e = Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(image, extra, scale));
            Assert.Contains("'LocEnc3.capsule.0.b'", e.Message);
        }

        // Capsules 0 and 2 swapped: the frequencies' spread gives it away.
        using (var half = Replace(location, "LocEnc0.capsule.0.b", location["LocEnc2.capsule.0.b"].clone()))
        using (var swapped = Replace(half, "LocEnc2.capsule.0.b", location["LocEnc0.capsule.0.b"].clone()))
        {
            var e = Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(image, swapped, scale));
            Assert.Contains("'LocEnc0.capsule.0.b'", e.Message);
            Assert.Contains("σ = 1", e.Message);
        }

        using (var nan = Replace(image, "0.bias", full(Hidden, float.NaN)))
        {
            var e = Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(nan, location, scale));
            Assert.Contains("'0.bias'", e.Message);
            Assert.Contains("NaN", e.Message);
        }

        using (var intWeights = Replace(image, "0.weight", zeros([Hidden, Fin], dtype: ScalarType.Int64)))
        {
            Assert.Contains("'0.weight'", Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(intWeights, location, scale)).Message);
        }

        using (var tooLarge = GeoClipTestWeights.LogitScale(5f))
        {
            Assert.Contains("ln 100", Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(image, location, tooLarge)).Message);
        }

        using (var two = GeoClipTestWeights.LogitScale(3f))
        {
            two.Add("other", tensor(1f));
            Assert.Contains("holds 2 tensors", Assert.Throws<InvalidDataException>(() => GeoClipImporter.Import(image, location, two)).Message);
        }
    }

    [Fact]
    public void An_imported_model_saves_and_loads_with_its_equal_earth_input()
    {
        using var model = ImportSmall();
        string path = TestData.TempPath("geoclip.geotoken");
        SimilarityModelFile.Save(model, path);
        using var loaded = SimilarityModelFile.Load(path);
        Assert.Equal(SimilarityLocationInput.EqualEarth, loaded.Options.LocationInput);
        Assert.True(loaded.Options.SameShapeAs(model.Options));
        Assert.False(loaded.Options.SameShapeAs(model.Options with { LocationInput = SimilarityLocationInput.UnitVector }));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var positions = new[] { new LatLng(10, 20), new LatLng(-60, -179) };
        Assert.True(model.EmbedPositions(positions).equal(loaded.EmbedPositions(positions)).all().item<bool>());
    }

    [Fact]
    public void A_file_written_before_the_location_input_setting_loads_as_unit_vectors()
    {
        using var model = new SimilarityModel(SimilarityModelOptions.Tiny with { FeatureDimension = 8 }, seed: 3);
        string path = TestData.TempPath("old.geotoken");
        SimilarityModelFile.Save(model, path);
        // Rewrite the header without "locationInput", as files of earlier versions have it.
        var contents = TensorFile.ReadHeader(path);
        var header = (System.Text.Json.Nodes.JsonObject)contents.Header.DeepClone();
        var options = (System.Text.Json.Nodes.JsonObject)header["similarity"]!;
        Assert.True(options.Remove("locationInput"));
        header.Remove("tensors");
        var tensors = TensorFile.ReadTensors(contents, contents.Tensors.Keys);
        string oldPath = TestData.TempPath("old-format.geotoken");
        TensorFile.Write(oldPath, header, tensors.Select(kv => (kv.Key, kv.Value)).ToList());
        foreach (var t in tensors.Values) t.Dispose();

        using var loaded = SimilarityModelFile.Load(oldPath);
        Assert.Equal(SimilarityLocationInput.UnitVector, loaded.Options.LocationInput);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var positions = new[] { new LatLng(10, 20) };
        Assert.True(model.EmbedPositions(positions).equal(loaded.EmbedPositions(positions)).all().item<bool>());
    }

    /// <summary>A copy of <paramref name="source"/> without <paramref name="name"/>.</summary>
    private static StateDict Without(StateDict source, string name)
    {
        var s = new StateDict();
        foreach (var (k, v) in source)
        {
            if (k != name) s.Add(k, v.clone());
        }

        return s;
    }

    /// <summary>A copy of <paramref name="source"/> with <paramref name="name"/> set to <paramref name="value"/> (added when absent).</summary>
    private static StateDict Replace(StateDict source, string name, Tensor value)
    {
        var s = new StateDict();
        foreach (var (k, v) in source) s.Add(k, k == name ? value : v.clone());
        if (!source.ContainsKey(name)) s.Add(name, value);
        return s;
    }
}
