#!/usr/bin/python3
"""The GeoToken model of GeoToken.NET written in PyTorch (1.13, Debian's python3-torch), as a peer.

It is the same architecture as src/GeoToken.Model (GeoTokenModel): CLS vector, one projection MLP per
feature view (L2-normalised), neighbor features and token embeddings in the paper or compact layout,
sinusoidal positions, a post- or pre-norm transformer encoder/decoder (PyTorch's stock
nn.TransformerEncoder/Decoder layers, as a PyTorch user would write it), one output head per position,
and the position-weighted cross-entropy. It reads GeoToken.NET models — model folders (config.json +
model.safetensors, read here from the safetensors spec with NumPy) and .gtm files — and tensor files
(format version 1, see GeoTokenModelFile), so both implementations can start from the same weights and batches.

Commands:
  bench      --dir D --steps N --warmup W --threads T   time training steps on D/model (a model folder) + D/batches.bin
  crosscheck --model M --batch B --out O               logits, loss and gradients for the test suite
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"GEOTOKEN"
FORMAT_VERSION = 1
ALIGN = 64
DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "uint8": np.uint8}


# --- GeoToken tensor files --------------------------------------------------------------------
def read_tensor_file(path):
    """Returns (header dict, {name: numpy array}) of a GeoToken file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a GeoToken file")
    version, _, header_len = struct.unpack_from("<IIQ", data, 8)
    if version != FORMAT_VERSION:
        raise ValueError(f"{path}: format version {version}; this reader knows {FORMAT_VERSION}")
    header = json.loads(data[24:24 + header_len].decode("utf-8"))
    start = (24 + header_len + ALIGN - 1) // ALIGN * ALIGN
    tensors = {}
    for e in header["tensors"]:
        dt = np.dtype(DTYPES[e["dtype"]]).newbyteorder("<")
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        a = np.frombuffer(data, dtype=dt, count=count, offset=start + e["offset"])
        tensors[e["name"]] = a.reshape(e["shape"]).copy()
    return header, tensors


def write_tensor_file(path, header, tensors):
    """Writes {name: numpy array} (+ header fields) in the GeoToken container format."""
    names = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64",
             np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8"}
    table, blobs, offset = [], [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        table.append({"name": name, "dtype": names[a.dtype], "shape": list(a.shape), "offset": offset, "bytes": a.nbytes})
        blobs.append(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
        offset = (offset + a.nbytes + ALIGN - 1) // ALIGN * ALIGN
    header = dict(header, tensors=table)
    js = json.dumps(header).encode("utf-8")
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<IIQ", FORMAT_VERSION, 0, len(js)) + js)
        f.write(b"\0" * (-f.tell() % ALIGN))
        start = f.tell()
        for entry, blob in zip(table, blobs):
            f.write(b"\0" * (start + entry["offset"] - f.tell()))
            f.write(blob)


# --- model folders: config.json + model.safetensors ---------------------------------------------
SAFETENSORS_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}


def read_safetensors(raw):
    """{name: numpy array} of safetensors bytes (8-byte LE header length, JSON header, contiguous data)."""
    (n,) = struct.unpack_from("<Q", raw, 0)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=SAFETENSORS_DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return out


def read_model_folder(path):
    """(config dict, {name: numpy array}) of a GeoToken.NET model folder, after checking the weights' SHA-256."""
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    with open(os.path.join(path, config["weights"]["file"]), "rb") as f:
        raw = f.read()
    if hashlib.sha256(raw).hexdigest() != config["weights"]["sha256"]:
        raise ValueError(f"{path}: model.safetensors does not match the SHA-256 in config.json")
    return config, read_safetensors(raw)


# --- the model ----------------------------------------------------------------------------------
def tokenizer_shape(level, group):
    length = 1 + (level + group - 1) // group
    vocab = [6] + [4 ** min(group, level - (p - 1) * group) for p in range(1, length)]
    offsets = np.concatenate([[0], np.cumsum(vocab)[:-1]]).tolist()
    return length, vocab, offsets


def sinusoids(length, d):
    pe = np.zeros((length, d), dtype=np.float64)
    for i in range(0, d, 2):
        freq = math.exp(i * (-math.log(10000.0) / d))
        pos = np.arange(length, dtype=np.float64)
        pe[:, i] = np.sin(pos * freq)
        if i + 1 < d:
            pe[:, i + 1] = np.cos(pos * freq)
    return torch.from_numpy(pe.astype(np.float32))


class Projection(nn.Module):
    def __init__(self, d_in, d):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d)
        self.fc2 = nn.Linear(d, d)

    def forward(self, x):
        return F.normalize(self.fc2(F.relu(self.fc1(x))), p=2.0, dim=-1, eps=1e-12)


