using System.Diagnostics;
using System.Globalization;
using GeoToken.Geometry;

namespace GeoToken.Benchmarks;

/// <summary>
/// The .NET half of the comparisons in benchmarks/peers: the same inputs and the same timing method
/// as the peer program (warm-up, then the median of repeated timed passes), printed as one line of
/// <c>name ns_per_op checksum</c> so the runner script can divide.
/// </summary>
public static class PeerHarness
{
    /// <summary>Runs a named peer workload.</summary>
    public static int Run(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "s2":
                return S2(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
            case "retrieval":
                return Retrieval.RetrievalPeer.Run(args[1..]);
            default:
                Console.Error.WriteLine("usage: peer s2 POINTS.bin REPS | peer retrieval DATA_DIR OUT.jsonl [options]");
                return 2;
        }
    }

    // POINTS.bin: little-endian (f64 lat, f64 lng) pairs; the C++ peer reads the same file.
    private static int S2(string path, int reps)
    {
        var bytes = File.ReadAllBytes(path);
        var raw = new double[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, raw, 0, bytes.Length);
        var points = new LatLng[raw.Length / 2];
        for (int k = 0; k < points.Length; k++) points[k] = new LatLng(raw[2 * k], raw[2 * k + 1]);
        var cells = new S2CellId[points.Length];
        Report("latlng_to_cell", points.Length, reps, () =>
        {
            ulong acc = 0;
            for (int k = 0; k < points.Length; k++)
            {
                cells[k] = S2CellId.FromLatLng(points[k]);
                acc ^= cells[k].Id;
            }

            return acc;
        });
        Report("cell_to_latlng", points.Length, reps, () =>
        {
            double acc = 0;
            foreach (var c in cells) acc += c.ToLatLng().Latitude;
            return BitConverter.DoubleToUInt64Bits(acc);
        });
        Report("cell_to_token", points.Length, reps, () =>
        {
            ulong acc = 0;
            foreach (var c in cells) acc += (ulong)c.ToToken().Length;
            return acc;
        });
        return 0;
    }

    private static void Report(string name, int ops, int reps, Func<ulong> pass)
    {
        ulong checksum = pass(); // warm-up (and tiered JIT)
        for (int w = 0; w < 3; w++) pass();
        var times = new double[reps];
        for (int r = 0; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            checksum = pass();
            times[r] = Stopwatch.GetElapsedTime(t0).TotalNanoseconds / ops;
        }

        Array.Sort(times);
        Console.WriteLine(FormattableString.Invariant($"{name} {times[reps / 2]:F2} {checksum:x16}"));
    }
}
