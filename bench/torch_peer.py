#!/usr/bin/python3
"""PyTorch CPU mirror of ccface's training step, for side-by-side speed runs.

The network is ccface's backbone (engine/nn/net.go, params.go) layer for
layer: a stem 3x3 conv, then two stages, each a 2x2 max-pool, an opening 3x3
conv and Depth residual blocks (conv-GN-bias-ReLU, conv-bias, add, ReLU);
GroupNorm over groups of 4 channels without affine parameters followed by a
per-channel bias; a last 2x2 max-pool, NCHW flatten, a fully connected layer,
L2 normalisation, cosine logits against a normalised classifier and ArcFace's
margin cross-entropy (s=32, m=0.4, with the theta+m > pi fallback), SGD with
momentum 0.9 and weight decay 5e-4 (not on biases, as ccface). One step is
forward, backward and the optimizer step on a batch of 64 32x32 images.

Run with Debian's interpreter (python3-torch):
  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_peer.py --threads 2 --width 16
"""
import argparse
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--bs", type=int, default=64)
ap.add_argument("--hr", type=int, default=32)
ap.add_argument("--width", type=int, default=16)
ap.add_argument("--depth", type=int, default=1)
ap.add_argument("--embed", type=int, default=128)
ap.add_argument("--classes", type=int, default=300)
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--channels_last", action="store_true")
args = ap.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)


class ConvGN(nn.Module):
    """3x3 conv (no bias), GroupNorm(groups of 4, no affine) unless it closes a
    residual branch, then a per-channel bias, as ccface's conv()."""

    def __init__(self, cin, cout, normed):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        gc = min(4, cout)
        self.gn = nn.GroupNorm(cout // gc, cout, eps=1e-5, affine=False) if normed else None
        self.b = nn.Parameter(torch.zeros(1, cout, 1, 1))

    def forward(self, x):
        h = self.conv(x)
        if self.gn is not None:
            h = self.gn(h)
        return h + self.b


class Backbone(nn.Module):
    def __init__(self, hr, width, depth, embed):
        super().__init__()
        ch = [width, 2 * width, 4 * width]
        self.stem = ConvGN(3, ch[0], True)
        self.stages = nn.ModuleList()
        for s in (1, 2):
            blocks = nn.ModuleList([ConvGN(ch[s - 1], ch[s], True)])
            for _ in range(depth):
                blocks.append(nn.ModuleList([ConvGN(ch[s], ch[s], True), ConvGN(ch[s], ch[s], False)]))
            self.stages.append(blocks)
        flat = ch[2] * (hr // 8) ** 2
        self.fc = nn.Linear(flat, embed)

    def forward(self, x):
        h = F.relu(self.stem(x))
        for blocks in self.stages:
            h = F.max_pool2d(h, 2)
            h = F.relu(blocks[0](h))
            for c1, c2 in blocks[1:]:
                r = c2(F.relu(c1(h)))
                h = F.relu(h + r)
        h = F.max_pool2d(h, 2)
        return self.fc(torch.flatten(h, 1))


def arcface_loss(emb, w, y, s=32.0, m=0.4):
    z = F.normalize(emb, dim=1, eps=1e-6)
    cos = z @ F.normalize(w, dim=1, eps=1e-6).t()
    onehot = F.one_hot(y, cos.shape[1]).to(cos.dtype)
    c = (cos * onehot).sum(1).clamp(-1, 1)
    sin = torch.sqrt((1.0 - c * c).clamp_min(1e-6))
    phi = c * math.cos(m) - sin * math.sin(m)           # cos(theta + m)
    phi = torch.where(c > -math.cos(m), phi, c - m * math.sin(m))  # theta + m > pi
    logits = s * (cos + onehot * (phi - c).unsqueeze(1))
    return F.cross_entropy(logits, y)


net = Backbone(args.hr, args.width, args.depth, args.embed)
W = nn.Parameter(torch.randn(args.classes, args.embed) / math.sqrt(args.embed))
decay = [p for n, p in net.named_parameters() if not n.endswith(".b") and not n.endswith("fc.bias")] + [W]
no_decay = [p for n, p in net.named_parameters() if n.endswith(".b") or n.endswith("fc.bias")]
opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}],
                      lr=0.01, momentum=0.9)
mf = torch.channels_last if args.channels_last else torch.contiguous_format
if args.channels_last:
    net = net.to(memory_format=torch.channels_last)
batches = [(torch.randn(args.bs, 3, args.hr, args.hr).contiguous(memory_format=mf),
            torch.randint(0, args.classes, (args.bs,))) for _ in range(4)]


def step(i):
    x, y = batches[i % 4]
    opt.zero_grad(set_to_none=True)
    loss = arcface_loss(net(x), W, y)
    loss.backward()
    opt.step()
    return loss.item()


for i in range(args.warmup):
    step(i)
times = []
ru0 = resource.getrusage(resource.RUSAGE_SELF)
for i in range(args.steps):
    t = time.perf_counter()
    l = step(i)
    times.append(time.perf_counter() - t)
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu_ms = 1e3 * (ru.ru_utime + ru.ru_stime - ru0.ru_utime - ru0.ru_stime) / args.steps
med = statistics.median(times)
ips = args.bs / med
rss = ru.ru_maxrss
print(f"RESULT torch={torch.__version__} threads={args.threads} width={args.width} depth={args.depth} bs={args.bs} "
      f"median_step={med:.4f}s min={min(times):.4f}s img/s={ips:.1f} cpu-ms/step={cpu_ms:.1f} "
      f"peakRSS={rss / 1024:.0f}MiB loss={l:.3f}")