class CopyHead(nn.Module):
    """Neighbor copy: attention over the neighbors; those agreeing with the prefix lend their next token, mixed in by a gate."""

    def __init__(self, d, k):
        super().__init__()
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.gate = nn.Linear(d, 1)
        self.rank_bias = nn.Parameter(torch.zeros(k))

    def forward(self, logits, h, neighbor_memory, neighbor_tokens, prefix):
        """logits: list of [B, V_p]; h: [B, n+1, d]; returns log-probabilities per position."""
        d = h.shape[-1]
        scores = torch.einsum("bpd,bkd->bpk", self.query(h), self.key(neighbor_memory)) / math.sqrt(d) + self.rank_bias
        gate = torch.sigmoid(self.gate(h)).squeeze(-1)  # [B, n+1]
        out = []
        for p, l in enumerate(logits):
            agrees = (neighbor_tokens[:, :, :p] == prefix[:, None, :p]).all(-1)  # [B, k]
            pointer = scores[:, p].softmax(-1) * agrees.float()
            copy = torch.einsum("bk,bkv->bv", pointer, F.one_hot(neighbor_tokens[:, :, p], l.shape[-1]).float())
            g = gate[:, p].unsqueeze(-1)
            out.append(((1 - g * pointer.sum(-1, keepdim=True)) * l.softmax(-1) + g * copy).clamp_min(1e-30).log())
        return out


