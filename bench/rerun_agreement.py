#!/usr/bin/python3
"""Does a rerun confirm the numbers? The rounds protocol against the blocks protocol.

Every run here is `tailsweep-agent profile` on this machine's CPU. Each protocol runs
twice, alternating (rounds, blocks, rounds, blocks), so both see the same machine:

1. Method latencies (a latency job): fmnist-vit at batch 1 and 4, the baseline, POMT
   and Top-K/ToMe candidates. Per configuration, its change against the unpruned model
   in run 1 and in run 2. Rounds: the paired ratio of the same rounds. Blocks: the
   ratio of the two medians, each measured in its own block (what the paper table
   showed before rounds). Reported: the median and the worst absolute difference
   between the runs, in percentage points (targets: <= 2 and <= 5).
2. A curve (deit-tiny, 2:197:5 by default): the share of points whose two 95% CIs are
   disjoint (target <= 10%) and the agreement, median over n of |L1(n) - L2(n)| / L2(n),
   both for the latency as measured and, in rounds, for the paired ratio to the
   all-token point; and the steps found in each run by the rule of
   analysis/latency_steps.h on the curve as the coordinator reads it (on its
   reference's scale in rounds). A step one run finds and the other does not is a
   false step.

  bench/rerun_agreement.py [--build build] [--quick] [--precision 0.02] [--json FILE]

--quick (CI): a 4-method latency job at batch 1 and a 9-point curve of fmnist-vit,
small caps; the table is printed, nothing is asserted.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

FULL_METHODS = ["none", "pomt:123", "topk:8", "topk:17", "topk:18", "topk:21", "topk:22",
                "tome:8", "tome:24", "tome:27", "tome:29"]
QUICK_METHODS = ["none", "topk:17", "tome:8", "pomt:123"]


def run_profile(args, protocol, extra):
    cmd = [os.path.join(args.build, "bin", "tailsweep-agent"), "profile", "--protocol", protocol,
           "--precision", str(args.precision)] + extra
    started = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    report["wall_s"] = time.monotonic() - started
    return report


def changes(report):
    """(batch, method) -> change against none, as a fraction."""
    none = {p["batch"]: p["median_ms"] for p in report["points"] if p["method"] == "none"}
    out = {}
    for p in report["points"]:
        if p["method"] == "none":
            continue
        if p.get("ratio"):
            out[(p["batch"], p["method"])] = p["ratio"]["median"] - 1
        else:
            out[(p["batch"], p["method"])] = p["median_ms"] / none[p["batch"]] - 1
    return out


def absolute(report):
    """tokens -> (median, ci_low, ci_high) as measured (the CI of the round medians in rounds)."""
    out = {}
    for p in report["points"]:
        low = p["median_ci95_low_ms"] if p["median_ci95_low_ms"] is not None else p["median_ms"]
        high = p["median_ci95_high_ms"] if p["median_ci95_high_ms"] is not None else p["median_ms"]
        out[p["tokens"]] = (p["median_ms"], low, high)
    return out


def ratios(report):
    """tokens -> (ratio, ci_low, ci_high) to the all-token point; empty in blocks."""
    out = {}
    for p in report["points"]:
        ratio = p.get("ratio")
        if ratio and ratio["ci95_low"] is not None:
            out[p["tokens"]] = (ratio["median"], ratio["ci95_low"], ratio["ci95_high"])
    return out


def paired_scale(report):
    """The curve as the coordinator reads it (schedule::paired_curve): ratio x the reference's
    median, with the ratio's CI; the reference exact; unpaired points as measured."""
    measured = absolute(report)
    out = dict(measured)
    for p in report["points"]:
        ratio = p.get("ratio")
        if ratio and ratio["to"].get("tokens") in measured:
            reference = ratio["to"]["tokens"]
            scale = measured[reference][0]
            low = ratio["ci95_low"] if ratio["ci95_low"] is not None else ratio["median"]
            high = ratio["ci95_high"] if ratio["ci95_high"] is not None else ratio["median"]
            out[p["tokens"]] = (ratio["median"] * scale, low * scale, high * scale)
            out[reference] = (scale, scale, scale)
    return out


def disjoint_share(a, b):
    common = sorted(set(a) & set(b))
    if not common:
        return "n/a"
    disjoint = sum(1 for n in common if a[n][1] > b[n][2] or b[n][1] > a[n][2])
    return f"{disjoint}/{len(common)} ({100 * disjoint / len(common):.0f}%)"


def agreement(a, b):
    common = sorted(set(a) & set(b))
    if not common:
        return "n/a"
    return f"{100 * statistics.median(abs(a[n][0] - b[n][0]) / b[n][0] for n in common):.2f}%"


