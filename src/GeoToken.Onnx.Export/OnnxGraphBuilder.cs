using Google.Protobuf;
using Onnx;

namespace GeoToken.Onnx.Export;

/// <summary>
/// Builds one ONNX graph (default domain, one opset) node by node: inputs and outputs with symbolic or fixed
/// dimensions, float/int64 initializers, and operators whose outputs get fresh names.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const int Float = (int)TensorProto.Types.DataType.Float;
    public const int Long = (int)TensorProto.Types.DataType.Int64;
    public const int Bool = (int)TensorProto.Types.DataType.Bool;

    private readonly GraphProto _graph;
    private readonly Dictionary<string, string> _constants = [];
    private int _next;

    public OnnxGraphBuilder(string name) => _graph = new GraphProto { Name = name };

    /// <summary>Declares a graph input; a dimension is an <see cref="int"/> (fixed) or a <see cref="string"/> (symbolic).</summary>
    public string Input(string name, int elemType, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, elemType, dims));
        return name;
    }

    /// <summary>
    /// Declares <paramref name="value"/> as the graph output <paramref name="name"/>: the node that computes it is renamed
    /// (with every use so far), so the output costs no copy; a graph input or initializer is passed on by an Identity node.
    /// </summary>
    /// <returns>The name later nodes must use for the value: <paramref name="name"/>.</returns>
    public string Output(string value, string name, int elemType, params object[] dims)
    {
        var producer = _graph.Node.FirstOrDefault(n => n.Output.Contains(value));
        if (producer is null || _graph.Output.Any(o => o.Name == value))
        {
            Node("Identity", [value], [name]);
        }
        else
        {
            producer.Output[producer.Output.IndexOf(value)] = name;
            foreach (var node in _graph.Node)
            {
                for (int i = 0; i < node.Input.Count; i++)
                {
                    if (node.Input[i] == value) node.Input[i] = name;
                }
            }
        }

        _graph.Output.Add(ValueInfo(name, elemType, dims));
        return name;
    }

    /// <summary>A float initializer.</summary>
    public string Weight(string name, float[] data, params long[] dims)
    {
        if (data.Length != dims.Aggregate(1L, (a, b) => a * b)) throw new ArgumentException($"Initializer {name} has {data.Length} values for shape [{string.Join(", ", dims)}].");
        var t = new TensorProto { Name = name, DataType = Float };
        t.Dims.AddRange(dims);
        var bytes = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian; this exporter runs on little-endian machines only.");
        t.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>An int64 constant (initializer) with the given values and shape (scalar when <paramref name="dims"/> is empty); equal constants are shared.</summary>
    public string Ints(long[] values, params long[] dims)
    {
        string key = $"i[{string.Join(",", dims)}]:{string.Join(",", values)}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var t = new TensorProto { Name = $"const_{_constants.Count}", DataType = Long };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        _constants[key] = t.Name;
        return t.Name;
    }

    /// <summary>A 1-D int64 constant.</summary>
    public string Vec(params long[] values) => Ints(values, values.Length);

    /// <summary>A scalar int64 constant.</summary>
    public string Scalar(long value) => Ints([value]);

    /// <summary>A scalar float constant; equal constants are shared.</summary>
    public string FloatScalar(float value)
    {
        string key = $"f:{BitConverter.SingleToInt32Bits(value)}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var t = new TensorProto { Name = $"const_{_constants.Count}", DataType = Float };
        t.FloatData.Add(value);
        _graph.Initializer.Add(t);
        _constants[key] = t.Name;
        return t.Name;
    }

    /// <summary>Adds an operator with one output and returns the output's (fresh) name.</summary>
    public string Op(string opType, string[] inputs, params AttributeProto[] attributes) => OpN(opType, inputs, 1, attributes)[0];

    /// <summary>Adds an operator with <paramref name="outputs"/> outputs and returns their (fresh) names.</summary>
    public string[] OpN(string opType, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var names = new string[outputs];
        for (int i = 0; i < outputs; i++) names[i] = $"{opType}_{_next}_{i}";
        Node(opType, inputs, names, attributes);
        return names;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto FloatAttr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto IntList(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>The finished model: IR version 8, the default domain at <paramref name="opset"/>.</summary>
    public ModelProto Build(int opset, string producer, string producerVersion)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = producer,
            ProducerVersion = producerVersion,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private void Node(string opType, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_next++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    private static ValueInfoProto ValueInfo(string name, int elemType, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d switch
            {
                int n => new TensorShapeProto.Types.Dimension { DimValue = n },
                long n => new TensorShapeProto.Types.Dimension { DimValue = n },
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                _ => throw new ArgumentException($"Dimension {d} of {name} is neither a number nor a name."),
            });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType, Shape = shape } },
        };
    }
}
