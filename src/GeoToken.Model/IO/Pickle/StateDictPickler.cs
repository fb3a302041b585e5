using System.Buffers.Binary;
using System.Text;

namespace GeoToken.IO.Pickle;

/// <summary>
/// Writes the pickle (protocol 2) of a state dict as <c>torch.save</c> does: an <c>OrderedDict</c> of tensors, each
/// <c>torch._utils._rebuild_tensor_v2</c> over a persistent storage id <c>('storage', torch.XStorage, key, 'cpu', numel)</c>.
/// </summary>
internal sealed class StateDictPickler
{
    private readonly MemoryStream _out = new();

    /// <summary>One tensor to write: its name, storage class (e.g. <c>FloatStorage</c>), storage key, element count and contiguous shape.</summary>
    public sealed record Item(string Name, string StorageClass, string Key, long ElementCount, long[] Shape);

    /// <summary>The pickle bytes of an ordered dict holding <paramref name="items"/> in order.</summary>
    public static byte[] Pickle(IReadOnlyList<Item> items)
    {
        var p = new StateDictPickler();
        p.Op(0x80); p.Op(2); // PROTO 2
        p.Global("collections", "OrderedDict");
        p.Op(0x29); p.Op(0x52); // EMPTY_TUPLE, REDUCE
        if (items.Count > 0)
        {
            p.Op(0x28); // MARK
            foreach (var it in items)
            {
                p.String(it.Name);
                p.Global("torch._utils", "_rebuild_tensor_v2");
                p.Op(0x28); // MARK (args)
                p.Op(0x28); // MARK (persistent id)
                p.String("storage");
                p.Global("torch", it.StorageClass);
                p.String(it.Key);
                p.String("cpu");
                p.Int(it.ElementCount);
                p.Op(0x74); // TUPLE
                p.Op(0x51); // BINPERSID
                p.Int(0); // storage offset
                p.Tuple(it.Shape);
                p.Tuple(Strides(it.Shape));
                p.Op(0x89); // requires_grad False
                p.Global("collections", "OrderedDict");
                p.Op(0x29); p.Op(0x52); // backward hooks: OrderedDict()
                p.Op(0x74); // TUPLE
                p.Op(0x52); // REDUCE
            }

            p.Op(0x75); // SETITEMS
        }

        p.Op(0x2e); // STOP
        return p._out.ToArray();
    }

    private static long[] Strides(long[] shape)
    {
        var s = new long[shape.Length];
        long step = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            s[i] = step;
            step *= Math.Max(1, shape[i]);
        }

        return s;
    }

    private void Op(byte b) => _out.WriteByte(b);

    private void Global(string module, string name)
    {
        Op(0x63);
        _out.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    private void String(string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        Op(0x58);
        Span<byte> n = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(n, (uint)b.Length);
        _out.Write(n);
        _out.Write(b);
    }

    private void Int(long v)
    {
        Span<byte> b = stackalloc byte[8];
        if (v is >= 0 and < 256)
        {
            Op(0x4b); Op((byte)v);
        }
        else if (v is >= 0 and < 65536)
        {
            Op(0x4d);
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)v);
            _out.Write(b[..2]);
        }
        else if (v is >= int.MinValue and <= int.MaxValue)
        {
            Op(0x4a);
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)v);
            _out.Write(b[..4]);
        }
        else
        {
            Op(0x8a); Op(8); // LONG1, 8 bytes two's complement
            BinaryPrimitives.WriteInt64LittleEndian(b, v);
            _out.Write(b);
        }
    }

    private void Tuple(long[] values)
    {
        if (values.Length == 0)
        {
            Op(0x29);
            return;
        }

        Op(0x28);
        foreach (long v in values) Int(v);
        Op(0x74);
    }
}
