using System.Text;

namespace GeoToken.Onnx.Tests.Support;

/// <summary>
/// Writes tiny ONNX models (ModelProto, IR 8, opset 13) in protobuf wire format by hand, for tests
/// whose expected outputs are known exactly (e.g. a model that returns its input).
/// </summary>
internal sealed class OnnxModelWriter
{
    public const int Float = 1;
    public const int Float16 = 10;
    public const int UInt8 = 2;
    public const int Int64Type = 7;

    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _inputs = [];
    private readonly List<byte[]> _outputs = [];

    /// <summary>Adds a graph input; a dimension is a number (fixed) or a string (symbolic).</summary>
    public OnnxModelWriter Input(string name, int elemType, params object[] dims)
    {
        _inputs.Add(ValueInfo(name, elemType, dims));
        return this;
    }

    public OnnxModelWriter Output(string name, int elemType, params object[] dims)
    {
        _outputs.Add(ValueInfo(name, elemType, dims));
        return this;
    }

    /// <summary>Adds a node; <paramref name="intAttributes"/> are INT attributes.</summary>
    public OnnxModelWriter Node(string op, string[] inputs, string[] outputs, params (string Name, long Value)[] intAttributes)
    {
        var n = new Proto();
        foreach (var i in inputs) n.String(1, i);
        foreach (var o in outputs) n.String(2, o);
        n.String(3, $"{op}_{_nodes.Count}");
        n.String(4, op);
        foreach (var (name, value) in intAttributes)
        {
            n.Message(5, new Proto().String(1, name).Varint(3, (ulong)value).Varint(20, 2)); // AttributeProto: name, i, type INT
        }

        _nodes.Add(n.ToArray());
        return this;
    }

    /// <summary>Adds a node with one INTS attribute and INT attributes.</summary>
    public OnnxModelWriter Node(string op, string[] inputs, string[] outputs, (string Name, long[] Values) intsAttribute, params (string Name, long Value)[] intAttributes)
    {
        Node(op, inputs, outputs, intAttributes);
        var n = new Proto();
        var a = new Proto().String(1, intsAttribute.Name);
        foreach (long v in intsAttribute.Values) a.Varint(8, (ulong)v);
        a.Varint(20, 7); // type INTS
        n.Message(5, a);
        byte[] last = _nodes[^1];
        _nodes[^1] = [.. last, .. n.ToArray()];
        return this;
    }

    public byte[] ToArray()
    {
        var graph = new Proto();
        foreach (var n in _nodes) graph.Bytes(1, n);
        graph.String(2, "test");
        foreach (var i in _inputs) graph.Bytes(11, i);
        foreach (var o in _outputs) graph.Bytes(12, o);
        var model = new Proto().Varint(1, 8).String(2, "GeoToken.Onnx.Tests");
        model.Message(8, new Proto().String(1, "").Varint(2, 13));
        model.Message(7, graph);
        return model.ToArray();
    }

    public string Save(string path)
    {
        File.WriteAllBytes(path, ToArray());
        return path;
    }

    private static byte[] ValueInfo(string name, int elemType, object[] dims)
    {
        var shape = new Proto();
        foreach (var d in dims)
        {
            shape.Message(1, d is string s ? new Proto().String(2, s) : new Proto().Varint(1, (ulong)Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)));
        }

        var tensor = new Proto().Varint(1, (ulong)elemType).Message(2, shape);
        return new Proto().String(1, name).Message(2, new Proto().Message(1, tensor)).ToArray();
    }

    private sealed class Proto
    {
        private readonly MemoryStream _s = new();

        public Proto Varint(int field, ulong v)
        {
            Tag(field, 0);
            Raw(v);
            return this;
        }

        public Proto String(int field, string v) => Bytes(field, Encoding.UTF8.GetBytes(v));

        public Proto Message(int field, Proto m) => Bytes(field, m.ToArray());

        public Proto Bytes(int field, byte[] v)
        {
            Tag(field, 2);
            Raw((ulong)v.Length);
            _s.Write(v);
            return this;
        }

        public byte[] ToArray() => _s.ToArray();

        private void Tag(int field, int wire) => Raw(((ulong)field << 3) | (uint)wire);

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _s.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }

            _s.WriteByte((byte)v);
        }
    }
}
