#!/usr/bin/python3
"""Check a model ccface exported against an independent reader.

Loads the exported ONNX file with Debian's python3-onnx (onnx.checker
included), runs it in PyTorch through bench/torch_onnx.py's interpreter on
the fixture faces with the model's preprocessing (RGB, (pixel - 127.5) / 128),
and compares with the embeddings ccface computed with the same file:

  CCFACE_ONNX_CROSSCHECK=/tmp/xc go test ./engine/onnx/ -run TestExportMobileFaceNet
  /usr/bin/python3 scripts/onnx_crosscheck.py /tmp/xc/finetuned.onnx /tmp/xc/ccface_embeddings.json

Exits 1 when any output differs by more than --tol.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_onnx import Graph  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", help="the ONNX file ccface exported")
    ap.add_argument("embeddings", help="ccface's outputs on the fixture faces (JSON)")
    ap.add_argument("--fixtures", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "models", "fixtures"))
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed difference, relative to max(1, |value|)")
    args = ap.parse_args()
    onnx.checker.check_model(onnx.load(args.model))
    with open(args.embeddings) as f:
        ours = json.load(f)
    imgs = [np.asarray(Image.open(os.path.join(args.fixtures, n)).convert("RGB"), dtype=np.float32) for n in ours["images"]]
    x = torch.from_numpy((np.stack(imgs).transpose(0, 3, 1, 2) - 127.5) / 128).contiguous()
    torch.set_num_threads(2)
    with torch.no_grad():
        theirs = Graph(args.model).eval()(x).reshape(len(imgs), -1).numpy()
    ours = np.asarray(ours["embeddings"], dtype=np.float64)
    diff = np.abs(theirs - ours) / np.maximum(1, np.abs(ours))
    print(f"{args.model}: onnx.checker passed; {len(imgs)} faces x {ours.shape[1]} outputs, "
          f"largest |ccface - torch| / max(1, |ccface|) = {diff.max():.2g} (tolerance {args.tol:g}); "
          f"values up to {np.abs(ours).max():.3g}")
    sys.exit(0 if diff.max() <= args.tol else 1)


if __name__ == "__main__":
    main()
