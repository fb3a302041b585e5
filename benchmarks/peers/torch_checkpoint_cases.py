#!/usr/bin/python3
"""Test oracle for GeoToken.Model.IO.PyTorchCheckpoint (PyTorch 1.13, /usr/bin/python3).

Commands:
  cases --dir D           torch.save a set of checkpoints into D (dtypes, views, shared storages, 0-d tensors,
                          nested dicts, parameters, pickle protocol 4) and D/expected.bin: every tensor's values
                          as float64, named "<case>/<tensor>", with dtype/shape/stride/offset in the header
  load --path P --out O   torch.load(P) (CPU) and write its tensors to O the same way (dtype names in the header)
  evil --dir D            checkpoints whose pickle would run os.system / builtins.eval when unpickled by Python
                          (the command they carry touches D/pwned)
"""
import argparse
import collections
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from geotoken_torch import write_tensor_file  # noqa: E402


def describe(tensors, prefix=""):
    header, values = {}, {}
    for name, t in tensors.items():
        header[prefix + name] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                                 "stride": list(t.stride()), "offset": t.storage_offset()}
        values[prefix + name] = t.detach().to(torch.float64).contiguous().numpy()
    return header, values


def cases(args):
    os.makedirs(args.dir, exist_ok=True)
    g = torch.Generator().manual_seed(5)
    base = torch.randn(6, 8, generator=g)
    shared = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    lin = torch.nn.Linear(3, 2)
    plain = collections.OrderedDict([
        ("fp32", torch.randn(3, 4, generator=g)),
        ("fp64", torch.randn(5, generator=g, dtype=torch.float64)),
        ("fp16", torch.randn(2, 3, generator=g).half()),
        ("bf16", torch.randn(7, generator=g).bfloat16()),
        ("int64", torch.tensor([[2 ** 40 + 3, -7], [0, 123456789]], dtype=torch.int64)),
        ("int32", torch.tensor([-5, 6, 2 ** 30], dtype=torch.int32)),
        ("uint8", torch.tensor([0, 255, 17], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(3.25)),
        ("empty", torch.zeros(0, 4)),
        ("transposed", base.t()),                 # non-contiguous view of base's storage
        ("sliced", base[2:5, 1::3]),              # offset and strides
        ("base", base),
        ("shared_a", shared),
        ("shared_b", shared[1]),                  # shares shared_a's storage, offset 6
        ("expanded", torch.tensor([1.0, 2.0]).expand(3, 2)),  # stride 0
    ])
    files = {
        "plain": plain,
        "module": lin.state_dict(),                                    # OrderedDict with _metadata
        "parameters": {"weight": torch.nn.Parameter(torch.ones(2, 2)), "bias": torch.nn.Parameter(torch.zeros(2))},
        "nested": {"state_dict": lin.state_dict(), "epoch": 3, "note": "trained", "hyper": [1, 2.5, None]},
        "protocol4": lin.state_dict(),
    }
    opt = torch.optim.Adam(lin.parameters())
    lin(torch.randn(4, 3)).sum().backward()
    opt.step()
    files["ambiguous"] = {"model": lin.state_dict(), "optimizer": opt.state_dict()}
    header, values = {}, {}
    for name, obj in files.items():
        proto = 4 if name == "protocol4" else 2
        torch.save(obj, os.path.join(args.dir, f"{name}.pth"), pickle_protocol=proto)
        sd = obj
        if name == "nested":
            sd = obj["state_dict"]
        if name == "ambiguous":
            sd = obj["model"]
        h, v = describe(sd, f"{name}/")
        header.update(h)
        values.update(v)
    write_tensor_file(os.path.join(args.dir, "expected.bin"), {"kind": "expected", "tensors_info": header}, values)


def load(args):
    obj = torch.load(args.path, map_location="cpu")
    if args.key:
        obj = obj[args.key]
    header, values = describe(obj)
    write_tensor_file(args.out, {"kind": "loaded", "tensors_info": header, "order": list(obj.keys())}, values)


class _System:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _Eval:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (eval, (f"__import__('os').system({self.command!r})",))


def evil(args):
    os.makedirs(args.dir, exist_ok=True)
    marker = os.path.join(args.dir, "pwned")
    torch.save({"weight": torch.zeros(2), "payload": _System(f"touch {marker}")}, os.path.join(args.dir, "system.pth"))
    torch.save({"weight": torch.zeros(2), "payload": _Eval(f"touch {marker}")}, os.path.join(args.dir, "eval.pth"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cases")
    c.add_argument("--dir", required=True)
    lo = sub.add_parser("load")
    lo.add_argument("--path", required=True)
    lo.add_argument("--out", required=True)
    lo.add_argument("--key")
    e = sub.add_parser("evil")
    e.add_argument("--dir", required=True)
    args = ap.parse_args()
    {"cases": cases, "load": load, "evil": evil}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
