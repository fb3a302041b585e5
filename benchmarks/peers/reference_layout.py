#!/usr/bin/python3
"""A PyTorch model with the state-dict layout and the computation of the GeoToken authors' reference model
(github.com/NNargesNN/GeoToken, class GeoTransformerModelS2), written for GeoToken.NET from a reading of that code
(which has no licence: nothing is copied). Used to test GeoToken.Model.Import.ReferenceCheckpoint.

Layout: stock seq-first post-norm nn.TransformerEncoder/Decoder (relu); three feature views of 768 projected by
image_proj / loc_proj / text_proj (Linear, ReLU, Linear) and divided by their L2 norm; encoder input
[cls_token, image, loc, text, then per neighbor: image, loc, text and the retrieval_embedding of each of its T tokens]
plus the float32 sinusoid table encoder_pos_encoder.pe [500, 1, d]; decoder input [start_token_embedding, embedding of
the previous tokens] plus decoder_pos_encoder.pe [T + 1, 1, d]; output_layers[p] reads decoder position p. Unused
parameters (similarity_embedding, metadata_proj, coord_head) exist so that state dicts match.

Decoding as the reference does it: greedy re-runs the whole decoder for every position and takes the argmax; beam
search keeps `width` beams, extends every beam by every token of the position, keeps the `width` best summed
log-probabilities (log_softmax of logits / temperature), and returns the beam of highest final score.

Commands:
  create --out X.pth --d 64 --heads 4 --ff 128 --layers 2 [--level 20 --group 2 --seed 1 --noise 0.3]
      random model (default init plus Gaussian noise on every parameter, relative for matrices, so that no norm or bias is trivial); torch.save of its state dict
  run --checkpoint X.pth --heads H --batch B.bin --out O.bin [--width 5 --temperature 1 --search none|greedy|all]
      load the state dict with strict=True; write logits.{p} (teacher-forced on the batch's targets), greedy [B, T],
      beam.tokens [B, W, T], beam.scores [B, W] and beam.best [B, T] (GeoToken tensor container)
  resave --checkpoint X.pth --heads H --out Y.pth
      load with strict=True and torch.save the model's state dict again
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from geotoken_torch import read_tensor_file, write_tensor_file  # noqa: E402

FEATURES = 768        # the reference hard-codes its input feature width
ENCODER_ROWS = 500    # rows of the reference's encoder position table


class Sinusoids(nn.Module):
    """Holds `pe` [rows, 1, d]: sin at even columns and cos at odd columns of position * 10000^(-i/d), in float32."""

    def __init__(self, d, rows):
        super().__init__()
        position = torch.arange(rows, dtype=torch.float32)[:, None]
        rate = torch.exp(torch.arange(0, d, 2).float() * (-math.log(10000.0) / d))
        table = torch.zeros(rows, d)
        table[:, 0::2] = torch.sin(position * rate)
        table[:, 1::2] = torch.cos(position * rate)
        self.register_buffer("pe", table[:, None, :])


def projection(d):
    return nn.Sequential(nn.Linear(FEATURES, d), nn.ReLU(), nn.Linear(d, d))


class ReferenceLayout(nn.Module):
    def __init__(self, d, heads, ff, layers, vocab, dropout=0.1):
        super().__init__()
        self.d, self.vocab, self.t = d, list(vocab), len(vocab)
        self.offsets = [int(sum(vocab[:p])) for p in range(self.t)]
        total = int(sum(vocab))
        self.start_token_embedding = nn.Parameter(torch.randn(1, d))
        self.cls_token = nn.Parameter(torch.randn(1, d))
        self.output_layers = nn.ModuleList([nn.Linear(d, v) for v in vocab])
        self.embedding = nn.Embedding(total, d)
        self.image_proj, self.text_proj, self.loc_proj = projection(d), projection(d), projection(d)
        self.retrieval_embedding = nn.Embedding(total, d)
        self.similarity_embedding = nn.Embedding(11, d)
        self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, heads, ff, dropout), layers)
        self.encoder_pos_encoder = Sinusoids(d, ENCODER_ROWS)
        self.metadata_proj = nn.Linear(2, d)
        self.coord_head = nn.Linear(d, 2)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, heads, ff, dropout), layers)
        self.decoder_pos_encoder = Sinusoids(d, self.t + 1)

    @staticmethod
    def unit(x):
        return x / x.norm(p=2, dim=-1, keepdim=True)

    def encode(self, query, neighbors, neighbor_tokens):
        """query [B, 3, 768] (image, location, text views), neighbors [B, k, 3, 768], neighbor_tokens [B, k, T] -> memory [S, B, d]."""
        b, k = query.shape[0], neighbors.shape[1]
        views = (self.image_proj, self.loc_proj, self.text_proj)
        rows = [self.cls_token.expand(b, -1)] + [self.unit(f(query[:, i])) for i, f in enumerate(views)]
        for j in range(k):
            rows += [self.unit(f(neighbors[:, j, i])) for i, f in enumerate(views)]
            rows += [self.retrieval_embedding(neighbor_tokens[:, j, p] + self.offsets[p]) for p in range(self.t)]
        x = torch.stack(rows, 0)
        return self.encoder(x + self.encoder_pos_encoder.pe[: x.shape[0]])

    def decode(self, memory, prefix):
        """Full causal decoding of prefix [N, n] against memory [S, N, d] -> states [n + 1, N, d]."""
        n = prefix.shape[1]
        rows = [self.start_token_embedding.expand(prefix.shape[0], -1)]
        rows += [self.embedding(prefix[:, p] + self.offsets[p]) for p in range(n)]
        x = torch.stack(rows, 0) + self.decoder_pos_encoder.pe[: n + 1]
        mask = nn.Transformer.generate_square_subsequent_mask(n + 1)
        return self.decoder(x, memory, tgt_mask=mask)

    def teacher_forced(self, memory, targets):
        h = self.decode(memory, targets[:, : self.t - 1])
        return [self.output_layers[p](h[p]) for p in range(self.t)]

    def greedy(self, memory):
        tokens = torch.zeros(memory.shape[1], 0, dtype=torch.int64)
        for p in range(self.t):
            logits = self.output_layers[p](self.decode(memory, tokens)[-1])
            tokens = torch.cat([tokens, logits.argmax(-1, keepdim=True)], 1)
        return tokens

    def beam(self, memory, width, temperature=1.0):
        b = memory.shape[1]
        first = F.log_softmax(self.output_layers[0](self.decode(memory, torch.zeros(b, 0, dtype=torch.int64))[-1]) / temperature, -1)
        scores, tokens = first.topk(width, -1)                    # [B, W]
        seqs = tokens[:, :, None]                                 # [B, W, 1]
        wide = memory.repeat_interleave(width, dim=1)             # each image's memory once per beam
        for p in range(1, self.t):
            v = self.vocab[p]
            h = self.decode(wide, seqs.reshape(b * width, p))[-1]
            step = F.log_softmax(self.output_layers[p](h) / temperature, -1).reshape(b, width, v)
            total = (scores[:, :, None] + step).reshape(b, width * v)
            scores, flat = total.topk(width, -1)
            parent, token = flat // v, flat % v
            seqs = torch.cat([seqs.gather(1, parent[:, :, None].expand(-1, -1, p)), token[:, :, None]], -1)
        best = seqs[torch.arange(b), scores.argmax(-1)]
        return seqs, scores, best


def shape_of(state):
    d = state["cls_token"].shape[1]
    vocab = []
    while f"output_layers.{len(vocab)}.weight" in state:
        vocab.append(state[f"output_layers.{len(vocab)}.weight"].shape[0])
    layers = len({k.split(".")[2] for k in state if k.startswith("encoder.layers.")})
    ff = state["encoder.layers.0.linear1.weight"].shape[0]
    return d, ff, layers, vocab


def load(path, heads):
    state = torch.load(path, map_location="cpu")
    d, ff, layers, vocab = shape_of(state)
    model = ReferenceLayout(d, heads, ff, layers, vocab)
    model.load_state_dict(state, strict=True)
    return model.eval()


def create(args):
    torch.manual_seed(args.seed)
    vocab = [6] + [4 ** args.group] * (args.level // args.group)
    model = ReferenceLayout(args.d, args.heads, args.ff, args.layers, vocab)
    with torch.no_grad():
        for p in model.parameters():
            # matrices: noise relative to their spread (keeps the deep stack well conditioned); vectors: absolute
            scale = p.std() if p.dim() > 1 else 1.0
            p.add_(args.noise * scale * torch.randn_like(p))
    torch.save(model.state_dict(), args.out)


def run(args):
    torch.set_num_threads(2)
    model = load(args.checkpoint, args.heads)
    _, t = read_tensor_file(args.batch)
    q, n, nt, tg = (torch.from_numpy(t[k]) for k in ("query", "neighbors", "neighbor_tokens", "targets"))
    out = {}
    with torch.no_grad():
        memory = model.encode(q, n, nt)
        for p, l in enumerate(model.teacher_forced(memory, tg)):
            out[f"logits.{p}"] = l.numpy()
        if args.search in ("greedy", "all"):
            out["greedy"] = model.greedy(memory).numpy()
        if args.search == "all":
            seqs, scores, best = model.beam(memory, args.width, args.temperature)
            out["beam.tokens"], out["beam.scores"], out["beam.best"] = seqs.numpy(), scores.double().numpy(), best.numpy()
    write_tensor_file(args.out, {"kind": "reference-layout", "producer": f"pytorch {torch.__version__}"}, out)


def resave(args):
    torch.save(load(args.checkpoint, args.heads).state_dict(), args.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("--out", required=True)
    c.add_argument("--d", type=int, default=512)
    c.add_argument("--heads", type=int, default=8)
    c.add_argument("--ff", type=int, default=1024)
    c.add_argument("--layers", type=int, default=10)
    c.add_argument("--level", type=int, default=20)
    c.add_argument("--group", type=int, default=2)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--noise", type=float, default=0.3)
    r = sub.add_parser("run")
    r.add_argument("--checkpoint", required=True)
    r.add_argument("--heads", type=int, default=8)
    r.add_argument("--batch", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--width", type=int, default=5)
    r.add_argument("--temperature", type=float, default=1.0)
    r.add_argument("--search", choices=("none", "greedy", "all"), default="all", help="which decodings to run besides the logits")
    s = sub.add_parser("resave")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--heads", type=int, default=8)
    s.add_argument("--out", required=True)
    args = ap.parse_args()
    {"create": create, "run": run, "resave": resave}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
