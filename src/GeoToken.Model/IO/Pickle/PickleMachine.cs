using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace GeoToken.IO.Pickle;

/// <summary>
/// A minimal pickle reader for the files <c>torch.save</c> writes (protocols 2–5). It never runs code: every global
/// must be on a short allowlist (<c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c>,
/// <c>torch._utils._rebuild_parameter[_with_state]</c> and the typed storage classes such as <c>torch.FloatStorage</c>),
/// and the only "calls" it performs are the few constructors those names stand for, done here in data. Tensors come
/// out as <see cref="PickleTensor"/> descriptions; nothing is read from the storages.
/// </summary>
internal sealed class PickleMachine
{
    private const string RebuildTensor = "torch._utils._rebuild_tensor_v2";
    private const string RebuildParameter = "torch._utils._rebuild_parameter";
    private const string RebuildParameterWithState = "torch._utils._rebuild_parameter_with_state";
    private const string OrderedDict = "collections.OrderedDict";
    private const int MaxRank = 64;

    private static readonly Dictionary<string, ScalarType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["torch.FloatStorage"] = ScalarType.Float32,
        ["torch.DoubleStorage"] = ScalarType.Float64,
        ["torch.HalfStorage"] = ScalarType.Float16,
        ["torch.BFloat16Storage"] = ScalarType.BFloat16,
        ["torch.LongStorage"] = ScalarType.Int64,
        ["torch.IntStorage"] = ScalarType.Int32,
        ["torch.ShortStorage"] = ScalarType.Int16,
        ["torch.CharStorage"] = ScalarType.Int8,
        ["torch.ByteStorage"] = ScalarType.Byte,
        ["torch.BoolStorage"] = ScalarType.Bool,
    };

    private readonly byte[] _data;
    private readonly string _file;
    private readonly int _maxMemo;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private readonly Dictionary<string, PickleStorage> _storages = new(StringComparer.Ordinal);
    private int _pos;

    private PickleMachine(byte[] data, string file, int maxMemo)
    {
        _data = data;
        _file = file;
        _maxMemo = maxMemo;
    }

    /// <summary>The names a pickle may refer to.</summary>
    public static IReadOnlyCollection<string> AllowedGlobals { get; } =
        [OrderedDict, RebuildTensor, RebuildParameter, RebuildParameterWithState, .. StorageTypes.Keys];

    /// <summary>The element type a typed storage class (e.g. <c>torch.FloatStorage</c>) stands for; false for other names.</summary>
    public static bool TryStorageType(string fullName, out ScalarType dtype) => StorageTypes.TryGetValue(fullName, out dtype);

    /// <summary>The storage class name of an element type (e.g. <c>FloatStorage</c>), for writers; null when torch has none this reader knows.</summary>
    public static string? StorageClassName(ScalarType dtype) =>
        StorageTypes.FirstOrDefault(kv => kv.Value == dtype).Key is { } full ? full["torch.".Length..] : null;

    /// <summary>Runs the pickle and returns the object it builds.</summary>
    /// <param name="data">The pickle bytes.</param>
    /// <param name="file">What to name in error messages (the checkpoint path and entry).</param>
    /// <param name="maxMemo">The most memo entries allowed.</param>
    /// <exception cref="InvalidDataException">The pickle is malformed, uses an unsupported opcode or refers to a global outside the allowlist.</exception>
    public static object? Load(byte[] data, string file, int maxMemo) => new PickleMachine(data, file, maxMemo).Run();

    private object? Run()
    {
        while (true)
        {
            int at = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    byte proto = ReadByte();
                    if (proto > 5) throw Bad($"uses pickle protocol {proto}; this reader knows protocols 2–5");
                    break;
                case 0x95: // FRAME
                    Take(8);
                    break;
                case 0x2e: // STOP
                    if (_stack.Count != 1 || _marks.Count != 0) throw Bad($"ends (STOP at byte {at}) with {_stack.Count} values on the stack and {_marks.Count} open marks");
                    return _stack[0];
                case 0x28: _marks.Add(_stack.Count); break; // MARK
                case 0x30: Pop(); break; // POP
                case 0x31: PopMark(); break; // POP_MARK
                case 0x32: Push(Peek()); break; // DUP
                case 0x4e: Push(null); break; // NONE
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case 0x4a: Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case 0x4b: Push((long)ReadByte()); break; // BININT1
                case 0x4d: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: Push(ReadLong(ReadLength(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break; // LONG4
                case 0x47: Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                case 0x58: Push(ReadUtf8(ReadLength(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break; // BINUNICODE
                case 0x8c: Push(ReadUtf8(ReadByte())); break; // SHORT_BINUNICODE
                case 0x8d: Push(ReadUtf8(ReadLength(BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break; // BINUNICODE8
                case 0x54: Push(Encoding.Latin1.GetString(Take(ReadLength(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break; // BINSTRING
                case 0x55: Push(Encoding.Latin1.GetString(Take(ReadByte()))); break; // SHORT_BINSTRING
                case 0x42: Push(Take(ReadLength(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break; // BINBYTES
                case 0x43: Push(Take(ReadByte()).ToArray()); break; // SHORT_BINBYTES
                case 0x8e: Push(Take(ReadLength(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))).ToArray()); break; // BINBYTES8
                case 0x96: Push(Take(ReadLength(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))).ToArray()); break; // BYTEARRAY8
                case 0x98: break; // READONLY_BUFFER (no-op on bytes)
                case 0x5d: Push(new List<object?>()); break; // EMPTY_LIST
                case 0x29: Push(new PickleTuple([])); break; // EMPTY_TUPLE
                case 0x7d: Push(new PickleDict()); break; // EMPTY_DICT
                case 0x6c: Push(new List<object?>(PopMark())); break; // LIST
                case 0x74: Push(new PickleTuple([.. PopMark()])); break; // TUPLE
                case 0x85: Push(new PickleTuple([Pop()])); break; // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new PickleTuple([a, b])); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PickleTuple([a, b, c])); break; } // TUPLE3
                case 0x64: Push(FillDict(new PickleDict(), PopMark(), at)); break; // DICT
                case 0x61: { var v = Pop(); ListOnTop(at).Add(v); break; } // APPEND
                case 0x65: { var items = PopMark(); ListOnTop(at).AddRange(items); break; } // APPENDS
                case 0x73: { var v = Pop(); var k = Pop(); DictOnTop(at).Set(k, v); break; } // SETITEM
                case 0x75: { var items = PopMark(); FillDict(DictOnTop(at), items, at); break; } // SETITEMS
                case 0x71: Memo(ReadByte()); break; // BINPUT
                case 0x72: Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break; // LONG_BINPUT
                case 0x94: Memo(_memo.Count); break; // MEMOIZE
                case 0x70: Memo(ReadDecimalLine()); break; // PUT
                case 0x68: Push(Recall(ReadByte(), at)); break; // BINGET
                case 0x6a: Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)), at)); break; // LONG_BINGET
                case 0x67: Push(Recall(ReadDecimalLine(), at)); break; // GET
                case 0x63: Push(Global(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop();
                    var module = Pop();
                    if (module is not string m || name is not string n) throw Bad($"has a STACK_GLOBAL at byte {at} whose module and name are not strings");
                    Push(Global(m, n));
                    break;
                }

                case 0x51: Push(PersistentLoad(Pop(), at)); break; // BINPERSID
                case 0x52: // REDUCE
                {
                    var args = Pop();
                    var callable = Pop();
                    Push(Reduce(callable, args, at));
                    break;
                }

                case 0x62: // BUILD
                {
                    var state = Pop();
                    Build(Peek(), state, at);
                    break;
                }

                default:
                    throw Bad($"uses pickle opcode 0x{op:x2} at byte {at}, which a torch.save state dict does not need (refused: this reader runs no code and builds no objects beyond dicts, lists, tuples, numbers, strings and tensors)");
            }
        }
    }

    private object Global(string module, string name)
    {
        string full = $"{module}.{name}";
        if (!AllowedGlobals.Contains(full))
        {
            throw Bad($"refers to the global '{full}', which is not allowed (allowed: {string.Join(", ", AllowedGlobals)}); nothing was run");
        }

        return new PickleGlobal(module, name);
    }

    private object? Reduce(object? callable, object? args, int at)
    {
        if (callable is not PickleGlobal g)
        {
            throw Bad($"calls a {Describe(callable)} (REDUCE at byte {at}); only allowed globals can be called");
        }

        if (args is not PickleTuple tuple) throw Bad($"calls '{g.FullName}' (REDUCE at byte {at}) with {Describe(args)} instead of an argument tuple");
        var a = tuple.Items;
        switch (g.FullName)
        {
            case OrderedDict:
                if (a.Length != 0) throw Bad($"calls '{OrderedDict}' with {a.Length} arguments at byte {at}; expected none");
                return new PickleDict();
            case RebuildTensor:
                return RebuildTensorV2(a, at);
            case RebuildParameter or RebuildParameterWithState:
                if (a.Length is < 3 or > 4 || a[0] is not PickleTensor t) throw Bad($"calls '{g.FullName}' at byte {at} with arguments that are not (tensor, requires_grad, hooks[, state])");
                return t;
            default:
                throw Bad($"calls '{g.FullName}' (REDUCE at byte {at}), which is not a constructor; refused");
        }
    }

    private PickleTensor RebuildTensorV2(object?[] a, int at)
    {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.Length is < 6 or > 7 || a[0] is not PickleStorage storage || a[1] is not long offset || a[2] is not PickleTuple size || a[3] is not PickleTuple stride)
        {
            throw Bad($"calls '{RebuildTensor}' at byte {at} with arguments that are not (storage, offset, size, stride, requires_grad, hooks)");
        }

        long[] shape = Longs(size, "size", at), strides = Longs(stride, "stride", at);
        if (shape.Length != strides.Length || shape.Length > MaxRank)
        {
            throw Bad($"describes a tensor at byte {at} with {shape.Length} sizes and {strides.Length} strides (at most {MaxRank} dimensions)");
        }

        // Every element the view addresses must lie inside the storage.
        try
        {
            checked
            {
                if (offset < 0 || shape.Any(s => s < 0) || strides.Any(s => s < 0)) throw new OverflowException();
                if (shape.All(s => s > 0))
                {
                    long last = offset;
                    for (int i = 0; i < shape.Length; i++) last += (shape[i] - 1) * strides[i];
                    if (last >= storage.ElementCount) throw new OverflowException();
                }
                else if (offset > storage.ElementCount)
                {
                    throw new OverflowException();
                }
            }
        }
        catch (OverflowException)
        {
            throw Bad($"describes a tensor at byte {at} (offset {offset}, size [{string.Join(", ", shape)}], stride [{string.Join(", ", strides)}]) that does not fit in its storage '{storage.Key}' of {storage.ElementCount} elements");
        }

        return new PickleTensor(storage, offset, shape, strides);
    }

    private long[] Longs(PickleTuple t, string what, int at) =>
        t.Items.Select(x => x is long v ? v : throw Bad($"has a tensor {what} at byte {at} holding {Describe(x)} instead of integers")).ToArray();

    private PickleStorage PersistentLoad(object? pid, int at)
    {
        // ('storage', storage_type, key, location, numel)
        if (pid is not PickleTuple { Items: ["storage", PickleGlobal type, string key, string location, long count] })
        {
            throw Bad($"has a persistent id at byte {at} that is not ('storage', type, key, location, size)");
        }

        if (!TryStorageType(type.FullName, out var dtype)) throw Bad($"has a storage of type '{type.FullName}' at byte {at}; expected a typed storage class");
        if (count < 0) throw Bad($"declares storage '{key}' with {count} elements");
        if (key.Length == 0 || key.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_'))
        {
            throw Bad($"names a storage '{key}' at byte {at}; storage keys are letters, digits and '_'");
        }

        var storage = new PickleStorage(key, dtype, count, location);
        if (_storages.TryGetValue(key, out var seen))
        {
            if (seen != storage) throw Bad($"declares storage '{key}' twice, as {seen.DType} × {seen.ElementCount} and as {dtype} × {count}");
            return seen;
        }

        _storages.Add(key, storage);
        return storage;
    }

    private void Build(object? target, object? state, int at)
    {
        // OrderedDict instances carry their attributes (e.g. state_dict()'s _metadata) as BUILD state: kept as data, unused.
        if (target is PickleDict && state is PickleDict or null) return;
        throw Bad($"sets the state of a {Describe(target)} from a {Describe(state)} (BUILD at byte {at}); only dicts accept state here");
    }

    private PickleDict FillDict(PickleDict dict, List<object?> items, int at)
    {
        if (items.Count % 2 != 0) throw Bad($"has an odd number of dict items at byte {at}");
        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
        return dict;
    }

    private List<object?> ListOnTop(int at) => Peek() as List<object?> ?? throw Bad($"appends to a {Describe(Peek())} at byte {at}");

    private PickleDict DictOnTop(int at) => Peek() as PickleDict ?? throw Bad($"sets an item of a {Describe(Peek())} at byte {at}");

    private void Memo(long index)
    {
        if (_stack.Count == 0) throw Bad($"memoizes from an empty stack at byte {_pos}");
        if (!_memo.ContainsKey(index) && _memo.Count >= _maxMemo) throw Bad($"stores more than {_maxMemo} memo entries");
        _memo[index] = Peek();
    }

    private object? Recall(long index, int at) =>
        _memo.TryGetValue(index, out var v) ? v : throw Bad($"reads memo entry {index} at byte {at}, which was never stored");

    private void Push(object? value) => _stack.Add(value);

    private object? Peek() => _stack.Count > (_marks.Count > 0 ? _marks[^1] : 0) ? _stack[^1] : throw Bad($"reads past a mark or an empty stack at byte {_pos}");

    private object? Pop()
    {
        var v = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Bad($"closes a mark at byte {_pos} that was never opened");
        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private byte ReadByte() => Take(1)[0];

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _data.Length - _pos) throw Bad($"is truncated: {count} bytes wanted at byte {_pos} of {_data.Length}");
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private int ReadLength(ulong length) =>
        length <= (ulong)(_data.Length - _pos) ? (int)length : throw Bad($"declares a {length}-byte value at byte {_pos}, beyond its {_data.Length} bytes");

    private long ReadLong(int n)
    {
        if (n > 8) throw Bad($"holds a {n}-byte integer at byte {_pos}; integers wider than 64 bits are not supported");
        var bytes = Take(n);
        if (n == 0) return 0;
        long v = (sbyte)bytes[n - 1]; // sign-extended most significant byte
        for (int i = n - 2; i >= 0; i--) v = (v << 8) | bytes[i];
        return v;
    }

    private string ReadUtf8(int length)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Take(length));
        }
        catch (DecoderFallbackException)
        {
            throw Bad($"holds a string before byte {_pos} that is not valid UTF-8");
        }
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0 || end - _pos > 1024) throw Bad($"has an unterminated or overlong name at byte {_pos}");
        string s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private long ReadDecimalLine()
    {
        string line = ReadLine();
        return long.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw Bad($"has a memo index '{line}' that is not a number");
    }

    private static string Describe(object? x) => x switch
    {
        null => "None",
        PickleGlobal g => $"global '{g.FullName}'",
        PickleTensor => "tensor",
        PickleStorage => "storage",
        PickleDict => "dict",
        PickleTuple => "tuple",
        List<object?> => "list",
        string => "string",
        long => "integer",
        _ => x.GetType().Name,
    };

    private InvalidDataException Bad(string message) => new($"'{_file}' {message}.");
}
