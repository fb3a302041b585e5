using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace GeoToken.Data;

/// <summary>
/// The parsed header of a NumPy <c>.npy</c> file (format versions 1.0, 2.0 and 3.0): element type,
/// shape and where the data starts. Only little-endian C-order numeric arrays of one or two
/// dimensions are accepted; see <see cref="Read(string)"/> for everything that is rejected.
/// </summary>
public sealed record NpyHeader
{
    /// <summary>The six magic bytes every <c>.npy</c> file starts with: <c>\x93NUMPY</c>.</summary>
    internal static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Upper bound on the header length we parse (NumPy itself refuses more than 10,000 bytes by default).</summary>
    internal const int MaxHeaderBytes = 16 << 20;

    /// <summary>The format's major version: 1, 2 or 3.</summary>
    public required int MajorVersion { get; init; }

    /// <summary>The format's minor version (0).</summary>
    public required int MinorVersion { get; init; }

    /// <summary>The element type.</summary>
    public required NpyDataType DataType { get; init; }

    /// <summary>The array's shape: one or two non-negative lengths.</summary>
    public required ImmutableArray<long> Shape { get; init; }

    /// <summary>The byte offset of the first element (magic + version + length field + header text).</summary>
    public required long DataOffset { get; init; }

    /// <summary>The number of dimensions, 1 or 2.</summary>
    public int Rank => Shape.Length;

    /// <summary>The length of the first dimension.</summary>
    public long Rows => Shape[0];

    /// <summary>The length of the second dimension, or 1 for a 1-D array.</summary>
    public long Columns => Shape.Length == 2 ? Shape[1] : 1;

    /// <summary>Bytes per element.</summary>
    public int ItemSize => DataType.ItemSize();

    /// <summary>Bytes of array data after the header.</summary>
    public long DataBytes => Rows * Columns * ItemSize;

    /// <summary>Reads and validates the header of <paramref name="path"/>, and checks that the file is exactly header + data long. Reads only the header.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="NpyFormatException">
    /// Not a <c>.npy</c> file (or an <c>.npz</c> archive or a pickle), an unsupported version, a corrupt
    /// header, object (pickled) arrays, big-endian or unsupported element types, Fortran order,
    /// a rank other than 1 or 2, or a file shorter or longer than its header says.
    /// </exception>
    public static NpyHeader Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($".npy file not found: {path}", path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        return Read(fs, path);
    }

    /// <summary>Reads and validates the header at the start of <paramref name="stream"/> (which must be seekable and positioned at 0).</summary>
    internal static NpyHeader Read(Stream stream, string path)
    {
        long fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[12];
        int got = ReadAtMost(stream, prefix);
        if (got < 6 || !prefix[..6].SequenceEqual(Magic))
        {
            throw new NpyFormatException(path, DescribeForeign(prefix[..got], fileLength));
        }

        if (got < 10) throw new NpyFormatException(path, $"is truncated inside the header ({fileLength} bytes).");
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw new NpyFormatException(path, $"uses .npy format version {major}.{minor}; GeoToken reads versions 1.0, 2.0 and 3.0.");
        }