def steps(points, min_rise_fraction=0.02, slope_factor=3.0):
    """analysis/latency_steps.h's rule, on {tokens: (median, low, high)}."""
    tokens = sorted(points)
    rises = [abs(points[b][0] - points[a][0]) for a, b in zip(tokens, tokens[1:])]
    if not rises:
        return []
    typical = sorted(rises)[len(rises) // 2]
    found = []
    for a, b in zip(tokens, tokens[1:]):
        rise = points[b][0] - points[a][0]
        if (points[b][1] > points[a][2] and rise >= min_rise_fraction * points[a][0]
                and rise >= slope_factor * typical):
            found.append(f"{a}->{b}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--precision", type=float, default=None,
                        help="default 0.02 for methods and 0.01 for the curve (0.05 with --quick)")
    parser.add_argument("--json", help="write every run's document here")
    args = parser.parse_args()

    weights = "results/models/fmnist-vit.safetensors"
    if args.quick:
        method_args = ["--model", "fmnist-vit", "--weights", weights, "--batch", "1",
                       "--methods"] + QUICK_METHODS + ["--time-cap", "0.5", "--warmup", "0.2"]
        curve_args = ["--model", "fmnist-vit", "--tokens", "2:197:24", "--time-cap", "0.5",
                      "--warmup", "0.2"]
        method_precision = curve_precision = args.precision or 0.05
    else:
        method_args = ["--model", "fmnist-vit", "--weights", weights, "--batch", "1,4",
                       "--methods"] + FULL_METHODS + ["--time-cap", "3", "--warmup", "1"]
        curve_args = ["--model", "deit-tiny", "--tokens", "2:197:5", "--time-cap", "3",
                      "--warmup", "1"]
        method_precision = args.precision or 0.02
        curve_precision = args.precision or 0.01

    runs = {}
    for what, extra, precision in [("methods", method_args, method_precision),
                                   ("curve", curve_args, curve_precision)]:
        args.precision = precision
        for attempt in (1, 2):
            for protocol in ("rounds", "blocks"):
                label = f"{what} {protocol} {attempt}"
                print(f"running {label} ...", file=sys.stderr, flush=True)
                runs[label] = run_profile(args, protocol, extra + ["--seed", str(attempt)])

    print(f"### Reruns on this CPU ({os.uname().nodename}), "
          f"{runs['methods rounds 1']['device']['name']}\n")
    print("Method latencies: change against the unpruned model, run 1 against run 2 "
          f"({method_precision:.0%} precision)\n")
    print("| protocol | configurations | median abs difference (pts) | worst (pts) | "
          "time per run (s) | sentinel drift (run 1, run 2) |")
    print("|---|---:|---:|---:|---|---|")
    for protocol in ("rounds", "blocks"):
        one, two = runs[f"methods {protocol} 1"], runs[f"methods {protocol} 2"]
        c1, c2 = changes(one), changes(two)
        diffs = [100 * abs(c1[k] - c2[k]) for k in c1 if k in c2]
        drift = ", ".join(
            f"{100 * (r['rounds']['drift'] - 1):.1f}%" if r.get("rounds") else "n/a"
            for r in (one, two))
        print(f"| {protocol} | {len(diffs)} | {statistics.median(diffs):.2f} | {max(diffs):.2f} | "
              f"{one['elapsed_s']:.0f}, {two['elapsed_s']:.0f} | {drift} |")
    print()
    for protocol in ("rounds", "blocks"):
        c1 = changes(runs[f"methods {protocol} 1"])
        c2 = changes(runs[f"methods {protocol} 2"])
        cells = ", ".join(f"b{b} {m} {100 * c1[(b, m)]:+.1f}/{100 * c2[(b, m)]:+.1f}"
                          for (b, m) in sorted(c1) if (b, m) in c2)
        print(f"- {protocol}: {cells}")

    model = curve_args[curve_args.index("--model") + 1]
    grid = curve_args[curve_args.index("--tokens") + 1]
    print(f"\nThe {model} curve ({grid}, {curve_precision:.0%} precision), run 1 against run 2\n")
    print("| protocol | latency CIs disjoint | agreement | ratio CIs disjoint | ratio agreement | "
          "steps run 1 | steps run 2 | time per run (s) |")
    print("|---|---:|---:|---:|---:|---|---|---|")
    for protocol in ("rounds", "blocks"):
        one, two = runs[f"curve {protocol} 1"], runs[f"curve {protocol} 2"]
        s1, s2 = steps(paired_scale(one)), steps(paired_scale(two))
        print(f"| {protocol} | {disjoint_share(absolute(one), absolute(two))} | "
              f"{agreement(absolute(one), absolute(two))} | "
              f"{disjoint_share(ratios(one), ratios(two))} | {agreement(ratios(one), ratios(two))} | "
              f"{', '.join(s1) or 'none'} | {', '.join(s2) or 'none'} | "
              f"{one['elapsed_s']:.0f}, {two['elapsed_s']:.0f} |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(runs, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
