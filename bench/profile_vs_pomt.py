#!/usr/bin/python3
"""Curve measurement: tailsweep's rounds protocol against POMT's fixed time per point.

tailsweep measures in rounds (docs/profile.md): every point each round, until the
paired ratio to the all-token point has a 95% CI within the precision, or the
point's time cap (--time-cap, 0.4 s by default: a fifth of POMT's 2 s, so ours
spends at most a fifth of the device time by construction). POMT's offline_computation.py gives every point a fixed 2 s
(torch.utils.benchmark's blocked_autorange(min_run_time=2)), from 196 tokens
down: at least 392 s a curve. Both run here on the same engine, in the same
session, alternating (ours, POMT's, ours, POMT's), each twice, so that each
protocol's run-to-run agreement can be measured:
    agreement = median over n of |L1(n) - L2(n)| / L2(n),
and of the curve's shape, L(n) / L(197): for tailsweep the paired ratio of the
same rounds, for POMT each median over its own 197-token median.
POMT's protocol runs on a subset of the grid (its full curve would take 13+
minutes); its full-curve time is projected from its measured time per point.

  bench/profile_vs_pomt.py [--build build] [--model deit-tiny] [--precision 0.01]
                           [--time-cap 0.4] [--pomt-seconds 2] [--pomt-step 13] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def profile(args, tokens, extra):
    cmd = [os.path.join(args.build, "bin", "tailsweep-agent"), "profile", "--model", args.model,
           "--tokens", tokens, "--precision", str(args.precision)] + extra
    started = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.monotonic() - started
    report = json.loads(out)
    curve = {p["tokens"]: p["median_ms"] for p in report["points"]}
    top = max(curve)
    shape = {p["tokens"]: (p["ratio"]["median"] if p.get("ratio") else p["median_ms"] / curve[top])
             for p in report["points"] if p["tokens"] != top}
    return {"wall_s": wall, "measuring_s": report["elapsed_s"], "curve": curve, "shape": shape,
            "capped": report["method"]["points_at_time_cap"], "report": report}


def agreement(a, b, points):
    return statistics.median(abs(a[n] - b[n]) / b[n] for n in points)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--model", default="deit-tiny")
    parser.add_argument("--precision", type=float, default=0.01)
    parser.add_argument("--time-cap", type=float, default=0.4,
                        help="tailsweep's cap per point (seconds of samples, all rounds)")
    parser.add_argument("--pomt-seconds", type=float, default=2.0)
    parser.add_argument("--pomt-step", type=int, default=13,
                        help="POMT's protocol runs on every STEP-th token count")
    parser.add_argument("--json", help="write both protocols' curves here")
    args = parser.parse_args()

    full = "2:197"
    subset = f"2:197:{args.pomt_step}"
    runs = {}
    for label, tokens, extra in [
        ("tailsweep 1", full, ["--seed", "1", "--time-cap", str(args.time_cap)]),
        ("POMT 1", subset, ["--fixed-time", str(args.pomt_seconds)]),
        ("tailsweep 2", full, ["--seed", "2", "--time-cap", str(args.time_cap)]),
        ("POMT 2", subset, ["--fixed-time", str(args.pomt_seconds)]),
    ]:
        print(f"{label}: --tokens {tokens} ...", file=sys.stderr, flush=True)
        runs[label] = profile(args, tokens, extra)

    ours1, ours2 = runs["tailsweep 1"], runs["tailsweep 2"]
    pomt1, pomt2 = runs["POMT 1"], runs["POMT 2"]
    full_points = sorted(ours1["curve"])
    subset_points = sorted(pomt1["curve"])
    pomt_per_point = statistics.mean([pomt1["measuring_s"], pomt2["measuring_s"]]) / len(
        subset_points)
    ours_full = statistics.mean([ours1["measuring_s"], ours2["measuring_s"]])
    pomt_full = pomt_per_point * len(full_points)
    device = ours1["report"]["device"]

    print(f"\n### Curve measurement, {args.model}, batch 1, {device['name']} "
          f"({device['runtime']['intra_op_threads']} threads)\n")
    shape_subset = [n for n in subset_points if n in pomt1["shape"]]
    print("| protocol | points measured | measuring time (run 1, run 2) | time per point "
          "| full curve (196 points) | agreement of L(n) | agreement of L(n)/L(197) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| tailsweep, rounds, to {100 * args.precision:g}% or {args.time_cap:g} s a point "
          f"| {len(full_points)} "
          f"| {ours1['measuring_s']:.0f} s, {ours2['measuring_s']:.0f} s "
          f"| {ours_full / len(full_points):.2f} s | {ours_full:.0f} s (measured) "
          f"| {100 * agreement(ours1['curve'], ours2['curve'], full_points):.2f}% "
          f"(POMT's subset: "
          f"{100 * agreement(ours1['curve'], ours2['curve'], subset_points):.2f}%) "
          f"| {100 * agreement(ours1['shape'], ours2['shape'], sorted(ours1['shape'])):.2f}% "
          f"(POMT's subset: "
          f"{100 * agreement(ours1['shape'], ours2['shape'], shape_subset):.2f}%) |")
    print(f"| POMT, fixed {args.pomt_seconds:g} s a point, descending | {len(subset_points)} "
          f"| {pomt1['measuring_s']:.0f} s, {pomt2['measuring_s']:.0f} s "
          f"| {pomt_per_point:.2f} s | {pomt_full:.0f} s (projected) "
          f"| {100 * agreement(pomt1['curve'], pomt2['curve'], subset_points):.2f}% "
          f"| {100 * agreement(pomt1['shape'], pomt2['shape'], shape_subset):.2f}% |")
    print(f"\nSpeed-up on a full curve: {pomt_full / ours_full:.1f}x "
          f"(target >= 5x). Points at the time cap: {ours1['capped']}, {ours2['capped']}.")
    print("The two tailsweep runs use different order seeds; both protocols share the engine.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({label: run["curve"] for label, run in runs.items()}, f)


if __name__ == "__main__":
    main()
