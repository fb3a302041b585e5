using GeoToken.Geometry;

namespace GeoToken.Tests.Geometry;

/// <summary>Behaviour of <see cref="S2CellId"/>, including the published test vectors of Go S2 (github.com/golang/geo, s2/cellid_test.go).</summary>
public sealed class S2CellIdTests
{
    // Go S2 TestCellIDLatLng: leaf ids of positions given to 9 decimals.
    public static TheoryData<ulong, double, double> GoLatLngVectors => new()
    {
        { 0x47a1cbd595522b39, 49.703498679, 11.770681595 },
        { 0x46525318b63be0f9, 55.685376759, 12.588490937 },
        { 0x52b30b71698e729d, 45.486546517, -93.449700022 },
        { 0x46ed8886cfadda85, 58.299984854, 23.049300056 },
        { 0x3663f18a24cbe857, 34.364439040, 108.330699969 },
        { 0x10a06c0a948cf5d, -30.694551352, -30.048758753 },
        { 0x2b2bfd076787c5df, -25.285264027, 133.823116966 },
        { 0xb09dff882a7809e1, -75.000000031, 0.000000133 },
        { 0x94daa3d000000001, -24.694439215, -47.537363213 },
        { 0x87a1000000000001, 38.899730392, -99.901813021 },
        { 0x4fc76d5000000001, 81.647200334, -55.631712940 },
        { 0x3b00955555555555, 10.050986518, 78.293170610 },
        { 0x1dcc469991555555, -34.055420593, 18.551140038 },
        { 0xb112966aaaaaaaab, -69.219262171, 49.670072392 },
    };

    [Theory]
    [MemberData(nameof(GoLatLngVectors))]
    public void Go_vectors_lat_lng_to_leaf_and_back(ulong id, double lat, double lng)
    {
        Assert.Equal(id, S2CellId.FromLatLng(lat, lng).Id);
        var centre = new S2CellId(id).ToLatLng();
        Assert.True(Geodesy.HaversineKm(centre.Latitude, centre.Longitude, lat, lng) < 1e-6, $"centre {centre} vs ({lat}, {lng})");
    }

    // Go S2 TestCellIDTokensNominal.
    [Theory]
    [InlineData("1", 0x1000000000000000UL)]
    [InlineData("3", 0x3000000000000000UL)]
    [InlineData("14", 0x1400000000000000UL)]
    [InlineData("41", 0x4100000000000000UL)]
    [InlineData("094", 0x0940000000000000UL)]
    [InlineData("537", 0x5370000000000000UL)]
    [InlineData("3fec", 0x3fec000000000000UL)]
    [InlineData("72f3", 0x72f3000000000000UL)]
    [InlineData("52b8c", 0x52b8c00000000000UL)]
    [InlineData("990ed", 0x990ed00000000000UL)]
    [InlineData("4476dc", 0x4476dc0000000000UL)]
    [InlineData("2a724f", 0x2a724f0000000000UL)]
    [InlineData("7d4afc4", 0x7d4afc4000000000UL)]
    [InlineData("b675785", 0xb675785000000000UL)]
    [InlineData("40cd6124", 0x40cd612400000000UL)]
    [InlineData("3ba32f81", 0x3ba32f8100000000UL)]
    [InlineData("08f569b5c", 0x08f569b5c0000000UL)]
    [InlineData("385327157", 0x3853271570000000UL)]
    [InlineData("166c4d1954", 0x166c4d1954000000UL)]
    [InlineData("96f48d8c39", 0x96f48d8c39000000UL)]
    [InlineData("0bca3c7f74c", 0x0bca3c7f74c00000UL)]
    [InlineData("1ae3619d12f", 0x1ae3619d12f00000UL)]
    [InlineData("07a77802a3fc", 0x07a77802a3fc0000UL)]
    [InlineData("4e7887ec1801", 0x4e7887ec18010000UL)]
    [InlineData("4adad7ae74124", 0x4adad7ae74124000UL)]
    [InlineData("90aba04afe0c5", 0x90aba04afe0c5000UL)]
    [InlineData("8ffc3f02af305c", 0x8ffc3f02af305c00UL)]
    [InlineData("6fa47550938183", 0x6fa4755093818300UL)]
    [InlineData("aa80a565df5e7fc", 0xaa80a565df5e7fc0UL)]
    [InlineData("01614b5e968e121", 0x01614b5e968e1210UL)]
    [InlineData("aa05238e7bd3ee7c", 0xaa05238e7bd3ee7cUL)]
    [InlineData("48a23db9c2963e5b", 0x48a23db9c2963e5bUL)]
    public void Go_vectors_tokens(string token, ulong id)
    {
        Assert.Equal(id, S2CellId.FromToken(token).Id);
        Assert.Equal(token, new S2CellId(id).ToToken());
    }

    [Fact]
    public void Go_vectors_token_errors()
    {
        Assert.Equal("X", S2CellId.None.ToToken());
        Assert.Equal(S2CellId.None, S2CellId.FromToken("X"));
        foreach (var bad in new[] { "876b e99", "876bee99\n", "876[ee99", " 876bee99", "", "12345678901234567" })
        {
            Assert.False(S2CellId.TryParseToken(bad, out _), bad);
            var e = Assert.Throws<FormatException>(() => S2CellId.FromToken(bad));
            Assert.Contains("not an S2 cell token", e.Message);
        }
    }

