#!/usr/bin/python3
"""Weight clustering (Tabani et al.; Deep Compression's weight sharing): top-1 and bytes against k.

For each k, `tailsweep-agent cluster` clusters the model's weight matrices to
k shared values per tensor (docs/cluster.md), then `tailsweep-agent eval`
measures top-1 on the test set with the clustered file (decoded at load), and
the dense model is evaluated in the same run as the baseline. Prints one
markdown table: k, top-1, its change against dense, file bytes, tensor bytes,
k-means iterations (the slowest tensor) and the clustering time.

Top-1 is deterministic (same images, same order); the clustering time is
one wall-clock measurement, shown for scale only.

  bench/clustering_accuracy.py [--build build] [--model fmnist-vit]
      [--weights results/models/fmnist-vit.safetensors] [--dataset fashion-mnist]
      [--clusters 16,32,64,128,256] [--init linear] [--limit N] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def run_json(cmd):
    completed = subprocess.run(cmd, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"failed ({completed.returncode}): {' '.join(cmd)}\n{completed.stderr}")
    return completed.stdout


def evaluate(args, weights, out):
    cmd = [os.path.join(args.build, "bin", "tailsweep-agent"), "eval", "--model", args.model,
           "--weights", weights, "--dataset", args.dataset, "--method", "none",
           "--batch", "100", "--out", out]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    run_json(cmd)
    with open(out) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--model", default="fmnist-vit")
    parser.add_argument("--weights", default="results/models/fmnist-vit.safetensors")
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--clusters", default="16,32,64,128,256")
    parser.add_argument("--init", default="linear", choices=["linear", "quantile"])
    parser.add_argument("--limit", type=int, help="class-stratified subset (default: all)")
    parser.add_argument("--json", help="write every report here")
    args = parser.parse_args()
    ks = [int(k) for k in args.clusters.split(",")]

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        print(f"dense: eval ...", file=sys.stderr, flush=True)
        dense = evaluate(args, args.weights, os.path.join(scratch, "dense.json"))
        dense_bytes = os.path.getsize(args.weights)
        for k in ks:
            print(f"k={k}: cluster, eval ...", file=sys.stderr, flush=True)
            clustered = os.path.join(scratch, f"k{k}.safetensors")
            report = json.loads(run_json(
                [os.path.join(args.build, "bin", "tailsweep-agent"), "cluster", "--model",
                 args.model, "--weights", args.weights, "--clusters", str(k), "--init",
                 args.init, "--out", clustered]))
            result = evaluate(args, clustered, os.path.join(scratch, f"k{k}.json"))
            rows.append({"k": k, "cluster": report, "eval": result})

    images = dense["images"]
    print(f"\n### Weight clustering, {args.model} on {images} {args.dataset} test images, "
          f"{args.init} init\n")
    print("| clusters per tensor | top-1 | change (points) | file bytes | tensor bytes "
          "(of dense) | tensors clustered | k-means steps (max) | clustering time |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| dense | {100 * dense['top1']:.2f}% | | {dense_bytes:,} | 100% | 0 | | |")
    for row in rows:
        c, e = row["cluster"], row["eval"]
        steps = max(t["iterations"] for t in c["clustered"])
        print(f"| {row['k']} | {100 * e['top1']:.2f}% | {100 * (e['top1'] - dense['top1']):+.2f} "
              f"| {c['file_bytes']:,} | "
              f"{100 * c['tensor_bytes_clustered'] / c['tensor_bytes_dense']:.1f}% | "
              f"{c['clustered_count']} | {steps} | {c['clustering_s']:.2f} s |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dense": dense, "clustered": rows}, f, indent=1)


if __name__ == "__main__":
    main()
