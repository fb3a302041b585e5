#!/usr/bin/python3
"""GeoCLIP's embedding computation in PyTorch (1.13, Debian's python3-torch), written for GeoToken.NET as an oracle.

GeoCLIP (Vivanco Cepeda, Nayak and Shah, NeurIPS 2023; github VicenteVivan/geo-clip, MIT) embeds an image's
CLIP ViT-L/14 features with a 768 -> 768 -> 512 MLP and a (latitude, longitude) with its location encoder: the
Equal Earth projection scaled by 66.50336 / 180, then three random-Fourier-feature capsules (sigma = 2^0, 2^4,
2^8; a fixed b matrix [256, 2] each; (cos, sin) of 2 pi v b^T; Linear 512 -> 1024 -> 1024 -> 1024 with ReLUs;
a Linear 1024 -> 512 head) whose outputs are summed. Both embeddings are L2-normalised; the logit scale is
exp(stored value). The modules below use GeoCLIP's state-dict names, so its published .pth files load strictly.

Commands:
  make-location --out FILE [--seed S]
      a location-encoder state dict with GeoCLIP's names and shapes and random weights (b ~ N(0, sigma^2),
      PyTorch's default Linear initialisation), saved with torch.save, for tests (GeoCLIP's own file is 38 MB).
  embed --weights DIR [--features NPY --images-out NPY] [--locations NPY --locations-out NPY]
      the normalised image embeddings of float32 features [N, 768] and/or the normalised location embeddings of
      float32 (latitude, longitude) degrees [M, 2], computed in float32 as GeoCLIP does; prints the logit scale.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SIGMAS = (2.0 ** 0, 2.0 ** 4, 2.0 ** 8)
EE_A = (1.340264, -0.081106, 0.000893, 0.003796)
EE_SCALE = 66.50336


def equal_earth(lat_lon):
    """[N, 2] (lat, lon) degrees -> [N, 2] Equal Earth (x, y) * 66.50336 / 180, in the input's dtype."""
    a1, a2, a3, a4 = EE_A
    root3 = torch.sqrt(torch.tensor(3.0, dtype=lat_lon.dtype))
    phi = torch.deg2rad(lat_lon[:, 0])
    lam = torch.deg2rad(lat_lon[:, 1])
    theta = torch.asin(root3 / 2 * torch.sin(phi))
    x = 2 * root3 * lam * torch.cos(theta) / (3 * (9 * a4 * theta ** 8 + 7 * a3 * theta ** 6 + 3 * a2 * theta ** 2 + a1))
    y = a4 * theta ** 9 + a3 * theta ** 7 + a2 * theta ** 3 + a1 * theta
    return torch.stack((x, y), dim=1) * EE_SCALE / 180


class Fourier(nn.Module):
    """Random Fourier features with a fixed frequency matrix b [R, 2] (state-dict name 'b')."""

    def __init__(self, sigma, features=256):
        super().__init__()
        self.b = nn.Parameter(torch.randn(features, 2) * sigma, requires_grad=False)

    def forward(self, v):
        angle = (2 * math.pi * v) @ self.b.t()
        return torch.cat((angle.cos(), angle.sin()), dim=-1)


class Capsule(nn.Module):
    def __init__(self, sigma):
        super().__init__()
        self.capsule = nn.Sequential(Fourier(sigma), nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(),
                                     nn.Linear(1024, 1024), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(1024, 512))

    def forward(self, v):
        return self.head(self.capsule(v))


class LocationEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        for i, sigma in enumerate(SIGMAS):
            self.add_module(f"LocEnc{i}", Capsule(sigma))

    def forward(self, lat_lon):
        v = equal_earth(lat_lon)
        return sum(getattr(self, f"LocEnc{i}")(v) for i in range(len(SIGMAS)))


def image_mlp():
    return nn.Sequential(nn.Linear(768, 768), nn.ReLU(), nn.Linear(768, 512))


def make_location(args):
    torch.manual_seed(args.seed)
    encoder = LocationEncoder()
    torch.save(encoder.state_dict(), args.out)


def embed(args):
    torch.set_grad_enabled(False)
    logit_scale = torch.load(os.path.join(args.weights, "logit_scale_weights.pth"), map_location="cpu")
    print(f"logit_scale {float(logit_scale):.9g} exp {float(logit_scale.exp()):.9g}")
    if args.features:
        mlp = image_mlp()
        mlp.load_state_dict(torch.load(os.path.join(args.weights, "image_encoder_mlp_weights.pth"), map_location="cpu"))
        x = torch.from_numpy(np.load(args.features).astype(np.float32))
        np.save(args.images_out, F.normalize(mlp(x), dim=1).numpy().astype(np.float32))
    if args.locations:
        encoder = LocationEncoder()
        encoder.load_state_dict(torch.load(os.path.join(args.weights, "location_encoder_weights.pth"), map_location="cpu"))
        lat_lon = torch.from_numpy(np.load(args.locations).astype(np.float32))
        np.save(args.locations_out, F.normalize(encoder(lat_lon), dim=1).numpy().astype(np.float32))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make-location")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("embed")
    p.add_argument("--weights", required=True)
    p.add_argument("--features")
    p.add_argument("--images-out")
    p.add_argument("--locations")
    p.add_argument("--locations-out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.command == "make-location":
        make_location(args)
    else:
        if bool(args.features) != bool(args.images_out) or bool(args.locations) != bool(args.locations_out):
            sys.exit("--features needs --images-out and --locations needs --locations-out")
        embed(args)


if __name__ == "__main__":
    main()
