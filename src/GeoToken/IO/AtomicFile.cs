using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace GeoToken.IO;

/// <summary>
/// Writes files so that readers only ever see the old complete file or the new complete file:
/// content goes to a temporary file in the same folder, is flushed to disk, and is renamed over the
/// target. A crash or kill mid-write leaves the previous file intact plus a stray temporary file
/// <c>NAME.tmp-PID-GUID</c>; the next write of this process into the same folder deletes such files whose
/// process is no longer running (see <see cref="RemoveStaleTemporaries"/>).
/// </summary>
public static partial class AtomicFile
{
    private static readonly ConcurrentDictionary<string, bool> CleanedFolders = new(StringComparer.Ordinal);

    /// <summary>
    /// A fresh temporary path in the same directory as <paramref name="path"/>, <c>NAME.tmp-PID-GUID</c>. The
    /// first call for a folder in a process removes stale temporaries there (<see cref="RemoveStaleTemporaries"/>).
    /// </summary>
    public static string TemporaryPathFor(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        if (CleanedFolders.TryAdd(dir, true)) RemoveStaleTemporaries(dir);
        return $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
    }

    /// <summary>
    /// Deletes the temporary files an interrupted write left in <paramref name="directory"/>: only names with
    /// our <c>.tmp-PID-GUID</c> pattern (32 lowercase hex digits; a file staged from another temporary name has
    /// two) and only when no process with any of those ids is running. Errors are ignored (best effort).
    /// </summary>
    /// <returns>The files deleted.</returns>
    public static IReadOnlyList<string> RemoveStaleTemporaries(string directory)
    {
        var removed = new List<string>();
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(directory, "*.tmp-*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return removed;
        }

        foreach (var file in files)
        {
            var matches = TemporaryName().Matches(Path.GetFileName(file));
            if (matches.Count == 0) continue;
            bool stale = true;
            foreach (Match m in matches)
            {
                if (!int.TryParse(m.Groups[1].ValueSpan, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) || IsRunning(pid))
                {
                    stale = false;
                    break;
                }
            }

            if (!stale) continue;
            TryDelete(file);
            if (!File.Exists(file)) removed.Add(file);
        }

        return removed;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return true; // cannot tell: keep the file
        }
    }

    [GeneratedRegex(@"\.tmp-([0-9]{1,10})-[0-9a-f]{32}(?=$|_[ID]\.npy|\.|-)", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryName();

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