        long headerLength;
        int lengthBytes;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
            lengthBytes = 2;
        }
        else
        {
            if (got < 12) throw new NpyFormatException(path, $"is truncated inside the header ({fileLength} bytes).");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
            lengthBytes = 4;
        }

        long dataOffset = 8 + lengthBytes + headerLength;
        if (headerLength > MaxHeaderBytes)
        {
            throw new NpyFormatException(path, $"claims a {headerLength}-byte header; the header is corrupt (GeoToken accepts up to {MaxHeaderBytes} bytes).");
        }

        if (dataOffset > fileLength)
        {
            throw new NpyFormatException(path, $"is truncated: the header claims {headerLength} bytes but the file has only {fileLength} bytes in all.");
        }

        var headerBytes = new byte[headerLength];
        stream.Position = 8 + lengthBytes;
        stream.ReadExactly(headerBytes);
        string text;
        try
        {
            // Versions 1 and 2 are latin-1 (NumPy writes ASCII); version 3 is UTF-8.
            text = major == 3
                ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes)
                : Encoding.Latin1.GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw new NpyFormatException(path, "has a corrupt header: it is not valid UTF-8.");
        }

        var header = ParseHeaderText(text, path, major, minor, dataOffset);
        long expected = checked(dataOffset + header.DataBytes);
        if (fileLength < expected)
        {
            throw new NpyFormatException(path,
                $"is truncated: shape ({string.Join(", ", header.Shape)}) of {header.DataType.Descr()} needs {header.DataBytes} data bytes after the {dataOffset}-byte header ({expected} in all), but the file has {fileLength} bytes.");
        }

        if (fileLength > expected)
        {
            throw new NpyFormatException(path,
                $"has {fileLength - expected} trailing bytes after its data: shape ({string.Join(", ", header.Shape)}) of {header.DataType.Descr()} ends at byte {expected}, the file has {fileLength}. The file is corrupt or the header's shape is wrong.");
        }

        return header;
    }

    private static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }

        return total;
    }

    private static string DescribeForeign(ReadOnlySpan<byte> start, long length)
    {
        if (length == 0) return "is empty; a .npy file was expected.";
        if (start.Length >= 2 && start[0] == (byte)'P' && start[1] == (byte)'K')
        {
            return "is a zip archive (an .npz file from np.savez?), not a .npy file; extract the array and save it with np.save.";
        }

        if (start.Length >= 1 && start[0] == 0x80)
        {
            return "is a Python pickle, not a .npy file; save the array with np.save (a numeric array, not an object).";
        }

        return "is not a .npy file: it does not start with the magic bytes \\x93NUMPY.";
    }

    /// <summary>Parses the header's Python dict literal and validates it.</summary>
    internal static NpyHeader ParseHeaderText(string text, string path, int major, int minor, long dataOffset)
    {
        object? parsed;
        try
        {
            var parser = new PyLiteralParser(text);
            parsed = parser.ParseValue();
            parser.ExpectEnd();
        }
        catch (FormatException e)
        {
            throw new NpyFormatException(path, $"has a corrupt header ({e.Message}): {Abbreviate(text)}");
        }

        if (parsed is not Dictionary<string, object?> dict)
        {
            throw new NpyFormatException(path, $"has a corrupt header: it is not a Python dict: {Abbreviate(text)}");
        }

        if (dict.Count != 3 || !dict.ContainsKey("descr") || !dict.ContainsKey("fortran_order") || !dict.ContainsKey("shape"))
        {
            throw new NpyFormatException(path,
                $"has a corrupt header: the keys must be exactly 'descr', 'fortran_order' and 'shape', found {string.Join(", ", dict.Keys.Select(k => "'" + k + "'"))}.");
        }

        if (dict["shape"] is not List<object?> { } shapeList || !IsTuple(dict["shape"]))
        {
            throw new NpyFormatException(path, $"has a corrupt header: 'shape' is not a tuple of integers: {Abbreviate(text)}");
        }

        var shape = new long[shapeList.Count];
        for (int k = 0; k < shape.Length; k++)
        {
            if (shapeList[k] is not long n || n < 0)
            {
                throw new NpyFormatException(path, $"has a corrupt header: shape entry {k} is not a non-negative integer: {Abbreviate(text)}");
            }

            shape[k] = n;
        }

        string shapeText = "(" + string.Join(", ", shape) + (shape.Length == 1 ? ",)" : ")");
        var descrValue = dict["descr"];
        if (descrValue is not string descr)
        {
            throw new NpyFormatException(path,
                $"holds a structured array (descr {Abbreviate(Describe(descrValue))}); GeoToken reads plain numeric arrays ({SupportedTypes}).");
        }

        NpyDataType? type = NpyDataTypes.TryParse(descr);
        if (type is null)
        {
            throw new NpyFormatException(path, DescribeUnsupportedDescr(descr));
        }

        if (dict["fortran_order"] is not bool fortran)
        {
            throw new NpyFormatException(path, $"has a corrupt header: 'fortran_order' is not True or False: {Abbreviate(text)}");
        }

        if (shape.Length is not (1 or 2))
        {
            throw new NpyFormatException(path,
                $"holds a {shape.Length}-dimensional array of shape {shapeText}; GeoToken reads 1-D or 2-D (rows, columns) arrays. Reshape it, e.g. arr.reshape(len(arr), -1).");
        }

        // For one dimension Fortran and C order are the same bytes.
        if (fortran && shape.Length == 2 && shape[0] > 1 && shape[1] > 1)
        {
            throw new NpyFormatException(path,
                $"is stored in Fortran (column-major) order, shape {shapeText}; GeoToken reads C (row-major) order. Save np.ascontiguousarray(arr) instead.");
        }

        try
        {
            checked
            {
                _ = shape.Aggregate(1L, (a, b) => a * b) * type.Value.ItemSize();
            }
        }
        catch (OverflowException)
        {
            throw new NpyFormatException(path, $"has a corrupt header: shape {shapeText} is impossibly large.");
        }

        return new NpyHeader
        {
            MajorVersion = major,
            MinorVersion = minor,
            DataType = type.Value,
            Shape = [.. shape],
            DataOffset = dataOffset,
        };
    }

    private const string SupportedTypes = "little-endian <f2, <f4, <f8, <i4, <i8";

    private static string DescribeUnsupportedDescr(string descr)
    {
        if (descr.Length >= 2 && descr[1] == 'O')
        {
            return $"holds Python objects (dtype {descr}), which NumPy stores with pickle (allow_pickle); GeoToken reads numeric arrays only ({SupportedTypes}). Save arr.astype(np.float32) instead.";
        }

        if (descr.Length >= 1 && descr[0] == '>')
        {
            return $"is big-endian (dtype {descr}); GeoToken reads little-endian arrays. Convert with arr.astype(arr.dtype.newbyteorder('<')) before saving.";
        }

        return $"has element type {descr}, which GeoToken does not read; supported: {SupportedTypes}.";
    }

    private static bool IsTuple(object? value) => value is PyTuple;

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => "'" + s + "'",
        bool b => b ? "True" : "False",
        long n => n.ToString(CultureInfo.InvariantCulture),
        PyTuple t => "(" + string.Join(", ", t.Select(Describe)) + ")",
        List<object?> l => "[" + string.Join(", ", l.Select(Describe)) + "]",
        Dictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => "'" + kv.Key + "': " + Describe(kv.Value))) + "}",
        _ => value.ToString() ?? "?",
    };

    private static string Abbreviate(string text)
    {
        text = text.TrimEnd();
        return text.Length <= 200 ? text : text[..200] + "…";
    }

    /// <summary>The header dict we write, without padding or the final newline.</summary>
    internal static string Format(NpyDataType type, long rows, int? columns)
    {
        string shape = columns is int c
            ? string.Create(CultureInfo.InvariantCulture, $"({rows}, {c})")
            : string.Create(CultureInfo.InvariantCulture, $"({rows},)");
        return $"{{'descr': '{type.Descr()}', 'fortran_order': False, 'shape': {shape}, }}";
    }

    /// <summary>A tuple in a parsed Python literal (a list marked as tuple).</summary>
    private sealed class PyTuple : List<object?>;

    /// <summary>A parser of the Python literal subset NumPy headers use: dicts, tuples, lists, strings, ints, True/False/None.</summary>
    private ref struct PyLiteralParser(string text)
    {
        private readonly string _text = text;
        private int _pos;

        public object? ParseValue()
        {
            SkipSpace();
            if (_pos >= _text.Length) throw Error("unexpected end");
            char c = _text[_pos];
            switch (c)
            {
                case '{':
                    return ParseDict();
                case '(':
                    return ParseSequence(')', new PyTuple());
                case '[':
                    return ParseSequence(']', new List<object?>());
                case '\'':
                case '"':
                    return ParseString();
                default:
                    if (c == '-' || char.IsAsciiDigit(c)) return ParseInt();
                    if (char.IsAsciiLetter(c)) return ParseName();
                    throw Error($"unexpected '{c}'");
            }
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_pos != _text.Length) throw Error($"unexpected '{_text[_pos]}' after the dict");
        }

        private Dictionary<string, object?> ParseDict()
        {
            _pos++;
            var d = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (Peek() == '}')
                {
                    _pos++;
                    return d;
                }

                if (ParseValue() is not string key) throw Error("a dict key is not a string");
                SkipSpace();
                if (Peek() != ':') throw Error("':' expected");
                _pos++;
                object? value = ParseValue();
                if (!d.TryAdd(key, value)) throw Error($"duplicate key '{key}'");
                SkipSpace();
                char c = Peek();
                if (c == ',') _pos++;
                else if (c != '}') throw Error("',' or '}' expected");
            }
        }

        private List<object?> ParseSequence(char close, List<object?> into)
        {
            _pos++;
            bool sawComma = false;
            while (true)
            {
                SkipSpace();
                if (Peek() == close)
                {
                    _pos++;
                    // (5) is the integer 5 in Python, not a tuple; NumPy writes (5,) for one dimension.
                    if (into is PyTuple && into.Count == 1 && !sawComma) throw Error("'(n)' is not a tuple; a 1-tuple is written '(n,)'");
                    return into;
                }

                into.Add(ParseValue());
                SkipSpace();
                char c = Peek();
                if (c == ',')
                {
                    _pos++;
                    sawComma = true;
                }
                else if (c != close)
                {
                    throw Error($"',' or '{close}' expected");
                }
            }
        }

        private string ParseString()
        {
            char quote = _text[_pos++];
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length) throw Error("unterminated string");
                char c = _text[_pos++];
                if (c == quote) return sb.ToString();
                if (c == '\\')
                {
                    if (_pos >= _text.Length) throw Error("unterminated string");
                    sb.Append(_text[_pos++]);
                }
                else
                {
                    sb.Append(c);
                }
            }
        }

        private long ParseInt()
        {
            int start = _pos;
            if (_text[_pos] == '-') _pos++;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
            var span = _text.AsSpan(start, _pos - start);
            if (_pos < _text.Length && (_text[_pos] == 'L' || _text[_pos] == 'l')) _pos++; // Python 2 long suffix
            if (!long.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            {
                throw Error($"'{span}' is not an integer");
            }

            return v;
        }

        private object? ParseName()
        {
            int start = _pos;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
            string name = _text[start.._pos];
            return name switch
            {
                "True" => true,
                "False" => false,
                "None" => null,
                _ => throw Error($"unexpected name '{name}'"),
            };
        }

        private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

        private void SkipSpace()
        {
            while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
        }

        private readonly FormatException Error(string what) => new($"{what} at character {_pos}");
    }
}
