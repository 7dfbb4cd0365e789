#!/usr/bin/python3
"""Hybrid Dynamic Pruning (Jaradat et al.; docs/hdp.md): top-1 against the attention work skipped.

For each HDP setting, `tailsweep-agent eval` measures top-1 on the same
class-stratified test images as the unpruned model (evaluated in the same
run, the baseline), with what HDP pruned: heads, 2x2 blocks, the attention
multiply-accumulates skipped and the logits approximated. Prints one
markdown table, sorted by the work skipped, and the setting that skips the
most within --max-loss points of top-1.

The eval's own latency (one batch, to its stopping rule) is shown for scale:
it is the CPU's cost of the emulation, not the co-processor's speed.

  bench/hdp_grid.py [--build build] [--model fmnist-vit]
      [--weights results/models/fmnist-vit.safetensors] [--limit 2000]
      [--settings "hdp:heads=0.1,hdp:blocks=0.5,..."] [--max-loss 1.0] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import method_list  # noqa: E402  (same folder)

DEFAULT_SETTINGS = ",".join([
    "hdp:heads=0.05", "hdp:heads=0.1", "hdp:heads=0.2", "hdp:heads=0.3",
    "hdp:blocks=0.75", "hdp:blocks=0.5", "hdp:blocks=0.25",
    "hdp:approx=1,frac=8", "hdp:approx=1,frac=4", "hdp:approx=1,frac=2",
    "hdp:heads=0.1,blocks=0.5", "hdp:heads=0.1,blocks=0.5,approx=1,frac=4",
    "hdp:heads=0.05,blocks=0.75,approx=1,frac=6",
])


def evaluate(args, method, folder):
    out = os.path.join(folder, "eval.json")
    cmd = [os.path.join(args.build, "bin", "tailsweep-agent"), "eval", "--model", args.model,
           "--weights", args.weights, "--method", method, "--batch", "100", "--out", out]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    completed = subprocess.run(cmd, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"failed ({completed.returncode}): {' '.join(cmd)}\n{completed.stderr}")
    with open(out) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--model", default="fmnist-vit")
    parser.add_argument("--weights", default="results/models/fmnist-vit.safetensors")
    parser.add_argument("--limit", type=int, default=2000, help="images (0: the whole test set)")
    parser.add_argument("--settings", default=DEFAULT_SETTINGS, help="method specs, comma-separated")
    parser.add_argument("--max-loss", type=float, default=1.0, help="points of top-1")
    parser.add_argument("--json", help="also write every eval document here")
    args = parser.parse_args()

    documents = []
    with tempfile.TemporaryDirectory() as folder:
        for method in ["none"] + method_list.split_methods(args.settings):
            print(f"eval {method} ...", file=sys.stderr, flush=True)
            documents.append(evaluate(args, method, folder))
    baseline = documents[0]
    rows = []
    for d in documents:
        h = d.get("hdp") or {}
        macs = h.get("attention_macs", 0)
        rows.append({
            "method": d["method"],
            "top1": 100 * d["top1"],
            "change": 100 * (d["top1"] - baseline["top1"]),
            "heads": 100 * h.get("heads_pruned_share", 0),
            "blocks": 100 * h.get("blocks_pruned_share", 0),
            "skipped": 100 * h.get("attention_macs_skipped_share", 0),
            # Half the attention MACs are Q.K^T's; each approximated logit drops d of them.
            "approximated": 100 * h.get("frac_macs_dropped", 0) / (macs / 2) if macs else 0,
            "latency_ms": d["latency"]["median_ms"] if d.get("latency") else None,
        })
    rows.sort(key=lambda r: (r["skipped"], r["approximated"]))
    print(f"{args.model} on {baseline['images']} images of {baseline['dataset']} {baseline['split']}"
          f" (weights {args.weights}); the same images for every setting\n")
    print("| setting | top-1 % | change (points) | heads pruned | blocks pruned | attention MACs "
          "skipped | logits approximated | eval latency, batch 100 (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        latency = f"{r['latency_ms']:.0f}" if r["latency_ms"] is not None else ""
        print(f"| {r['method']} | {r['top1']:.2f} | {r['change']:+.2f} | {r['heads']:.1f}% | "
              f"{r['blocks']:.1f}% | {r['skipped']:.1f}% | {r['approximated']:.1f}% | {latency} |")
    within = [r for r in rows if r["change"] >= -args.max_loss and r["method"] != "none"]
    if within:
        best = max(within, key=lambda r: r["skipped"])
        print(f"\nMost attention work skipped within {args.max_loss} points of top-1: "
              f"{best['method']} ({best['skipped']:.1f}% skipped, {best['change']:+.2f} points)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(documents, f)


if __name__ == "__main__":
    main()
