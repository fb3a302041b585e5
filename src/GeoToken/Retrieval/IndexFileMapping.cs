using System.IO.MemoryMappedFiles;

namespace GeoToken.Retrieval;

/// <summary>A read-only memory map of a whole index file; the pointer is valid until disposal.</summary>
internal sealed unsafe class IndexFileMapping : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private int _disposed;

    private IndexFileMapping(MemoryMappedFile map, MemoryMappedViewAccessor view, long length)
    {
        _map = map;
        _view = view;
        Length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        Pointer = p + view.PointerOffset;
    }

    /// <summary>The first byte.</summary>
    public byte* Pointer { get; private set; }

    /// <summary>The file length.</summary>
    public long Length { get; }

    public static IndexFileMapping Open(string path)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.RandomAccess);
        try
        {
            long length = fs.Length;
            if (length == 0) throw new IndexFormatException(path, "the file is empty.");
            var map = MemoryMappedFile.CreateFromFile(fs, mapName: null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                return new IndexFileMapping(map, view, length);
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

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Pointer = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
