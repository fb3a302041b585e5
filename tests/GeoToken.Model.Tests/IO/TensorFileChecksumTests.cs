using System.Text.Json.Nodes;
using GeoToken.IO;
using static TorchSharp.torch;

namespace GeoToken.Model.Tests.IO;

/// <summary>The single-file container (.gtm models, .ckpt checkpoints, .gtr reward heads, .gts similarity models) carries the SHA-256 of its data.</summary>
public sealed class TensorFileChecksumTests
{
    private static string Write(string name)
    {
        string path = TestData.TempPath(name);
        using var a = arange(0, 1000, dtype: ScalarType.Float32).reshape(10, 100);
        using var b = tensor(new long[] { 1, 2, 3 });
        TensorFile.Write(path, new JsonObject { ["kind"] = "test" }, [("a", a), ("b", b)]);
        return path;
    }

    [Fact]
    public void A_written_file_reads_back_and_any_changed_data_byte_is_named()
    {
        string path = Write("sum.bin");
        var contents = TensorFile.ReadHeader(path);
        Assert.Matches("^[0-9a-f]{64}$", (string?)contents.Header["dataSha256"] ?? "");
        var tensors = TensorFile.ReadTensors(contents, ["a", "b"]);
        Assert.Equal(999f, tensors["a"][9, 99].item<float>());
        foreach (var t in tensors.Values) t.Dispose();

        byte[] bytes = File.ReadAllBytes(path);
        foreach (long at in new[] { contents.DataStart, contents.DataStart + 2000, bytes.Length - 1 })
        {
            byte[] damaged = (byte[])bytes.Clone();
            damaged[at] ^= 0x40;
            string bad = TestData.TempPath("damaged.bin");
            File.WriteAllBytes(bad, damaged);
            var damagedContents = TensorFile.ReadHeader(bad); // the header alone is not checked against the data
            var e = Assert.Throws<InvalidDataException>(() => TensorFile.ReadTensors(damagedContents, ["a"]));
            Assert.Contains(bad, e.Message);
            Assert.Contains("SHA-256", e.Message);
        }
    }

    [Fact]
    public void A_file_without_the_field_is_read_unchecked()
    {
        string path = Write("old.bin");
        var contents = TensorFile.ReadHeader(path);
        contents.Header.Remove("dataSha256");
        byte[] bytes = File.ReadAllBytes(path);
        int headerLength = (int)BitConverter.ToUInt64(bytes, 16);
        // The same header without the field, padded with spaces (valid JSON) to its old length: offsets stay valid.
        byte[] json = System.Text.Encoding.UTF8.GetBytes(contents.Header.ToJsonString().PadRight(headerLength));
        Assert.Equal(headerLength, json.Length);
        var rebuilt = (byte[])bytes.Clone();
        json.CopyTo(rebuilt, 24);
        string old = TestData.TempPath("no-sum.bin");
        File.WriteAllBytes(old, rebuilt);
        var read = TensorFile.ReadHeader(old);
        Assert.Null(read.Header["dataSha256"]);
        Assert.Equal(contents.DataStart, read.DataStart);
    }
}
