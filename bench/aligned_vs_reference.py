#!/usr/bin/python3
"""POMT's own schedule against the step-aligned one, on the four simulated Jetsons.

For each simulated device and batch: a stride-1 latency curve of fmnist-vit
(`tailsweep-agent profile`, rounds), POMT's schedule from it and an accuracy
curve (`tailsweep schedule pomt`, --align reference and --align steps, on the
curve as the coordinator reads it: each point's paired ratio times the
all-token median), then both schedules timed in one latency job beside the
unpruned model (`profile --methods none pomt:R1 pomt:R2`): the saving each
measured, as 1 - its paired ratio, with the CI.

The accuracy curve is a CSV of `tokens,top1` (default: the committed main
job's, results/local-fleet/accuracy-curve-fmnist-vit-fashion-mnist-random.csv).
Simulated devices are always labelled simulated; their latency is the GPU
model's (docs/simulated-devices.md), not a measurement of a Jetson.

  bench/aligned_vs_reference.py [--build build] [--batches 1,4] [--accuracy CSV]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

DEVICES = ["jetson-nano", "jetson-tx2", "jetson-orin-nano", "jetson-agx-orin"]


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--batches", default="1,4")
    parser.add_argument("--accuracy",
                        default="results/local-fleet/accuracy-curve-fmnist-vit-fashion-mnist-random.csv")
    args = parser.parse_args()
    agent = os.path.join(args.build, "bin", "tailsweep-agent")
    tailsweep = os.path.join(args.build, "bin", "tailsweep")
    with open(args.accuracy) as f:
        accuracy = [(int(r["tokens"]), float(r["top1"])) for r in csv.DictReader(f)]

    print("### POMT's schedule (reference) and the step-aligned one, fmnist-vit, simulated Jetsons\n")
    print("| device | batch | n* | reference R (tokens after) | aligned R (tokens after) | "
          "step avoided | saving measured, reference | saving measured, aligned |")
    print("|---|---:|---:|---|---|---|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        acc_csv = os.path.join(work, "accuracy.csv")
        with open(acc_csv, "w") as f:
            f.write("tokens,top1\n" + "".join(f"{n},{a}\n" for n, a in accuracy))
        for device in DEVICES:
            for batch in args.batches.split(","):
                curve = json.loads(run([agent, "profile", "--model", "fmnist-vit", "--device",
                                        f"sim:{device}", "--batch", batch, "--tokens", "2:197",
                                        "--precision", "0.01", "--warmup", "0"]))
                points = {p["tokens"]: p for p in curve["points"]}
                top = points[max(points)]["median_ms"]
                lat_csv = os.path.join(work, "latency.csv")
                with open(lat_csv, "w") as f:
                    f.write("tokens,latency_ms\n")
                    for n, p in sorted(points.items()):
                        ms = p["ratio"]["median"] * top if p.get("ratio") else p["median_ms"]
                        f.write(f"{n},{ms}\n")
                schedules = {}
                for align in ("reference", "steps"):
                    schedules[align] = json.loads(run([tailsweep, "schedule", "pomt", "--latency",
                                                       lat_csv, "--accuracy", acc_csv, "--align",
                                                       align]))
                ref, ali = schedules["reference"], schedules["steps"]
                ref_method, ali_method = f"pomt:{ref['R']}", f"pomt:{ali['R']}"
                timed = json.loads(run([agent, "profile", "--model", "fmnist-vit", "--device",
                                        f"sim:{device}", "--batch", batch, "--methods", "none"]
                                       + sorted({ref_method, ali_method})
                                       + ["--precision", "0.005", "--warmup", "0"]))
                saving = {}
                for p in timed["points"]:
                    if p["method"] == "none":
                        continue
                    ratio = p["ratio"]
                    half = max(ratio["median"] - ratio["ci95_low"],
                               ratio["ci95_high"] - ratio["median"])
                    saving[p["method"]] = f"{100 * (1 - ratio['median']):.1f}% ±{100 * half:.1f}"
                below = ali.get("aligned_below_step")
                step = f"{below['tokens_below']}->{below['tokens_above']}" if below else "none near"
                print(f"| {device} (simulated) | {batch} | {ref['n_star']} | {ref['R']} "
                      f"({ref['tokens_after_pruning']}) | {ali['R']} ({ali['tokens_after_pruning']}) "
                      f"| {step} | {saving[ref_method]} | {saving[ali_method]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
