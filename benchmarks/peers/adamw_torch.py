#!/usr/bin/python3
"""PyTorch's torch.optim.AdamW with a StepLR(step_size=1, gamma) schedule, written for GeoToken.NET as a test oracle.

Usage: adamw_torch.py CASE.json OUT.json

CASE.json: {"lr", "weight_decay", "beta1", "beta2", "eps", "gamma",
            "parameters": {name: {"shape": [...], "values": [...]}},
            "epochs": [[{name: [gradient values] or null, ...} per step] per epoch]}
Every parameter is float32. A step sets each parameter's .grad to the given gradient (None where null, which
PyTorch's AdamW skips), then calls optimizer.step(); after every epoch the scheduler steps.
OUT.json: {"steps": [{name: [values after the step]} per step, in order]}.
"""
import json
import sys

import torch


def main():
    case_path, out_path = sys.argv[1], sys.argv[2]
    with open(case_path) as f:
        case = json.load(f)
    params = {}
    for name, p in case["parameters"].items():
        params[name] = torch.nn.Parameter(torch.tensor(p["values"], dtype=torch.float32).reshape(p["shape"]))
    optimizer = torch.optim.AdamW(list(params.values()), lr=case["lr"], betas=(case["beta1"], case["beta2"]),
                                  eps=case["eps"], weight_decay=case["weight_decay"])
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=case["gamma"])
    steps = []
    for epoch in case["epochs"]:
        for grads in epoch:
            for name, p in params.items():
                g = grads.get(name)
                p.grad = None if g is None else torch.tensor(g, dtype=torch.float32).reshape(p.shape)
            optimizer.step()
            steps.append({name: p.detach().reshape(-1).tolist() for name, p in params.items()})
        schedule.step()
    with open(out_path, "w") as f:
        json.dump({"steps": steps}, f)


if __name__ == "__main__":
    main()
