using GeoToken.IO;

namespace GeoToken.Tests.IO;

public sealed class AtomicFileTests
{
    [Fact]
    public void A_failed_write_leaves_the_previous_file_and_no_temporary()
    {
        string dir = Directory.CreateTempSubdirectory("geotoken-atomic").FullName;
        string path = Path.Combine(dir, "report.json");
        AtomicFile.WriteAllText(path, "good");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("partial"u8);
            throw new InvalidOperationException("crash mid-write");
        }));
        Assert.Equal("good", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
        AtomicFile.WriteAllText(path, "better");
        Assert.Equal("better", File.ReadAllText(path));
        Directory.Delete(dir, true);
    }

    /// <summary>Temporaries of a killed run are removed by the next write into the folder: only our pattern, only of dead processes.</summary>
    [Fact]
    public void The_next_write_removes_stale_temporaries_of_dead_processes_only()
    {
        string dir = Directory.CreateTempSubdirectory("geotoken-atomic").FullName;
        const int DeadPid = 2147483646; // above any pid_max: never a running process
        string guid = Guid.NewGuid().ToString("N");
        string[] stale =
        [
            $"image.npy.tmp-{DeadPid}-{guid}",
            $"r1.tmp-{DeadPid}-{guid}_I.npy",                                  // a staged neighbor file
            $"r1.tmp-{DeadPid}-{guid}_D.npy.tmp-{DeadPid}-{Guid.NewGuid():N}", // its own temporary
        ];
        string[] kept =
        [
            $"image.npy.tmp-{Environment.ProcessId}-{guid}",  // a live process (this one)
            $"meta.csv.tmp-1-{guid}",                         // pid 1 is running
            $"notes.tmp-{DeadPid}-xyz",                       // not our pattern
            $"mine.tmp-{DeadPid}",
            "report.json",
        ];
        foreach (var name in stale.Concat(kept)) File.WriteAllText(Path.Combine(dir, name), "x");

        AtomicFile.WriteAllText(Path.Combine(dir, "out.json"), "{}");

        var left = Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(kept.Append("out.json").Order().ToArray(), left);
        Directory.Delete(dir, true);
    }
}
