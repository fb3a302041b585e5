#!/usr/bin/python3
"""The paper's reference decoding algorithm in PyTorch, as a speed peer for GeoToken.NET's KV-cached search.

The algorithm of the released GeoToken code (beam_search.py, sample_n.py), re-implemented on the
PyTorch twin of GeoToken.NET's model (geotoken_torch.py, stock nn.TransformerDecoder): the encoder runs
once per image, then at every step the decoder re-reads the whole prefix against the full encoder memory
(no KV cache, so each decoder layer's cross-attention keys/values of the memory are recomputed at every
step for every beam or sample), and only the last position's head is applied.

  beam5: beam search, width 5, the memory repeated per beam; the top beam is the answer.
  pool:  the paper's 31-candidate pool: one greedy pass plus 30 sampling passes at T = 0.7, each pass a
         full autoregressive decode of the batch (as sample_n.py loops over samples).

  decoding_reference.py --dir D --mode beam5|pool --batch B [--images N] [--warmup W] [--threads T]

D holds the model folder "model" and inputs.bin written by the .NET benchmark (GeoToken.Benchmarks.Decoding
prepare). Prints one JSON line: per-image latency, images/s and the top sequences of the first images.
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from geotoken_torch import load_model, read_tensor_file  # noqa: E402


def last_logits(model, memory, prefix):
    """Decodes start + prefix [R, t] against memory [R, S, d] (no cache); logits of position t only."""
    rows, t, d = prefix.shape[0], prefix.shape[1], model.d
    start = model.start_token.view(1, 1, d).expand(rows, 1, d)
    x = start if t == 0 else torch.cat([start, model.token_embedding(prefix + model.offsets[:t])], 1)
    x = x + model.pe[: t + 1]
    h = model.decoder(x, memory, tgt_mask=model.causal[: t + 1, : t + 1])
    return model.heads[t](h[:, -1])


@torch.no_grad()
def beam_search(model, memory, width):
    b = memory.shape[0]
    logp = F.log_softmax(last_logits(model, memory, memory.new_zeros((b, 0), dtype=torch.long)), -1)
    scores, first = logp.topk(width, -1)  # [B, W]
    seqs = first.unsqueeze(-1)  # [B, W, 1]
    expanded = memory.unsqueeze(1).expand(b, width, *memory.shape[1:]).reshape(b * width, *memory.shape[1:])
    for t in range(1, model.t):
        logp = F.log_softmax(last_logits(model, expanded, seqs.reshape(b * width, t)), -1)  # [B·W, V]
        v = logp.shape[-1]
        total = (scores.unsqueeze(-1) + logp.view(b, width, v)).view(b, width * v)
        scores, flat = total.topk(width, -1)
        parent, token = flat // v, flat % v
        seqs = torch.cat([seqs.gather(1, parent.unsqueeze(-1).expand(-1, -1, t)), token.unsqueeze(-1)], -1)
    return seqs[:, 0]  # topk returns the best first


@torch.no_grad()
def decode_pass(model, memory, temperature):
    """One autoregressive pass over the batch: greedy when temperature is 0, else one sample per image."""
    b = memory.shape[0]
    seq = memory.new_zeros((b, 0), dtype=torch.long)
    logp_sum = torch.zeros(b, dtype=torch.float64)
    for t in range(model.t):
        logits = last_logits(model, memory, seq)
        logp = F.log_softmax(logits, -1)
        if temperature == 0:
            tok = logp.argmax(-1)
        else:
            tok = torch.multinomial(F.softmax(logits / temperature, -1), 1).squeeze(-1)
        logp_sum += logp.gather(1, tok.unsqueeze(-1)).squeeze(-1).double()
        seq = torch.cat([seq, tok.unsqueeze(-1)], 1)
    return seq, logp_sum


@torch.no_grad()
def pool(model, memory, samples=30, temperature=0.7):
    """The paper's pool: one greedy pass, then the samples as one batched pass (each image's memory repeated
    once per sample), so the reference gets the benefit of batching the samples; still no cache."""
    greedy, _ = decode_pass(model, memory, 0.0)
    drawn, _ = decode_pass(model, memory.repeat_interleave(samples, 0), temperature)
    return greedy, drawn.view(memory.shape[0], samples, -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--mode", choices=["beam5", "pool"], required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    _, model = load_model(f"{args.dir}/model")
    model.eval()
    _, t = read_tensor_file(f"{args.dir}/inputs.bin")
    query, neighbors, ntokens = (torch.from_numpy(t[k]) for k in ("query", "neighbors", "neighbor_tokens"))
    images = min(args.images or query.shape[0], query.shape[0])

    def run(start, count):
        with torch.no_grad():
            memory = model.encode(query[start:start + count], neighbors[start:start + count], ntokens[start:start + count])
            if args.mode == "beam5":
                return beam_search(model, memory, 5)
            greedy, _ = pool(model, memory)
            return greedy

    for _ in range(args.warmup):
        run(0, min(args.batch, images))
    times, top = [], []
    for start in range(0, images - args.batch + 1, args.batch):
        t0 = time.perf_counter()
        top.extend(run(start, args.batch).tolist())
        times.append(time.perf_counter() - t0)
    n = len(times) * args.batch
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}, reference algorithm (no cache)", "threads": torch.get_num_threads(),
        "mode": args.mode, "batch_size": args.batch, "images": n, "seconds": sum(times),
        "seconds_per_image": sum(times) / n, "median_batch_seconds": float(np.median(times)),
        "images_per_second": n / sum(times),
        "parameters": sum(p.numel() for p in model.parameters()), "top": top[:16],
    }))


if __name__ == "__main__":
    sys.exit(main())
