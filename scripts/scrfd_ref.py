#!/usr/bin/python3
"""Reference SCRFD detections and ArcFace alignments for ccface's align tests.

An independent run of the detector file on a few fixture images: the graph
runs in PyTorch (bench/torch_onnx.py's interpreter), the pre- and
post-processing follow insightface's python-package (model_zoo/scrfd.py:
cv2 letterbox, anchor centres, distance decoding, threshold, NMS;
utils/face_align.py: skimage's SimilarityTransform to the ArcFace template,
cv2.warpAffine), written here with numpy, OpenCV and scikit-image
(Debian's python3-opencv and python3-skimage). Its output is
align/testdata/scrfd_ref.json:

    /usr/bin/python3 scripts/scrfd_ref.py ../shared/models/scrfd_2.5g_bnkps.onnx \\
        --data ../shared/data --out align/testdata/scrfd_ref.json

Each case is an image from the shared data folder, or a black canvas with
images pasted at integer offsets (so the Go test can build the same input
exactly), and the detector input size; upscale=True is insightface's own
letterbox (fit the input), False places a smaller image unscaled in the
smallest multiple of 32 holding it (ccface's default for face crops).
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch
from skimage import transform as sktrans

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from torch_onnx import Graph  # noqa: E402

CASES = [
    {"name": "celeba-crop", "paste": [["celeba298/07201/001085.jpg", 0, 0]], "det": 640, "upscale": False},
    {"name": "celeba-turned", "paste": [["celeba298/07350/031875.jpg", 0, 0]], "det": 160, "upscale": False},
    {"name": "orl-letterbox", "paste": [["orl/s1/1.png", 0, 0]], "det": 160, "upscale": True},
    {"name": "two-faces-shrunk", "canvas": [400, 300],
     "paste": [["celeba298/07201/007710.jpg", 20, 40], ["orl/s2/1.png", 250, 120]], "det": 320, "upscale": True},
]

ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                    [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)
STRIDES = [8, 16, 32]
ANCHORS = 2
THRESH, NMS_IOU = 0.5, 0.4


def load_rgb(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)  # BGR, grey expanded to 3 channels
    if img is None:
        raise SystemExit(f"{path}: cannot read")
    return img[:, :, ::-1].copy()


def build_input(case, root):
    if "canvas" in case:
        w, h = case["canvas"]
        img = np.zeros((h, w, 3), np.uint8)
    else:
        img = None
    for rel, x, y in case["paste"]:
        part = load_rgb(os.path.join(root, rel))
        if img is None:
            img = part
        else:
            img[y:y + part.shape[0], x:x + part.shape[1]] = part
    return img


def letterbox(img, det, upscale):
    h, w = img.shape[:2]
    if not upscale and w <= det and h <= det:
        side = min(det, (max(w, h) + 31) // 32 * 32)
        out = np.zeros((side, side, 3), np.uint8)
        out[:h, :w] = img
        return out, 1.0
    # insightface SCRFD.detect
    im_ratio = float(h) / w
    if im_ratio > 1:
        new_h = det
        new_w = int(new_h / im_ratio)
    else:
        new_w = det
        new_h = int(new_w * im_ratio)
    scale = float(new_h) / h
    out = np.zeros((det, det, 3), np.uint8)
    out[:new_h, :new_w] = cv2.resize(img, (new_w, new_h))
    return out, scale


def detect(graph, img, det, upscale):
    det_img, scale = letterbox(img, det, upscale)
    side = det_img.shape[0]
    blob = (det_img.astype(np.float32) - 127.5) / 128.0  # RGB already
    x = torch.from_numpy(blob.transpose(2, 0, 1)[None].copy())
    with torch.no_grad():
        outs = [o.numpy() for o in graph(x)]
    scores_l, boxes_l, kps_l = [], [], []
    for i, stride in enumerate(STRIDES):
        scores = outs[i].reshape(-1)
        boxes = outs[i + 3] * stride
        kps = outs[i + 6] * stride
        n = side // stride
        centres = np.stack(np.mgrid[:n, :n][::-1], axis=-1).astype(np.float32)
        centres = np.stack([(centres * stride).reshape(-1, 2)] * ANCHORS, axis=1).reshape(-1, 2)
        keep = np.where(scores >= THRESH)[0]
        b = np.stack([centres[:, 0] - boxes[:, 0], centres[:, 1] - boxes[:, 1],
                      centres[:, 0] + boxes[:, 2], centres[:, 1] + boxes[:, 3]], axis=-1)
        k = np.stack([centres[:, j % 2] + kps[:, j] for j in range(10)], axis=-1).reshape(-1, 5, 2)
        scores_l.append(scores[keep])
        boxes_l.append(b[keep])
        kps_l.append(k[keep])
    scores = np.concatenate(scores_l)
    boxes = np.concatenate(boxes_l) / scale
    kps = np.concatenate(kps_l) / scale
    order = scores.argsort()[::-1]
    scores, boxes, kps = scores[order], boxes[order], kps[order]
    keep = nms(boxes)
    return scores[keep], boxes[keep], kps[keep]


def nms(b):
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    order = np.arange(len(b))
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        w = np.maximum(0, np.minimum(b[i, 2], b[order[1:], 2]) - np.maximum(b[i, 0], b[order[1:], 0]) + 1)
        h = np.maximum(0, np.minimum(b[i, 3], b[order[1:], 3]) - np.maximum(b[i, 1], b[order[1:], 1]) + 1)
        inter = w * h
        order = order[1:][inter / (area[i] + area[order[1:]] - inter) <= NMS_IOU]
    return keep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--out", default="align/testdata/scrfd_ref.json")
    args = ap.parse_args()
    torch.set_num_threads(2)
    graph = Graph(args.model).eval()
    cases = []
    for case in CASES:
        img = build_input(case, args.data)
        scores, boxes, kps = detect(graph, img, case["det"], case["upscale"])
        faces = []
        for s, b, k in zip(scores, boxes, kps):
            tf = sktrans.SimilarityTransform()
            tf.estimate(k, ARCFACE)
            m = tf.params[:2]
            crop = cv2.warpAffine(img, m, (112, 112), borderValue=0.0)
            faces.append({"score": round(float(s), 5), "box": [round(float(v), 3) for v in b],
                          "landmarks": [[round(float(v), 3) for v in p] for p in k],
                          "matrix": [[round(float(v), 6) for v in row] for row in m],
                          # a few pixels of the aligned crop: enough to catch a wrong warp
                          "crop_mean": [round(float(v), 3) for v in crop.reshape(-1, 3).mean(0)],
                          "crop_samples": [[x, y] + [int(v) for v in crop[y, x]] for y in range(8, 112, 24) for x in range(8, 112, 24)]})
        cases.append({**case, "size": [int(img.shape[1]), int(img.shape[0])], "faces": faces})
        print(f"{case['name']}: {len(faces)} face(s)", ", ".join(f"{f['score']:.3f}" for f in faces))
    with open(args.out, "w") as f:
        json.dump({"model": os.path.basename(args.model), "threshold": THRESH, "nms": NMS_IOU, "cases": cases}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
