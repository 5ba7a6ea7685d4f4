#!/usr/bin/python3
"""Run an ONNX file in PyTorch 1.13: the peer of ccface's importer.

A small interpreter of the ONNX graph in torch (Debian's python3-torch and
python3-onnx; onnx2torch and onnxruntime are not packaged there). It is
independent of ccface's Go code, so it serves two purposes:

  speed:     forward img/s through PyTorch's fastest CPU path (TorchScript
             trace + freeze + optimize_for_inference), batch 64, 2 threads
             OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_onnx.py \\
                 ../shared/models/mobilefacenet.onnx --batch 64 --threads 2
  reference: outputs on a deterministic input, for the Go tests
             /usr/bin/python3 bench/torch_onnx.py ../shared/models/scrfd_2.5g_bnkps.onnx \\
                 --ref engine/onnx/testdata/scrfd_100x72.json --size 100x72

Shape computations (Shape, Gather, ...) run eagerly, so a traced module is
fixed to the input size it was traced at, like a ccface Runner.
"""
import argparse
import json
import math
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def s(v):
    return v.decode() if isinstance(v, bytes) else v


class Graph(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        self.opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
        self.g = m.graph
        self.consts = {}
        for t in self.g.initializer:
            a = numpy_helper.to_array(t)
            self.consts[t.name] = torch.from_numpy(a.copy()) if a.dtype != np.float64 else torch.from_numpy(a.astype(np.float32))
        inits = set(self.consts)
        self.input = [i.name for i in self.g.input if i.name not in inits][0]
        self.outputs = [o.name for o in self.g.output]

    def forward(self, x):
        v = dict(self.consts)
        v[self.input] = x
        for n in self.g.node:
            ins = [v[i] if i else None for i in n.input]
            outs = self.run(n, ins)
            for name, o in zip(n.output, outs):
                v[name] = o
        res = tuple(v[o] for o in self.outputs)
        return res[0] if len(res) == 1 else res

    def run(self, n, ins):
        op, a = n.op_type, attrs(n)
        x = ins[0] if ins else None
        if op == "Constant":
            return [torch.from_numpy(numpy_helper.to_array(a["value"]).copy())]
        if op == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            if pads[0] != pads[2] or pads[1] != pads[3]:
                x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
                pads = [0, 0, 0, 0]
            return [F.conv2d(x, ins[1], ins[2] if len(ins) > 2 else None, stride=a.get("strides", [1, 1]),
                             padding=(pads[0], pads[1]), groups=a.get("group", 1))]
        if op == "BatchNormalization":
            return [F.batch_norm(x, ins[3], ins[4], ins[1], ins[2], False, 0.0, a.get("epsilon", 1e-5))]
        if op == "Relu":
            return [F.relu(x)]
        if op == "Sigmoid":
            return [torch.sigmoid(x)]
        if op == "PRelu":
            return [torch.where(x >= 0, x, x * ins[1])]
        if op == "Clip":
            if self.opset < 11:
                lo, hi = a.get("min", -math.inf), a.get("max", math.inf)
            else:
                lo = float(ins[1]) if len(ins) > 1 and ins[1] is not None else -math.inf
                hi = float(ins[2]) if len(ins) > 2 and ins[2] is not None else math.inf
            return [torch.clamp(x, lo, hi)]
        if op in ("Add", "Sub", "Mul", "Div"):
            y = ins[1]
            f = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul,
                 "Div": torch.div if x.is_floating_point() else torch.floor_divide}[op]
            return [f(x, y)]
        if op in ("Identity", "Dropout"):
            return [x]
        if op == "Flatten":
            ax = a.get("axis", 1)
            return [x.reshape(int(np.prod(x.shape[:ax])), -1)]
        if op == "Reshape":
            shape = [int(d) for d in ins[1]]
            shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
            if shape[0] == 1 and x.shape[0] != 1:  # a batch fixed at 1 in the export
                shape[0] = x.shape[0]
            return [x.reshape(shape)]
        if op == "Gemm":
            A = x.t() if a.get("transA", 0) else x
            B = ins[1].t() if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * A @ B
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
            return [y]
        if op == "MatMul":
            return [x @ ins[1]]
        if op == "GlobalAveragePool":
            return [x.mean(dim=(2, 3), keepdim=True)]
        if op in ("MaxPool", "AveragePool"):
            k, st = a["kernel_shape"], a.get("strides", [1, 1])
            p = a.get("pads", [0, 0, 0, 0])
            ceil = bool(a.get("ceil_mode", 0))
            if op == "MaxPool":
                return [F.max_pool2d(x, k, st, (p[0], p[1]), ceil_mode=ceil)]
            return [F.avg_pool2d(x, k, st, (p[0], p[1]), ceil_mode=ceil,
                                 count_include_pad=bool(a.get("count_include_pad", 0)))]
        if op == "Resize":
            sizes = ins[3] if len(ins) > 3 and ins[3] is not None and ins[3].numel() else None
            assert s(a.get("mode", b"nearest")) == "nearest"
            assert s(a.get("coordinate_transformation_mode", b"")) == "asymmetric"
            assert s(a.get("nearest_mode", b"")) == "floor"
            if sizes is not None:
                return [F.interpolate(x, size=[int(d) for d in sizes[2:]], mode="nearest")]
            return [F.interpolate(x, scale_factor=[float(d) for d in ins[2][2:]], mode="nearest")]
        if op == "Transpose":
            return [x.permute(a.get("perm", list(range(x.dim()))[::-1]))]
        if op == "Concat":
            return [torch.cat(ins, dim=a["axis"])]
        if op == "Shape":
            return [torch.tensor(list(x.shape), dtype=torch.int64)]
        if op == "Gather":
            idx = ins[1]
            return [torch.index_select(x, a.get("axis", 0), idx.reshape(-1)).reshape(
                list(x.shape[:a.get("axis", 0)]) + list(idx.shape) + list(x.shape[a.get("axis", 0) + 1:]))]
        if op == "Unsqueeze":
            axes = a["axes"] if self.opset < 13 else [int(d) for d in ins[1]]
            for ax in sorted(axes):
                x = x.unsqueeze(ax)
            return [x]
        if op == "Slice":
            starts, ends = [int(d) for d in ins[1]], [int(d) for d in ins[2]]
            axes = [int(d) for d in ins[3]] if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
            steps = [int(d) for d in ins[4]] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x.dim()
            for st, en, ax, sp in zip(starts, ends, axes, steps):
                d = x.shape[ax]
                sl[ax] = slice(max(-d, min(st, d)), max(-d - 1, min(en, d)), sp)
            return [x[tuple(sl)]]
        raise NotImplementedError(op)


