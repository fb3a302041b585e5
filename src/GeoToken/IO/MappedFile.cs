using System.IO.MemoryMappedFiles;

namespace GeoToken.IO;

/// <summary>
/// A read-only memory map of a whole file. Mapping is O(1): the operating system pages data in
/// when it is touched and may drop clean pages under memory pressure, so a 20 GB file costs no RAM
/// beyond the pages read.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _pointer;
    private int _disposed;

    private MappedFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long length)
    {
        Path = path;
        _map = map;
        _view = view;
        Length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _pointer = p + view.PointerOffset;
    }

    /// <summary>The mapped file.</summary>
    public string Path { get; }

    /// <summary>Bytes mapped (the file length at open time).</summary>
    public long Length { get; }

    /// <summary>The first byte. Valid until disposal.</summary>
    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return _pointer;
        }
    }

    /// <summary>Maps <paramref name="path"/> read-only. The file must not be empty.</summary>
    public static MappedFile Open(string path, long expectedLength)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.RandomAccess);
        try
        {
            long length = fs.Length;
            if (length != expectedLength)
            {
                throw new IOException($"{path} changed while being opened: it has {length} bytes, {expectedLength} were expected.");
            }

            if (length == 0) throw new IOException($"{path} is empty and cannot be mapped.");
            var map = MemoryMappedFile.CreateFromFile(fs, mapName: null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                return new MappedFile(path, map, view, length);
            }
            catch
            {
                map.Dispose();
                throw;
            }
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _pointer = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
