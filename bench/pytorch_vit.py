#!/usr/bin/python3
"""PyTorch-eager peer of tailsweep's engine, for bench/engine_vs_pytorch.py.

The same architecture as timm's VisionTransformer (names match timm's state
dict) and the same token-reduction methods, written from the reference code
(timm 0.9.12 Block/Attention, ToMe's merge.py, POMT's timm_patch.py), with
explicit softmax attention everywhere as in tailsweep. Needs only Debian's
python3-torch: no timm, no downloads.

  pytorch_vit.py time  --model deit-tiny --methods none,topk:10 --batch 1 --threads 2
  pytorch_vit.py logits --model M --weights W.safetensors --input IN.safetensors
                        --methods ... --out DIR   (writes DIR/<method>.safetensors)
"""
import argparse
import json
import math
import random
import statistics
import struct
import sys
import time

import method_list  # same folder: the command line's list of method specs

import torch
import torch.nn.functional as F

MODELS = {
    "deit-tiny": dict(dim=192, depth=12, heads=3),
    "deit-small": dict(dim=384, depth=12, heads=6),
    "deit-base": dict(dim=768, depth=12, heads=12),
    "vit-large": dict(dim=1024, depth=24, heads=16),
}


def parse_model(spec):
    cfg = dict(dim=192, depth=12, heads=3, mlp=4.0, patch=16, image=224, channels=3,
               classes=1000)
    if spec in MODELS:
        cfg.update(MODELS[spec])
    elif spec.startswith("custom:"):
        for item in spec[len("custom:"):].split(","):
            key, value = item.split("=")
            cfg[key] = float(value) if key == "mlp" else int(value)
    else:
        sys.exit(f"unknown model {spec}")
    return cfg


def parse_method(spec):
    if spec == "none":
        return ("none", None)
    name, arg = spec.split(":", 1)
    if name == "tome":
        if arg.startswith("["):
            return ("tome", [int(v) for v in arg[1:-1].split(",")])
        if "," in arg:
            r, inflect = arg.split(",")
            return ("tome", (int(r), float(inflect)))
        return ("tome", int(arg))
    if name == "pomt":
        r, _, layer = arg.partition("@")
        return ("pomt", (int(r), int(layer) if layer else 3))
    return (name, int(arg))


def tome_parse_r(num_layers, r):  # ToMe's tome/utils.py parse_r
    inflect = 0
    if isinstance(r, list):
        return list(r) + [0] * (num_layers - len(r))
    if isinstance(r, tuple):
        r, inflect = r
    min_val = int(r * (1.0 - inflect))
    max_val = 2 * r - min_val
    step = (max_val - min_val) / (num_layers - 1)
    return [int(min_val + step * i) for i in range(num_layers)]


class Attention(torch.nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = torch.nn.Linear(dim, dim * 3)
        self.proj = torch.nn.Linear(dim, dim)

    def forward(self, x, size=None):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if size is not None:  # ToMe proportional attention
            attn = attn + size.log()[:, None, None, :, 0]
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x), attn, k, v


