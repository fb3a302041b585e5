#!/usr/bin/env python3
"""Clustered synthetic embeddings for the retrieval benchmarks (until SynthGeo exists).

A three-level Gaussian mixture on the unit sphere imitating CLIP-like embeddings of geotagged
photos: `regions` broad directions; `cities` around them; `places` around the cities (cities and
places drawn with Zipf-like popularity, so a few have many photos); each photo is its place
centre plus isotropic noise of a per-place spread (log-uniform), all pulled towards a shared
global direction (CLIP embeddings live in a cone), unit-normalised. Places of a city overlap, so
a query's nearest neighbors straddle k-means cluster boundaries as in real data.

    synth_gallery.py OUT_DIR --rows N --queries Q [--dim 512] [--seed 1] [--float16]

writes OUT_DIR/gallery.npy (N x dim) and OUT_DIR/queries.npy (Q x dim); queries are new photos
of the same places, drawn independently (not copies of gallery rows).
"""
import argparse
import os

import numpy as np


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def zipf(n, s, rng):
    p = 1.0 / np.arange(1, n + 1) ** s
    return rng.permutation(p / p.sum())


def make_model(a, rng):
    d = a.dim
    noise = lambda n, scale: scale * rng.standard_normal((n, d)).astype(np.float32) / np.sqrt(d)
    g = unit(rng.standard_normal(d).astype(np.float32))
    regions = unit(rng.standard_normal((a.regions, d)).astype(np.float32))
    city_region = rng.integers(0, a.regions, a.cities)
    cities = unit(regions[city_region] + noise(a.cities, a.city_scatter))
    place_city = rng.choice(a.cities, size=a.places, p=zipf(a.cities, 0.8, rng))
    places = unit(cities[place_city] + noise(a.places, a.place_scatter))
    places = unit(places + a.cone * g)
    lo, hi = a.spread
    spread = np.exp(rng.uniform(np.log(lo), np.log(hi), a.places)).astype(np.float32)
    # Shared low-rank "content" variation (scene type, lighting, ...): photos of different places
    # that look alike are close, which blurs cluster boundaries as in real CLIP features.
    content = np.linalg.qr(rng.standard_normal((d, a.content_rank)))[0].T.astype(np.float32)
    return places, spread, zipf(a.places, 0.5, rng), content * a.content


def sample(model, n, rng, out, chunk=100_000):
    places, spread, pop, content = model
    d = places.shape[1]
    r = content.shape[0]
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        j = rng.choice(len(pop), size=m, p=pop)
        x = places[j] + spread[j, None] * rng.standard_normal((m, d)).astype(np.float32) / np.sqrt(d)
        x += (rng.standard_normal((m, r)).astype(np.float32) / np.sqrt(r)) @ content
        out[s:s + m] = unit(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--regions", type=int, default=64)
    ap.add_argument("--cities", type=int, default=None, help="default rows / 250")
    ap.add_argument("--places", type=int, default=None, help="default rows / 10")
    ap.add_argument("--city-scatter", type=float, default=1.0, help="spread of city centres around their region")
    ap.add_argument("--place-scatter", type=float, default=0.35, help="spread of place centres around their city")
    ap.add_argument("--spread", type=float, nargs=2, default=(0.4, 0.8), help="per-place photo noise, log-uniform range")
    ap.add_argument("--cone", type=float, default=0.7, help="weight of the shared global direction")
    ap.add_argument("--content", type=float, default=0.8, help="scale of the shared low-rank content variation")
    ap.add_argument("--content-rank", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--float16", action="store_true")
    a = ap.parse_args()
    a.cities = a.cities or max(1, a.rows // 250)
    a.places = a.places or max(1, a.rows // 10)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    model = make_model(a, rng)
    dtype = np.float16 if a.float16 else np.float32
    for name, n in (("gallery", a.rows), ("queries", a.queries)):
        arr = np.lib.format.open_memmap(os.path.join(a.out, name + ".npy"), mode="w+", dtype=dtype, shape=(n, a.dim))
        sample(model, n, rng, arr)
        arr.flush()
        del arr


if __name__ == "__main__":
    main()