    [Fact]
    public void Go_vectors_containment()
    {
        var a = new S2CellId(0x80855c0000000000); // Pittsburgh
        var b = new S2CellId(0x80855d0000000000); // child of a
        var c = new S2CellId(0x80855dc000000000); // child of b
        var d = new S2CellId(0x8085630000000000); // disjoint from a
        Assert.True(a.Contains(a) && a.Contains(b) && a.Contains(c) && b.Contains(c));
        Assert.False(a.Contains(d) || b.Contains(a) || c.Contains(b) || d.Contains(a));
        Assert.True(a.Intersects(c) && c.Intersects(a));
        Assert.False(a.Intersects(d));
    }

    [Fact]
    public void Go_vectors_parent_child()
    {
        var ci = S2CellId.FromFacePosLevel(3, 0x12345678, S2CellId.MaxLevel - 4);
        Assert.True(ci.IsValid);
        Assert.Equal(3, ci.Face);
        Assert.Equal(0x12345700UL, ci.Pos);
        Assert.Equal(26, ci.Level);
        Assert.False(ci.IsLeaf);
        Assert.Equal(0x12345610UL, ci.Child(0).Child(0).Pos);
        Assert.Equal(0x12345640UL, ci.Child(0).Pos);
        Assert.Equal(0x12345400UL, ci.Parent().Pos);
        Assert.Equal(0x12345000UL, ci.Parent(ci.Level - 2).Pos);
        Assert.Equal("5/31200", new S2CellId(0xbb04000000000000).ToString());
    }

    [Fact]
    public void Go_vectors_edge_neighbors_of_face_corner_cells()
    {
        var faceNeighbors = S2CellId.FromFaceIJ(1, 0, 0).Parent(0).EdgeNeighbors();
        Assert.Equal([5, 3, 2, 0], faceNeighbors.Select(n => n.Face));
        Assert.All(faceNeighbors, n => Assert.True(n.IsFace));
        int maxIJ = (1 << 30) - 1;
        for (int level = 1; level <= S2CellId.MaxLevel; level++)
        {
            var id = S2CellId.FromFaceIJ(1, 0, 0).Parent(level);
            int size = S2CellId.SizeIJ(level);
            S2CellId[] want =
            [
                S2CellId.FromFaceIJ(5, maxIJ, maxIJ).Parent(level),
                S2CellId.FromFaceIJ(1, size, 0).Parent(level),
                S2CellId.FromFaceIJ(1, 0, size).Parent(level),
                S2CellId.FromFaceIJ(0, maxIJ, 0).Parent(level),
            ];
            Assert.Equal(want, id.EdgeNeighbors());
        }
    }

    [Fact]
    public void Invalid_inputs_are_rejected_with_the_value_named()
    {
        Assert.Contains("latitude 91", Assert.Throws<ArgumentOutOfRangeException>(() => S2CellId.FromLatLng(91, 0)).Message);
        Assert.Contains("longitude NaN", Assert.Throws<ArgumentOutOfRangeException>(() => S2CellId.FromLatLng(0, double.NaN)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => S2CellId.FromLatLng(0, 180.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => S2CellId.FromPoint(new S2Point(0, 0, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => S2CellId.FromFace(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => S2CellId.FromFace(0).Parent(1));
        Assert.Throws<InvalidOperationException>(() => S2CellId.FromFace(0).Parent());
        Assert.Throws<InvalidOperationException>(() => S2CellId.FromLatLng(1, 2).Child(0));
        var e = Assert.Throws<ArgumentException>(() => S2CellId.FromLatLng([1, 2, 95], [3, 4, 5], new S2CellId[3]));
        Assert.Contains("Position 2", e.Message);
    }

    [Fact]
    public void Batch_conversion_equals_single_conversion()
    {
        double[] lats = [0, 45.5, -33.9, 90], lngs = [0, 7.25, 151.2, -180];
        var dest = new S2CellId[4];
        S2CellId.FromLatLng(lats, lngs, dest);
        for (int k = 0; k < 4; k++) Assert.Equal(S2CellId.FromLatLng(lats[k], lngs[k]), dest[k]);
    }

    [Fact]
    public void Hierarchy_is_consistent_for_random_cells()
    {
        foreach (var cell in S2TestPoints.Cells(seed: 1).Take(20_000))
        {
            Assert.True(cell.IsValid);
            if (!cell.IsLeaf)
            {
                var children = cell.Children();
                for (int k = 0; k < 4; k++)
                {
                    Assert.Equal(cell, children[k].Parent());
                    Assert.Equal(k, children[k].ChildPosition());
                    Assert.True(cell.Contains(children[k]));
                }

                Assert.Equal(cell.RangeMin, children[0].RangeMin);
                Assert.Equal(cell.RangeMax, children[3].RangeMax);
            }

            Assert.True(cell.Contains(S2CellId.FromPoint(cell.ToPoint())), $"{cell} contains its centre");
            foreach (var n in cell.EdgeNeighbors())
            {
                Assert.Equal(cell.Level, n.Level);
                Assert.Contains(cell, n.EdgeNeighbors());
            }
        }
    }
}