class Mlp(torch.nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = torch.nn.Linear(dim, hidden)
        self.fc2 = torch.nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(torch.nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = torch.nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)


class PatchEmbed(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.proj = torch.nn.Conv2d(cfg["channels"], cfg["dim"], cfg["patch"], cfg["patch"])


class ViT(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        dim = cfg["dim"]
        tokens = (cfg["image"] // cfg["patch"]) ** 2 + 1
        self.patch_embed = PatchEmbed(cfg)
        self.cls_token = torch.nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = torch.nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        hidden = int(dim * cfg["mlp"])
        self.blocks = torch.nn.ModuleList(
            [Block(dim, cfg["heads"], hidden) for _ in range(cfg["depth"])])
        self.norm = torch.nn.LayerNorm(dim, eps=1e-6)
        self.head = torch.nn.Linear(dim, cfg["classes"])

    def forward(self, images, method=("none", None)):
        kind, arg = method
        x = self.patch_embed.proj(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        if kind == "random":  # POMT's curve protocol (one set for the batch)
            idx = torch.randperm(x.shape[1] - 1)[: arg - 1] + 1
            x = x[:, torch.cat([torch.zeros(1, dtype=torch.long), idx.sort()[0]]), :]
        tome_r = tome_parse_r(len(self.blocks), arg) if kind == "tome" else None
        size = None
        for index, block in enumerate(self.blocks):
            out, attn, k, v = block.attn(block.norm1(x), size)
            x = x + out
            if kind == "topk":
                x = topk_prune(x, attn, arg)
            elif kind == "pomt" and index == arg[1]:
                x = pomt_prune(x, attn, v, arg[0])
            elif kind == "tome" and tome_r[index] > 0:
                x, size = tome_merge(x, size, k.mean(1), tome_r[index])
            x = x + block.mlp(block.norm2(x))
        return self.head(self.norm(x)[:, 0])


def gather(x, idx):
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def topk_prune(x, attn, r):  # POMT repo's Top-K baseline
    N = x.shape[1]
    T = N - r - 1
    if r == 0 or T <= 1:
        return x
    score = attn.mean(dim=1)[:, 0, 1:]
    keep = score.argsort(dim=1, descending=True, stable=True)[:, :T] + 1
    return torch.cat([x[:, :1], gather(x, keep)], dim=1)


def pomt_prune(x, attn, v, r):  # POMT's POMTMetric + POMTForward
    N = x.shape[1]
    T = N - r - 2
    if r == 0 or T <= 1:
        return x
    metric_attn = attn[..., 1:, 1:].amax(dim=1).sum(dim=1)
    metric_attn = metric_attn / metric_attn.max()
    metric_v = torch.softmax(v.amax(dim=1).sum(dim=-1), dim=1)[:, 1:]
    order = (metric_attn + metric_v).argsort(dim=1, descending=True, stable=True) + 1
    fused = gather(x, order[:, T:]).mean(dim=1, keepdim=True)
    return torch.cat([x[:, :1], gather(x, order[:, :T]), fused], dim=1)


def tome_merge(x, size, metric, r):  # ToMe's bipartite_soft_matching + merge_wavg
    t = x.shape[1]
    r = min(r, (t - 1) // 2)
    if r <= 0:
        return x, size
    if size is None:
        size = torch.ones_like(x[..., 0, None])
    metric = metric / metric.norm(dim=-1, keepdim=True)
    a, b = metric[..., ::2, :], metric[..., 1::2, :]
    scores = a @ b.transpose(-1, -2)
    scores[..., 0, :] = -math.inf
    node_max, node_idx = scores.max(dim=-1)
    edge_idx = node_max.argsort(dim=-1, descending=True, stable=True)[..., None]
    unm_idx = edge_idx[..., r:, :].sort(dim=1)[0]
    src_idx = edge_idx[..., :r, :]
    dst_idx = node_idx[..., None].gather(dim=-2, index=src_idx)

    def merge(values):
        src, dst = values[..., ::2, :], values[..., 1::2, :]
        n, t1, c = src.shape
        unm = src.gather(dim=-2, index=unm_idx.expand(n, t1 - r, c))
        src = src.gather(dim=-2, index=src_idx.expand(n, r, c))
        # ToMe: scatter_reduce(..., reduce="sum"); scatter_add is the same sum
        # without 1.13's beta warning.
        dst = dst.scatter_add(-2, dst_idx.expand(n, r, c), src)
        return torch.cat([unm, dst], dim=1)

    x = merge(x * size)
    size = merge(size)
    return x / size, size


# --- safetensors, F32 only (enough for the cross-check) --------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=torch.float32).reshape(entry["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- timing (the same protocol as bench/engine_latency.cpp) ----------------

def time_chunk(fn, seconds, min_samples, samples):
    fn()  # re-warm caches after the previous method
    start = time.perf_counter()
    taken = 0
    while time.perf_counter() - start < seconds or taken < min_samples:
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
        taken += 1


def measure_all(model, images, specs, args):
    """Warm-up by time, then rounds over the methods in a fresh random order."""
    methods = [parse_method(spec) for spec in specs]
    end = time.perf_counter() + args.warmup
    while time.perf_counter() < end:
        model(images, methods[0])
    samples = [[] for _ in specs]
    rng = random.Random(12345)
    order = list(range(len(specs)))
    for _ in range(args.rounds):
        rng.shuffle(order)
        for i in order:
            time_chunk(lambda: model(images, methods[i]), args.min_time / args.rounds,
                       max(1, args.min_samples // args.rounds), samples[i])
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["time", "logits"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--methods", default="none")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per method")
    parser.add_argument("--min-samples", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--weights")
    parser.add_argument("--input")
    parser.add_argument("--out")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    cfg = parse_model(args.model)
    model = ViT(cfg).eval()
    methods = method_list.split_methods(args.methods)
    if args.command == "logits":
        state = read_safetensors(args.weights)
        model.load_state_dict(state, strict=True)
        images = read_safetensors(args.input)["input"]
        with torch.inference_mode():
            for spec in methods:
                logits = model(images, parse_method(spec))
                write_safetensors(f"{args.out}/{spec}.safetensors", {"logits": logits})
        return
    images = torch.randn(args.batch, cfg["channels"], cfg["image"], cfg["image"])
    with torch.inference_mode():
        for spec, samples in zip(methods, measure_all(model, images, methods, args)):
            print(json.dumps({"impl": "pytorch", "model": args.model, "method": spec,
                              "batch": args.batch, "threads": torch.get_num_threads(),
                              "median_ms": statistics.median(samples),
                              "samples_ms": samples}), flush=True)

if __name__ == "__main__":
    main()
