#!/usr/bin/env python3
"""FAISS half of the retrieval comparison (benchmarks/peers/retrieval_compare.sh).

    faiss_retrieval.py DATA_DIR OUT.jsonl [--k 10] [--nlist 1024 ...] [--target 0.95] [--threads 2]

DATA_DIR holds gallery.npy and queries.npy (unit float32 rows). Writes:
  DATA_DIR/gt_I.npy, gt_D.npy   exact top-k by IndexFlatIP (the ground truth for every recall)
  OUT.jsonl                     one JSON object per measurement:
    {"impl": "faiss", "kind": "flat", "qps": ...}
    {"impl": "faiss", "kind": "ivf", "nlist": ..., "build_s": ..., "nprobe": ..., "recall1": ...,
     "recall10": ..., "scanned": ..., "qps": ...}
Queries are searched in one batch (FAISS parallelises over queries with OpenMP). Timings are the
median of `--reps` runs after one warm-up (flat: --flat-reps runs after a 256-query warm-up). IVF: IndexIVFFlat over an IndexFlatIP quantizer,
inner-product metric, spherical k-means (FAISS defaults otherwise: 25 iterations on at most
256 x nlist training points); nprobe is swept over powers of two and then bisected to the
smallest value reaching recall@10 >= target.
"""
import argparse
import json
import os
import statistics
import time

import faiss
import numpy as np


def timed(fn, reps, warm=None):
    (warm or fn)()  # warm-up
    times = []
    out = None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def recalls(gt, found, k):
    r1 = float(np.mean(gt[:, 0] == found[:, 0]))
    hits = sum(len(set(gt[i, :k]) & set(found[i, :k])) for i in range(len(gt)))
    return r1, hits / (len(gt) * k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--nlist", type=int, nargs="*", default=[1024])
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--flat-reps", type=int, default=1)
    a = ap.parse_args()
    faiss.omp_set_num_threads(a.threads)
    g = np.ascontiguousarray(np.load(os.path.join(a.data, "gallery.npy")), dtype=np.float32)
    q = np.ascontiguousarray(np.load(os.path.join(a.data, "queries.npy")), dtype=np.float32)
    n, d = g.shape
    log = open(a.out, "a")

    def emit(**kw):
        kw = {"impl": "faiss", "rows": n, "queries": len(q), "k": a.k, "threads": a.threads, **kw}
        print(json.dumps(kw), file=log, flush=True)
        print(json.dumps(kw), flush=True)

    flat = faiss.IndexFlatIP(d)
    flat.add(g)
    dt, (D, I) = timed(lambda: flat.search(q, a.k), a.flat_reps, warm=lambda: flat.search(q[:256], a.k))
    np.save(os.path.join(a.data, "gt_I.npy"), I.astype(np.int64))
    np.save(os.path.join(a.data, "gt_D.npy"), D.astype(np.float32))
    emit(kind="flat", seconds=dt, qps=len(q) / dt)
    del flat

    for nlist in a.nlist:
        quantizer = faiss.IndexFlatIP(d)
        ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.spherical = True
        t = time.perf_counter()
        ivf.train(g)
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        ivf.add(g)
        add_s = time.perf_counter() - t
        sizes = np.array([ivf.invlists.list_size(i) for i in range(nlist)])
        cache = {}

        def run(nprobe):
            if nprobe not in cache:
                ivf.nprobe = nprobe
                stats = faiss.cvar.indexIVF_stats
                stats.reset()
                dt, (_, found) = timed(lambda: ivf.search(q, a.k), a.reps)
                scanned = stats.ndis / (a.reps + 1) / len(q) / n
                r1, r10 = recalls(I, found, a.k)
                cache[nprobe] = r10
                emit(kind="ivf", nlist=nlist, train_s=train_s, add_s=add_s, build_s=train_s + add_s, nprobe=nprobe,
                     recall1=r1, recall10=r10, scanned=scanned, seconds=dt, qps=len(q) / dt,
                     max_list=int(sizes.max()), mean_list=float(sizes.mean()))
            return cache[nprobe]

        lo, hi = 0, None
        p = 1
        while p <= nlist:
            if run(p) >= a.target:
                hi = p
                break
            lo = p
            p *= 2
        if hi is not None:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if run(mid) >= a.target:
                    hi = mid
                else:
                    lo = mid
            emit(kind="ivf-target", nlist=nlist, nprobe=hi, target=a.target)


if __name__ == "__main__":
    main()
