using CsCheck;
using GeoToken.Geometry;
using GeoToken.Tokens;

namespace GeoToken.Tests.Tokens;

public sealed class GeoTokenizerTests
{
    private static readonly Gen<(double Lat, double Lng)> GenPosition =
        Gen.Select(Gen.Double[-90, 90], Gen.Double[-180, 180]);

    private static readonly Gen<GeoTokenizerOptions> GenOptions =
        Gen.Select(Gen.Int[1, 30], Gen.Int[1, 8], (level, group) => new GeoTokenizerOptions { Level = level, GroupSize = group });

    [Fact]
    public void Paper_setting_is_eleven_tokens_face_then_sixteen_way()
    {
        var t = new GeoTokenizer();
        Assert.Equal(11, t.Length);
        Assert.Equal([6, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16], t.VocabularySizes.ToArray());
        Assert.Equal([0, 6, 22, 38, 54, 70, 86, 102, 118, 134, 150], t.Offsets.ToArray());
        Assert.Equal(166, t.TotalVocabularySize);
    }

    [Fact]
    public void Uneven_grouping_gives_a_smaller_last_vocabulary()
    {
        var t = new GeoTokenizer(new GeoTokenizerOptions { Level = 7, GroupSize = 3 });
        Assert.Equal([6, 64, 64, 4], t.VocabularySizes.ToArray());
        Assert.Equal([0, 3, 6, 7], Enumerable.Range(1, 4).Select(t.LevelOfPrefix));
    }

    [Fact]
    public void Tokens_are_the_hilbert_child_positions_of_the_cell()
    {
        // Checked against S2CellId's own child positions, level by level.
        var t = new GeoTokenizer();
        var cell = S2CellId.FromLatLng(43.4699, 11.8806).Parent(20);
        var tokens = t.Encode(43.4699, 11.8806);
        Assert.Equal(cell.Face, tokens[0]);
        for (int p = 1; p < t.Length; p++)
        {
            int expected = cell.ChildPosition(2 * p - 1) * 4 + cell.ChildPosition(2 * p);
            Assert.Equal(expected, tokens[p]);
        }
    }

    [Fact]
    public void Every_level_and_group_round_trips_positions_to_their_cell()
    {
        Gen.Select(GenOptions, GenPosition).Sample(input =>
        {
            var (options, (lat, lng)) = input;
            var t = new GeoTokenizer(options);
            var leaf = S2CellId.FromLatLng(lat, lng);
            var tokens = new int[t.Length];
            t.Encode(leaf, tokens);
            t.Validate(tokens);
            return t.Decode(tokens) == leaf.Parent(options.Level);
        }, iter: 20_000);
    }

    [Fact]
    public void Every_prefix_decodes_to_the_ancestor_at_its_level()
    {
        Gen.Select(GenOptions, GenPosition).Sample(input =>
        {
            var (options, (lat, lng)) = input;
            var t = new GeoTokenizer(options);
            var leaf = S2CellId.FromLatLng(lat, lng);
            var tokens = new int[t.Length];
            t.Encode(leaf, tokens);
            for (int n = 1; n <= t.Length; n++)
            {
                var prefixCell = t.Decode(tokens.AsSpan(0, n));
                if (prefixCell != leaf.Parent(t.LevelOfPrefix(n)) || !prefixCell.Contains(leaf)) return false;
            }

            return true;
        }, iter: 5_000);
    }

    [Fact]
    public void Cells_round_trip_through_tokens()
    {
        // Any valid token sequence names a cell whose tokens are the same sequence.
        Gen.Select(GenOptions, Gen.Int, (o, seed) => (o, seed)).Sample(input =>
        {
            var t = new GeoTokenizer(input.o);
            var rng = new Random(input.seed);
            var tokens = new int[t.Length];
            for (int p = 0; p < t.Length; p++) tokens[p] = rng.Next(t.VocabularySizes[p]);
            var cell = t.Decode(tokens);
            var again = new int[t.Length];
            t.Encode(cell, again);
            return cell.Level == input.o.Level && tokens.AsSpan().SequenceEqual(again);
        }, iter: 20_000);
    }

    [Fact]
    public void Decoded_centre_is_within_the_cell_size_of_the_position()
    {
        var t = new GeoTokenizer();
        GenPosition.Sample(p =>
        {
            var centre = t.DecodeCenter(t.Encode(p.Lat, p.Lng));
            return Geodesy.HaversineKm(centre.Latitude, centre.Longitude, p.Lat, p.Lng) < 0.02; // level-20 cells are < 15 m across
        }, iter: 10_000);
    }

    [Fact]
    public void Out_of_range_tokens_name_position_and_value()
    {
        var t = new GeoTokenizer();
        var tokens = t.Encode(10, 10);
        tokens[3] = 16;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode(tokens));
        Assert.Contains("position 3 is 16", e.Message);
        tokens[3] = 0;
        tokens[0] = 6;
        Assert.Contains("position 0 is 6", Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode(tokens)).Message);
        tokens[0] = -1;
        Assert.Contains("position 0 is -1", Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode(tokens)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode(ReadOnlySpan<int>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode(new int[12]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeoTokenizer(new GeoTokenizerOptions { Level = 31 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GeoTokenizer(new GeoTokenizerOptions { GroupSize = 0 }));
        Assert.Throws<ArgumentException>(() => t.Encode(S2CellId.FromLatLng(1, 1).Parent(10), new int[11]));
    }
}
