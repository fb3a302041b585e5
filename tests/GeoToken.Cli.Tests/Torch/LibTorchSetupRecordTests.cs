using GeoToken.Cli.Torch;
using GeoToken.IO;

namespace GeoToken.Cli.Tests.Torch;

public sealed class LibTorchSetupRecordTests
{
    [Fact]
    public void A_record_reads_back_as_written()
    {
        string path = LibTorchSetupRecord.PathFor(CliRunner.TempDir(), "2.10.0");
        var record = new LibTorchSetupRecord
        {
            Backend = "cpu",
            RuntimeIdentifier = "linux-x64",
            LibTorchVersion = "2.10.0",
            Package = "libtorch-cpu-linux-x64 2.10.0",
            Directory = "/somewhere/native",
        };
        AtomicFile.WriteAllText(path, record.ToJson());
        Assert.Equal(record, LibTorchSetupRecord.TryRead(path));
        Assert.EndsWith("libtorch-2.10.0.json", path, StringComparison.Ordinal);
    }

    [Fact]
    public void No_record_is_null_and_a_broken_one_names_its_file()
    {
        string dir = CliRunner.TempDir();
        Assert.Null(LibTorchSetupRecord.TryRead(Path.Combine(dir, "libtorch-2.10.0.json")));
        string path = Path.Combine(dir, "broken.json");
        File.WriteAllText(path, "{ \"backend\": ");
        var e = Assert.Throws<InvalidDataException>(() => LibTorchSetupRecord.TryRead(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("geotoken setup torch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Native_names_follow_the_platform_convention()
    {
        string expected = OperatingSystem.IsWindows() ? "torch_cpu.dll" : OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";
        Assert.Equal(expected, LibTorchLocation.NativeFileName("torch_cpu"));
    }
}