def pattern(n, c, h, w):
    """The deterministic input the Go test builds too (engine/onnx)."""
    z, y, x = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    img = np.sin(0.05 * x + 0.07 * y + z).astype(np.float32)
    return torch.from_numpy(np.broadcast_to(img, (n, c, h, w)).copy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ref", help="write the outputs on the test pattern to this JSON file")
    ap.add_argument("--size", default="", help="HxW of the input (default: the model's)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = Graph(args.model).eval()
    dims = [d.dim_value for d in [i for i in onnx.load(args.model).graph.input if i.name == g.input][0].type.tensor_type.shape.dim]
    h, w = (int(v) for v in args.size.split("x")) if args.size else (dims[2], dims[3])
    if args.ref:
        with torch.no_grad():
            outs = g(pattern(1, 3, h, w))
        outs = outs if isinstance(outs, tuple) else (outs,)
        with open(args.ref, "w") as f:
            json.dump({"model": args.model.split("/")[-1], "input": f"pattern 1x3x{h}x{w}",
                       "outputs": [{"name": n, "shape": list(o.shape), "data": [round(float(v), 6) for v in o.reshape(-1)]}
                                   for n, o in zip(g.outputs, outs)]}, f)
        print(f"wrote {args.ref}")
        return
    x = pattern(args.batch, 3, h, w)
    with torch.no_grad():
        m = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(g, x, check_trace=False)))
        for _ in range(3):
            m(x)
        best = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            for _ in range(args.iters):
                m(x)
            best.append(args.batch * args.iters / (time.perf_counter() - t0))
    best.sort()
    print(f"torch {torch.__version__} jit+freeze+optimize_for_inference, batch {args.batch}, "
          f"{args.threads} threads: median {best[len(best) // 2]:.1f} img/s, best {best[-1]:.1f}")


if __name__ == "__main__":
    main()