class GeoTokenTorch(nn.Module):
    """o: the "model" section of a GeoToken file header (GeoTokenModelOptions, camelCase)."""

    def __init__(self, o):
        super().__init__()
        self.o = o
        d, h, ff, p = o["modelDimension"], o["headCount"], o["feedForwardDimension"], o["dropout"]
        self.m, self.k, self.d_in = o["modalityCount"], o["neighborCount"], o["featureDimension"]
        self.pre = o["normOrder"] == "Pre"
        self.paper_layout = o["contextLayout"] == "Paper"
        self.t, self.vocab, offsets = tokenizer_shape(o["tokenizer"]["level"], o["tokenizer"]["groupSize"])
        self.d, self.dropout = d, p
        total_vocab = sum(self.vocab)
        self.cls_token = nn.Parameter(torch.randn(d))
        self.start_token = nn.Parameter(torch.randn(d))
        self.projections = nn.ModuleList([Projection(self.d_in, d) for _ in range(self.m)])
        self.context_token_embedding = nn.Embedding(total_vocab, d)
        enc_layer = nn.TransformerEncoderLayer(d, h, ff, p, batch_first=True, norm_first=self.pre)
        self.encoder = nn.TransformerEncoder(enc_layer, o["encoderLayers"], norm=nn.LayerNorm(d) if self.pre else None,
                                             enable_nested_tensor=False)
        self.token_embedding = nn.Embedding(total_vocab, d)
        dec_layer = nn.TransformerDecoderLayer(d, h, ff, p, batch_first=True, norm_first=self.pre)
        self.decoder = nn.TransformerDecoder(dec_layer, o["decoderLayers"], norm=nn.LayerNorm(d) if self.pre else None)
        self.heads = nn.ModuleList([nn.Linear(d, v) for v in self.vocab])
        self.copy_head = CopyHead(d, self.k) if o.get("neighborCopy", False) else None
        context = 1 + self.m + self.k * ((self.m + self.t) if self.paper_layout else 1)
        self.register_buffer("pe", sinusoids(max(context, self.t), d), persistent=False)
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.int64), persistent=False)
        self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(self.t), persistent=False)

    def encode(self, query, neighbors, neighbor_tokens):
        b, k, m, d = query.shape[0], self.k, self.m, self.d
        cls = self.cls_token.view(1, 1, d).expand(b, 1, d)
        everything = torch.cat([query.unsqueeze(1), neighbors], 1)  # [B, 1+k, M, d_in]
        projected = torch.stack([self.projections[i](everything[:, :, i]) for i in range(m)], 2)  # [B, 1+k, M, d]
        tok = self.context_token_embedding(neighbor_tokens + self.offsets)  # [B, k, T, d]
        neigh = projected[:, 1:]
        if self.paper_layout:
            ctx = torch.cat([neigh, tok], 2).reshape(b, k * (m + self.t), d)
        else:
            ctx = neigh.sum(2) + tok.mean(2)
        x = torch.cat([cls, projected[:, 0], ctx], 1)
        x = F.dropout(x + self.pe[: x.shape[1]], self.dropout, self.training)
        return self.encoder(x)

    def decode(self, memory, prefix, neighbor_tokens=None):
        b, n, d = memory.shape[0], prefix.shape[1], self.d
        start = self.start_token.view(1, 1, d).expand(b, 1, d)
        x = torch.cat([start, self.token_embedding(prefix + self.offsets[:n])], 1)
        x = F.dropout(x + self.pe[: n + 1], self.dropout, self.training)
        h = self.decoder(x, memory, tgt_mask=self.causal[: n + 1, : n + 1])
        logits = [self.heads[p](h[:, p]) for p in range(n + 1)]
        if self.copy_head is None:
            return logits
        stride = (self.m + self.t) if self.paper_layout else 1
        first = torch.tensor([1 + self.m + j * stride for j in range(self.k)])
        return self.copy_head(logits, h, memory[:, first], neighbor_tokens, prefix)

    def forward(self, query, neighbors, neighbor_tokens, targets):
        memory = self.encode(query, neighbors, neighbor_tokens)
        return self.decode(memory, targets[:, : self.t - 1], neighbor_tokens)

    def loss(self, logits, targets, first=2.0, last=1.0):
        w = [first + (last - first) * p / (self.t - 1) for p in range(self.t)] if self.t > 1 else [first]
        total = sum(w)
        return sum(F.cross_entropy(l, targets[:, p]) * (w[p] / total) for p, l in enumerate(logits))


# GeoToken.NET state-dict names -> PyTorch stock-layer names. q/k/v projections are packed.
def _renames(pytorch_name):
    n = pytorch_name
    for a, b in [(".linear1.", ".ffn.fc1."), (".linear2.", ".ffn.fc2."), (".multihead_attn.", ".cross_attn.")]:
        n = n.replace(a, b)
    if n.startswith("encoder.layers."):
        n = n.replace(".norm1.", ".self_attn_norm.").replace(".norm2.", ".ffn_norm.")
    if n.startswith("decoder.layers."):
        n = n.replace(".norm1.", ".self_attn_norm.").replace(".norm2.", ".cross_attn_norm.").replace(".norm3.", ".ffn_norm.")
    return n


def load_geotoken_state(model, weights):
    """Copies GeoToken.NET weights (names without the 'model.' prefix) into the PyTorch model."""
    state = {}
    for name in model.state_dict():
        n = _renames(name)
        if n.endswith("in_proj_weight") or n.endswith("in_proj_bias"):
            base, kind = n.rsplit(".", 1)
            suffix = "weight" if kind == "in_proj_weight" else "bias"
            parts = [weights[f"{base}.{x}_proj.{suffix}"] for x in "qkv"]
            state[name] = torch.from_numpy(np.concatenate(parts, 0))
        else:
            state[name] = torch.from_numpy(weights[n])
    model.load_state_dict(state, strict=True)


