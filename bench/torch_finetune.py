#!/usr/bin/python3
"""One fine-tuning step of an ONNX recogniser in PyTorch 1.13: the peer of
BenchmarkMobileFaceNetFineTuneStep (engine/onnx/bench_test.go).

The file runs through bench/torch_onnx.py's interpreter in eager mode
(training cannot use a frozen TorchScript module), with the weights ccface
trains (Conv, Gemm, MatMul, PRelu, BatchNormalization scale and bias)
requiring gradients. A step: forward of the batch, loss = sum(y * R) for a
fixed R, backward, plain SGD update, as the Go benchmark does.

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_finetune.py \\
      ../shared/models/mobilefacenet.onnx --batch 64 --threads 2

--layout channels_last (the default) or contiguous: channels_last is
PyTorch's faster CPU layout for depthwise-heavy networks; try both.
"""
import argparse
import time

import onnx
import torch

from torch_onnx import Graph, pattern

TRAINED = {"Conv": (1, 2), "Gemm": (1, 2), "BatchNormalization": (1, 2), "MatMul": (1,), "PRelu": (1,)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--layout", choices=["channels_last", "contiguous"], default="channels_last")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = Graph(args.model).train()
    fmt = torch.channels_last if args.layout == "channels_last" else torch.contiguous_format
    names = {n.input[i] for n in g.g.node for i in TRAINED.get(n.op_type, ()) if i < len(n.input)}
    weights = []
    for name in sorted(names & set(g.consts)):
        t = g.consts[name]
        if t.dim() == 4:
            t = t.contiguous(memory_format=fmt)
        g.consts[name] = t.clone().requires_grad_(True)
        weights.append(g.consts[name])
    dims = [d.dim_value for d in [i for i in onnx.load(args.model).graph.input if i.name == g.input][0].type.tensor_type.shape.dim]
    x = pattern(args.batch, 3, dims[2], dims[3]).contiguous(memory_format=fmt)
    r = None

    def step():
        nonlocal r
        y = g(x)
        if r is None:
            r = (torch.arange(y.numel()) % 7 - 3).float().reshape(y.shape)
        (y * r).sum().backward()
        with torch.no_grad():
            for w in weights:
                w -= 1e-9 * w.grad
                w.grad = None

    for _ in range(2):
        step()
    rates = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for _ in range(args.iters):
            step()
        rates.append(args.batch * args.iters / (time.perf_counter() - t0))
    rates.sort()
    macs = 233.8e6 if "mobilefacenet" in args.model else float("nan")
    med = rates[len(rates) // 2]
    print(f"torch {torch.__version__} eager {args.layout}, fine-tuning step, batch {args.batch}, {args.threads} threads, "
          f"{len(weights)} trained tensors: median {med:.1f} img/s, best {rates[-1]:.1f}; "
          f"{med * 3 * 2 * macs / 1e9:.1f} GFLOP/s (3 x forward multiply-adds)")


if __name__ == "__main__":
    main()
