using System.Text.RegularExpressions;

namespace GeoToken.Tests.Architecture;

/// <summary>
/// The namespaces of src/ form a graph without cycles (docs/architecture.md): each file's <c>namespace</c>
/// and its <c>using GeoToken…</c> lines are the edges.
/// </summary>
public sealed partial class NamespaceGraphTests
{
    [Fact]
    public void The_namespaces_of_src_import_each_other_without_a_cycle()
    {
        var (edges, files) = Graph(Path.Combine(RepositoryRoot(), "src"));
        Assert.True(edges.Count >= 20, $"only {edges.Count} namespaces found under src/");
        var cycle = FindCycle(edges);
        Assert.True(cycle is null, cycle is null ? "" :
            "namespace cycle: " + string.Join(" → ", cycle) + " (" + string.Join("; ",
                cycle.Zip(cycle.Skip(1)).Select(e => $"{e.First} → {e.Second} in {string.Join(", ", files[(e.First, e.Second)].Order(StringComparer.Ordinal))}")) + ")");
    }

    [Fact]
    public void The_architecture_document_lists_the_graph_as_it_is()
    {
        string root = RepositoryRoot();
        var (edges, _) = Graph(Path.Combine(root, "src"));
        string expected = Table(edges);
        string document = File.ReadAllText(Path.Combine(root, "docs", "architecture.md")).ReplaceLineEndings("\n");
        int section = document.IndexOf("## The namespace graph", StringComparison.Ordinal);
        Assert.True(section >= 0, "docs/architecture.md has no section '## The namespace graph'");
        int next = document.IndexOf("\n## ", section + 1, StringComparison.Ordinal);
        string graph = next < 0 ? document[section..] : document[section..next];
        var rows = TableRowPattern().Matches(graph);
        string listed = string.Join("\n", rows.Select(m => m.Value)) + "\n";
        if (listed != expected && Environment.GetEnvironmentVariable("GEOTOKEN_UPDATE_DOCS") == "1" && rows.Count > 0)
        {
            // Rewrites the rows in place (GEOTOKEN_UPDATE_DOCS=1 dotnet test --filter NamespaceGraph), then checks again.
            int start = section + rows[0].Index, end = section + rows[^1].Index + rows[^1].Length;
            File.WriteAllText(Path.Combine(root, "docs", "architecture.md"), document[..start] + expected.TrimEnd('\n') + document[end..]);
            listed = expected;
        }

        Assert.True(listed == expected,
            "docs/architecture.md's namespace table is not the graph of src/ (GEOTOKEN_UPDATE_DOCS=1 rewrites it); its rows should be:\n" + expected);
    }

    /// <summary>The graph as the rows of docs/architecture.md's table, one namespace per row in ordinal order.</summary>
    private static string Table(IReadOnlyDictionary<string, HashSet<string>> edges)
    {
        var rows = edges.Keys.Order(StringComparer.Ordinal).Select(n =>
            $"| `{n}` | {(edges[n].Count == 0 ? "—" : string.Join(", ", edges[n].Order(StringComparer.Ordinal).Select(t => $"`{t}`")))} |");
        return string.Join("\n", rows) + "\n";
    }

    [Fact]
    public void A_cycle_is_found_and_named()
    {
        var edges = new Dictionary<string, HashSet<string>>
        {
            ["A"] = ["B"],
            ["B"] = ["C"],
            ["C"] = ["A"],
            ["D"] = ["A"],
        };
        var cycle = FindCycle(edges);
        Assert.NotNull(cycle);
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(["A", "B", "C"], cycle.Skip(1).Order(StringComparer.Ordinal));
        Assert.Null(FindCycle(new Dictionary<string, HashSet<string>> { ["A"] = ["B"], ["B"] = [] }));
    }

    private static (Dictionary<string, HashSet<string>> Edges, Dictionary<(string, string), List<string>> Files) Graph(string src)
    {
        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var files = new Dictionary<(string, string), List<string>>();
        foreach (var path in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)) continue;
            string text = File.ReadAllText(path);
            if (NamespacePattern().Match(text) is not { Success: true } ns) continue;
            string from = ns.Groups[1].Value;
            var targets = edges.TryGetValue(from, out var set) ? set : edges[from] = new HashSet<string>(StringComparer.Ordinal);
            foreach (Match u in UsingPattern().Matches(text))
            {
                string to = u.Groups[1].Value;
                if (to == from) continue;
                targets.Add(to);
                if (!files.TryGetValue((from, to), out var list)) files[(from, to)] = list = [];
                list.Add(Path.GetFileName(path));
            }
        }

        // Only namespaces declared in src/ (a using of a type's static class, e.g. "using static X.Y", names no namespace).
        foreach (var targets in edges.Values) targets.RemoveWhere(t => !edges.ContainsKey(t));
        return (edges, files);
    }

    /// <summary>A cycle as [n0, n1, …, n0], or null (depth-first search with colours).</summary>
    private static List<string>? FindCycle(IReadOnlyDictionary<string, HashSet<string>> edges)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the path, 2 done
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            state[node] = 1;
            path.Add(node);
            foreach (var next in edges.TryGetValue(node, out var n) ? n.Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (state.GetValueOrDefault(next) == 1) return [.. path.Skip(path.IndexOf(next)), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found) return found;
            }

            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }

        foreach (var node in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle) return cycle;
        }

        return null;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GeoToken.sln"))) return dir.FullName;
        }

        throw new DirectoryNotFoundException($"No GeoToken.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex(@"^\| `GeoToken[\w.]*` \|.*\|$", RegexOptions.Multiline)]
    private static partial Regex TableRowPattern();

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^using\s+(?:static\s+)?(GeoToken[\w.]*)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingPattern();
}
