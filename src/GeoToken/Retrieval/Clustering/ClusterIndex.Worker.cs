namespace GeoToken.Retrieval;

// The pool of per-thread search state.
public sealed partial class ClusterIndex
{
    /// <summary>A search thread's reusable state.</summary>
    private sealed class Worker
    {
        private readonly List<TopKHeaps?> _beams = [];
        private ScanWorkspace? _workspace;
        private TopKHeaps? _results;
        private int[] _groupStart = [];
        private int[] _groupQueries = [];
        private int[] _all = [];

        private int[] _order = [];

        public int[] Order(int slots) => _order.Length >= slots ? _order : _order = new int[slots];

        public ScanWorkspace Workspace(int d, int queries)
        {
            if (_workspace is null || _workspace.Dimension != d || _workspace.QueryCapacity < queries) _workspace = new ScanWorkspace(d, queries);
            return _workspace;
        }

        public ReadOnlySpan<int> AllQueries(int m)
        {
            if (_all.Length < m) _all = Enumerable.Range(0, m).ToArray();
            return _all.AsSpan(0, m);
        }

        public TopKHeaps Beam(int level, int queries, int width)
        {
            while (_beams.Count <= level) _beams.Add(null);
            var h = _beams[level];
            if (h is null || h.K != width || h.Capacity < queries) _beams[level] = h = new TopKHeaps(queries, width);
            return h;
        }

        public TopKHeaps Results(int queries, int k)
        {
            if (_results is null || _results.K != k || _results.Capacity < queries) _results = new TopKHeaps(queries, k);
            return _results;
        }

        // Counting sort of the queries by the nodes in their beam.
        public (int[] Start, int[] Queries) Group(TopKHeaps beam, int m, int nodes)
        {
            if (_groupStart.Length < nodes + 1) _groupStart = new int[nodes + 1];
            if (_groupQueries.Length < m * beam.K) _groupQueries = new int[m * beam.K];
            var start = _groupStart;
            Array.Clear(start, 0, nodes + 1);
            for (int i = 0; i < m; i++)
            {
                foreach (long id in beam.Ids(i))
                {
                    if (id != TopKHeaps.EmptyId) start[id + 1]++;
                }
            }

            for (int u = 0; u < nodes; u++) start[u + 1] += start[u];
            var cursor = start.AsSpan(0, nodes).ToArray();
            for (int i = 0; i < m; i++)
            {
                foreach (long id in beam.Ids(i))
                {
                    if (id != TopKHeaps.EmptyId) _groupQueries[cursor[id]++] = i;
                }
            }

            return (start, _groupQueries);
        }
    }
}
