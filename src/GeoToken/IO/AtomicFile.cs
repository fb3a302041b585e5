namespace GeoToken.IO;

/// <summary>
/// Writes files so that readers only ever see the old complete file or the new complete file:
/// content goes to a temporary file in the same folder, is flushed to disk, and is renamed over the
/// target. A crash or kill mid-write leaves the previous file intact (plus, at worst, a stray
/// <c>*.tmp-*</c> file).
/// </summary>
public static class AtomicFile
{
    /// <summary>A fresh temporary path in the same directory as <paramref name="path"/>.</summary>
    public static string TemporaryPathFor(string path)
    {
        string full = Path.GetFullPath(path);
        return $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
    }

    /// <summary>Flushes <paramref name="temporaryPath"/> to disk and renames it over <paramref name="path"/>.</summary>
    public static void Commit(string temporaryPath, string path)
    {
        using (var fs = new FileStream(temporaryPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        {
            fs.Flush(flushToDisk: true);
        }

        File.Move(temporaryPath, path, overwrite: true);
    }

    /// <summary>Writes a file atomically with the content produced by <paramref name="write"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string tmp = TemporaryPathFor(path);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>Writes a file atomically with the content produced by <paramref name="write"/>.</summary>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string tmp = TemporaryPathFor(path);
        try
        {
            await using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await write(fs, cancellationToken).ConfigureAwait(false);
                await fs.FlushAsync(cancellationToken).ConfigureAwait(false);
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>Writes text (UTF-8, no BOM) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            w.Write(text);
        });

    /// <summary>Deletes a file, ignoring errors (for cleaning up temporary files).</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
