using System.Text;

namespace GeoToken.Onnx;

/// <summary>
/// Just enough of the protobuf wire format to read the tensor names of an ONNX <c>ModelProto</c> and
/// append graph outputs (onnx.proto: ModelProto.graph = 7; GraphProto.node = 1,
/// output = 12; NodeProto.output = 2; ValueInfoProto.name = 1). Everything else is copied byte for
/// byte. Protobuf allows a repeated field's elements anywhere in a message, so appending an
/// <c>output</c> element to the graph's bytes is a valid edit.
/// </summary>
internal static class OnnxProtobuf
{
    private const int ModelGraph = 7;
    private const int GraphNode = 1;
    private const int GraphOutput = 12;
    private const int NodeOutput = 2;
    private const int NodeOpType = 4;
    private const int ValueInfoName = 1;

    /// <summary>The graph's nodes (operator and output tensor names) in graph order, and the graph's output names.</summary>
    public static (List<(string Op, List<string> Outputs)> Nodes, List<string> GraphOutputs) ReadGraph(ReadOnlySpan<byte> model)
    {
        var nodes = new List<(string Op, List<string> Outputs)>();
        var graphOutputs = new List<string>();
        ReadOnlySpan<byte> graph = FindGraph(model, out _, out _);
        int i = 0;
        while (i < graph.Length)
        {
            var (field, wire) = ReadTag(graph, ref i);
            if (wire == 2)
            {
                ReadOnlySpan<byte> payload = ReadBytes(graph, ref i);
                if (field == GraphNode) nodes.Add((ReadStrings(payload, NodeOpType).FirstOrDefault() ?? "", ReadStrings(payload, NodeOutput)));
                else if (field == GraphOutput) graphOutputs.AddRange(ReadStrings(payload, ValueInfoName));
            }
            else
            {
                Skip(graph, ref i, wire);
            }
        }

        return (nodes, graphOutputs);
    }

    /// <summary>A copy of <paramref name="model"/> whose graph also outputs the tensors <paramref name="names"/> (without declared types).</summary>
    public static byte[] AddGraphOutputs(ReadOnlySpan<byte> model, IEnumerable<string> names)
    {
        ReadOnlySpan<byte> graph = FindGraph(model, out int fieldStart, out int fieldEnd);
        var extra = new MemoryStream();
        foreach (string name in names)
        {
            var valueInfo = new MemoryStream();
            WriteTag(valueInfo, ValueInfoName, 2);
            WriteBytes(valueInfo, Encoding.UTF8.GetBytes(name));
            WriteTag(extra, GraphOutput, 2);
            WriteBytes(extra, valueInfo.ToArray());
        }

        var newGraph = new byte[graph.Length + extra.Length];
        graph.CopyTo(newGraph);
        extra.ToArray().CopyTo(newGraph, graph.Length);

        var result = new MemoryStream(model.Length + (int)extra.Length + 8);
        result.Write(model[..fieldStart]);
        WriteTag(result, ModelGraph, 2);
        WriteBytes(result, newGraph);
        result.Write(model[fieldEnd..]);
        return result.ToArray();
    }

    private static ReadOnlySpan<byte> FindGraph(ReadOnlySpan<byte> model, out int fieldStart, out int fieldEnd)
    {
        int i = 0;
        while (i < model.Length)
        {
            int start = i;
            var (field, wire) = ReadTag(model, ref i);
            if (field == ModelGraph && wire == 2)
            {
                ReadOnlySpan<byte> graph = ReadBytes(model, ref i);
                fieldStart = start;
                fieldEnd = i;
                return graph;
            }

            Skip(model, ref i, wire);
        }

        throw new InvalidDataException("The model has no graph (ModelProto field 7).");
    }

    private static List<string> ReadStrings(ReadOnlySpan<byte> message, int wanted)
    {
        var result = new List<string>();
        int i = 0;
        while (i < message.Length)
        {
            var (field, wire) = ReadTag(message, ref i);
            if (wire == 2)
            {
                ReadOnlySpan<byte> payload = ReadBytes(message, ref i);
                if (field == wanted) result.Add(Encoding.UTF8.GetString(payload));
            }
            else
            {
                Skip(message, ref i, wire);
            }
        }

        return result;
    }

    private static (int Field, int Wire) ReadTag(ReadOnlySpan<byte> b, ref int i)
    {
        ulong key = ReadVarint(b, ref i);
        return ((int)(key >> 3), (int)(key & 7));
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> b, ref int i)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (i >= b.Length) throw new InvalidDataException("Truncated protobuf varint.");
            byte c = b[i++];
            result |= (ulong)(c & 0x7F) << shift;
            if (c < 0x80) return result;
        }

        throw new InvalidDataException("Malformed protobuf varint.");
    }

    private static ReadOnlySpan<byte> ReadBytes(ReadOnlySpan<byte> b, scoped ref int i)
    {
        ulong length = ReadVarint(b, ref i);
        if (length > (ulong)(b.Length - i)) throw new InvalidDataException("A protobuf field runs past the end of its message.");
        ReadOnlySpan<byte> payload = b.Slice(i, (int)length);
        i += (int)length;
        return payload;
    }

    private static void Skip(ReadOnlySpan<byte> b, ref int i, int wire)
    {
        switch (wire)
        {
            case 0: ReadVarint(b, ref i); break;
            case 1: i += 8; break;
            case 2: ReadBytes(b, ref i); break;
            case 5: i += 4; break;
            default: throw new InvalidDataException($"Unsupported protobuf wire type {wire}.");
        }

        if (i > b.Length) throw new InvalidDataException("A protobuf field runs past the end of its message.");
    }

    private static void WriteTag(Stream s, int field, int wire) => WriteVarint(s, ((ulong)field << 3) | (uint)wire);

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }

        s.WriteByte((byte)v);
    }

    private static void WriteBytes(Stream s, ReadOnlySpan<byte> payload)
    {
        WriteVarint(s, (ulong)payload.Length);
        s.Write(payload);
    }
}
