#!/usr/bin/env python3
"""Prints the table of a retrieval_compare.sh run from its JSON lines."""
import json
import sys


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    targets = {}
    for r in rows:
        if r["kind"] == "ivf-target":
            targets[("faiss", r["nlist"])] = r["nprobe"]
        if r["kind"] == "cluster-target":
            targets[("geotoken", "cluster")] = (r["probes"], "none")
        if r["kind"] == "cluster-margin-target":
            targets[("geotoken", "margin")] = (r["probes"], r["leaf_margin"])
    builds = {r["impl"]: r for r in rows if r["kind"] == "cluster-build"}
    print(f"{'implementation':<34} {'build s':>8} {'beam':>14} {'scanned':>8} {'R@1':>6} {'R@10':>6} {'QPS':>9}")
    for r in rows:
        kind = r["kind"]
        if kind == "flat":
            name = "FAISS IndexFlatIP" if r["impl"] == "faiss" else f"GeoToken ExactIndex"
            build = "-" if r.get("prep_s") is None else f"{r['prep_s']:.1f}"
            print(f"{name:<34} {build:>8} {'-':>14} {1:8.3f} {r.get('recall1', 1):6.3f} {r.get('recall10', 1):6.3f} {r['qps']:9.1f}")
        elif kind == "flat-torch":
            print(f"{'TorchSharp mm+topk (option b)':<34} {r['prep_s']:8.1f} {'-':>14} {1:8.3f} {r['recall1']:6.3f} {r['recall10']:6.3f} {r['qps']:9.1f}  (torch.mm {r['matmul_gflops']:.0f} GFLOPS)")
        elif kind == "flat-tune":
            print(f"{'GeoToken exact tiles ' + str(r['query_tile']) + 'x' + str(r['row_tile']):<34} {'':>8} {'-':>14} {1:8.3f} {'':>6} {'':>6} {r['qps']:9.1f}  ({r['gflops']:.0f} GFLOPS)")
        elif kind == "ivf":
            mark = " <- target" if targets.get(("faiss", r["nlist"])) == r["nprobe"] else ""
            print(f"{'FAISS IVFFlat nlist=' + str(r['nlist']):<34} {r['build_s']:8.1f} {'nprobe=' + str(r['nprobe']):>14} {r['scanned']:8.4f} {r['recall1']:6.3f} {r['recall10']:6.3f} {r['qps']:9.1f}{mark}")
        elif kind == "cluster":
            b = builds.get("geotoken", {})
            margin = r.get("leaf_margin", "none")
            mark = " <- target" if (r["probes"], margin) in (targets.get(("geotoken", "cluster")), targets.get(("geotoken", "margin"))) else ""
            nodes = "x".join(str(n) for n in b.get("nodes", []))
            beam = str(r['probes']).replace(' ', '') + ("" if margin == "none" else f"~{margin:g}")
            print(f"{'GeoToken ClusterIndex ' + nodes:<34} {b.get('build_s', 0):8.1f} {beam:>14} {r['scanned']:8.4f} {r['recall1']:6.3f} {r['recall10']:6.3f} {r['qps']:9.1f}{mark}")


if __name__ == "__main__":
    main()
