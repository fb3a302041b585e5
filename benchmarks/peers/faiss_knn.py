#!/usr/bin/env python3
"""Exact k-nearest-neighbor search by inner product (cosine on unit vectors) with FAISS IndexFlatIP.

Usage: /usr/bin/python3 benchmarks/peers/faiss_knn.py GALLERY.npy QUERIES.npy K OUT_PREFIX
Writes OUT_PREFIX.idx.npy (queries, K) int64 and OUT_PREFIX.sim.npy (queries, K) float32.
Gallery rows are added in blocks (float16 files are converted block by block).
"""
import sys
import time

import faiss
import numpy as np


def main():
    gallery_path, query_path, k, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    g = np.load(gallery_path, mmap_mode="r")
    q = np.ascontiguousarray(np.load(query_path).astype(np.float32))
    index = faiss.IndexFlatIP(g.shape[1])
    t0 = time.time()
    for s in range(0, g.shape[0], 200_000):
        index.add(np.ascontiguousarray(g[s:s + 200_000].astype(np.float32)))
    t1 = time.time()
    sims, idx = index.search(q, k)
    t2 = time.time()
    np.save(out + ".idx.npy", idx.astype(np.int64))
    np.save(out + ".sim.npy", sims.astype(np.float32))
    print(f"faiss: {g.shape[0]} gallery x {q.shape[0]} queries, d={g.shape[1]}, k={k}: add {t1 - t0:.1f}s, search {t2 - t1:.1f}s, threads {faiss.omp_get_max_threads()}")


if __name__ == "__main__":
    main()