def geotoken_grads(model):
    """Gradients under GeoToken.NET names (packed q/k/v split again)."""
    out = {}
    for name, p in model.named_parameters():
        g = p.grad.detach().numpy()
        n = _renames(name)
        if n.endswith("in_proj_weight") or n.endswith("in_proj_bias"):
            base, kind = n.rsplit(".", 1)
            suffix = "weight" if kind == "in_proj_weight" else "bias"
            for x, part in zip("qkv", np.split(g, 3, 0)):
                out[f"{base}.{x}_proj.{suffix}"] = part
        else:
            out[n] = g
    return out


def load_model(path):
    """A model folder or a .gtm file (or a checkpoint) -> (header or config, GeoTokenTorch)."""
    if os.path.isdir(path):
        header, weights = read_model_folder(path)
        table = weights.pop("positional_encoding", None)
    else:
        header, tensors = read_tensor_file(path)
        weights, table = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}, None
    model = GeoTokenTorch(header["model"])
    load_geotoken_state(model, weights)
    if table is not None:
        # The stored position table must be the sinusoids; the peer then adds exactly the stored values.
        rows = min(table.shape[0], model.pe.shape[0])
        diff = float(np.abs(table[:rows] - model.pe[:rows].numpy()).max())
        if diff > 1e-5:
            raise ValueError(f"{path}: positional_encoding differs from the sinusoids by {diff}")
        model.pe[:rows] = torch.from_numpy(table[:rows])
    return header, model


def load_batches(path):
    _, t = read_tensor_file(path)
    count = len([n for n in t if n.endswith(".query")])
    return [tuple(torch.from_numpy(t[f"batch{i}.{f}"]) for f in ("query", "neighbors", "neighbor_tokens", "targets"))
            for i in range(count)]


# --- commands -----------------------------------------------------------------------------------
def bench(args):
    torch.set_num_threads(args.threads)
    header, model = load_model(f"{args.dir}/model")
    batches = load_batches(f"{args.dir}/batches.bin")
    opt = torch.optim.AdamW(model.parameters(), lr=5e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-6)
    model.train()

    def step(b):
        q, n, nt, tg = b
        logits = model(q, n, nt, tg)
        loss = model.loss(logits, tg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(args.warmup):
        step(batches[i % len(batches)])
    times, losses = [], []
    for i in range(args.steps):
        t0 = time.perf_counter()
        losses.append(step(batches[i % len(batches)]))
        times.append(time.perf_counter() - t0)
    b = batches[0][0].shape[0]
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}", "threads": torch.get_num_threads(), "batch_size": b,
        "steps": args.steps, "seconds": sum(times), "samples_per_second": b * args.steps / sum(times),
        "median_step_seconds": float(np.median(times)), "mean_loss": float(np.mean(losses)),
        "parameters": sum(p.numel() for p in model.parameters()),
    }))


def crosscheck(args):
    torch.set_num_threads(2)
    _, model = load_model(args.model)
    _, t = read_tensor_file(args.batch)
    q, n, nt, tg = (torch.from_numpy(t[k]) for k in ("query", "neighbors", "neighbor_tokens", "targets"))
    model.eval()  # the test model has dropout 0; grad mode keeps PyTorch off its inference fast path
    logits = model(q, n, nt, tg)
    loss = model.loss(logits, tg)
    loss.backward()
    out = {f"logits.{p}": l.detach().numpy() for p, l in enumerate(logits)}
    out["loss"] = np.array([loss.item()], dtype=np.float64)
    out.update({f"grad.{k}": v for k, v in geotoken_grads(model).items()})
    write_tensor_file(args.out, {"kind": "crosscheck", "producer": f"pytorch {torch.__version__}"}, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--dir", required=True)
    b.add_argument("--steps", type=int, default=10)
    b.add_argument("--warmup", type=int, default=2)
    b.add_argument("--threads", type=int, default=2)
    c = sub.add_parser("crosscheck")
    c.add_argument("--model", required=True)
    c.add_argument("--batch", required=True)
    c.add_argument("--out", required=True)
    args = ap.parse_args()
    {"bench": bench, "crosscheck": crosscheck}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
