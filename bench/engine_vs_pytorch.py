#!/usr/bin/python3
"""Engine latency against PyTorch eager, same architecture, same machine, same run.

For each model: first a cross-check that tailsweep's logits match the PyTorch
peer's (bench/pytorch_vit.py) for every method on the same weights and images;
then ROUNDS alternating rounds of timing (engine, then PyTorch, then engine...),
pooling the samples of each, so that drift on a shared machine hits both alike.
Prints a Markdown table: median latency, IQR, the ratio engine/PyTorch (of the
pooled medians, and paired: the median over rounds of engine/PyTorch, each pair
measured back to back), the
engine's achieved GFLOP/s, and each method's cost over the baseline (paired:
the median over rounds of method/baseline, each pair measured back to back).

  bench/engine_vs_pytorch.py [--build build] [--models deit-tiny,deit-small]
                             [--rounds 3] [--min-time 2] [--threads 0] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import method_list  # noqa: E402  (same folder)
import pytorch_vit  # noqa: E402  (same folder)

import torch  # noqa: E402

METHODS = ["none", "topk:0", "pomt:0", "tome:0",
           "topk:8", "topk:13", "pomt:58", "pomt:98", "tome:8", "tome:13", "tome:16,-1"]


def run_json_lines(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def quartiles(samples):
    q = statistics.quantiles(samples, n=4)
    return q[0], q[2]


def cross_check(args, model, methods):
    """Max |logit difference| engine vs PyTorch per method, on peaky weights."""
    cfg = pytorch_vit.parse_model(model)
    torch.manual_seed(0)
    peer = pytorch_vit.ViT(cfg).eval()
    with torch.no_grad():  # larger q/k weights: decisive attention, few near-ties
        for block in peer.blocks:
            block.attn.qkv.weight.normal_(0, 2.0 / cfg["dim"] ** 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "w.safetensors")
        images = os.path.join(tmp, "in.safetensors")
        pytorch_vit.write_safetensors(weights, peer.state_dict())
        pytorch_vit.write_safetensors(
            images, {"input": torch.randn(2, cfg["channels"], cfg["image"], cfg["image"])})
        subprocess.run([sys.executable, os.path.join(HERE, "pytorch_vit.py"), "logits",
                        "--model", model, "--weights", weights, "--input", images,
                        "--methods", ",".join(methods), "--out", tmp, "--threads",
                        str(args.threads or os.cpu_count())], check=True)
        diffs = {}
        for spec in methods:
            ours = os.path.join(tmp, "ours.safetensors")
            subprocess.run([os.path.join(args.build, "bin", "tailsweep-agent"), "infer",
                            "--model", model, "--weights", weights, "--input", images,
                            "--method", spec, "--out", ours], check=True,
                           capture_output=True)
            a = pytorch_vit.read_safetensors(ours)["logits"]
            b = pytorch_vit.read_safetensors(os.path.join(tmp, f"{spec}.safetensors"))["logits"]
            diffs[spec] = (a - b).abs().max().item() / b.abs().max().item()
        return diffs


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--models", default="deit-tiny,deit-small")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-time", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=0, help="0 = one per core")
    parser.add_argument("--json", help="also write every sample here")
    parser.add_argument("--skip-check", action="store_true")
    args = parser.parse_args()
    threads = args.threads or os.cpu_count()
    methods = method_list.split_methods(args.methods)
    report = {"threads": threads, "batch": args.batch, "models": {}}

    for model in args.models.split(","):
        diffs = {} if args.skip_check else cross_check(args, model, methods)
        pooled = {}
        for round_index in range(args.rounds):
            common = ["--model", model, "--methods", ",".join(methods), "--batch",
                      str(args.batch), "--threads", str(threads), "--min-time",
                      str(args.min_time / args.rounds), "--warmup", "0.5"]
            engine_cmd = [os.path.join(args.build, "bin", "tailsweep-bench-engine")] + common
            peer_cmd = [sys.executable, os.path.join(HERE, "pytorch_vit.py"), "time"] + common
            # Alternate who goes first, so neither always runs on a warmer machine.
            if round_index % 2 == 0:
                engine, peer = run_json_lines(engine_cmd), run_json_lines(peer_cmd)
            else:
                peer, engine = run_json_lines(peer_cmd), run_json_lines(engine_cmd)
            for line in engine + peer:
                entry = pooled.setdefault((line["impl"], line["method"]),
                                          {"samples": [], "rounds": [], "outer": [],
                                           "meta": line})
                entry["samples"].extend(line["samples_ms"])
                entry["rounds"].extend(line.get("round_medians_ms", []))
                entry["outer"].append(statistics.median(line["samples_ms"]))
            print(f"{model}: round {round_index + 1}/{args.rounds} done", file=sys.stderr)

        meta = pooled[("tailsweep", "none")]["meta"]
        print(f"\n### {model}, batch {args.batch}, {threads} threads\n")
        print(f"tailsweep GEMMs: {meta.get('gemm', '?')}; BLAS: {meta.get('blas', '?')}; "
              f"PyTorch {torch.__version__} eager, same BLAS.\n")
        print("| method | tailsweep ms (IQR) | PyTorch ms (IQR) | ratio of medians "
              "| paired ratio | GFLOP/s | vs baseline | max rel. logit diff |")
        print("|---|---|---|---|---|---|---|---|---|")
        base_rounds = pooled[("tailsweep", "none")]["rounds"]
        rows = []
        for spec in methods:
            ours = pooled[("tailsweep", spec)]
            theirs = pooled[("pytorch", spec)]
            m_ours = statistics.median(ours["samples"])
            m_theirs = statistics.median(theirs["samples"])
            q1, q3 = quartiles(ours["samples"])
            p1, p3 = quartiles(theirs["samples"])
            gflops = ours["meta"]["gflop"] / (m_ours / 1e3)
            # Paired: each round's method median over the same round's
            # baseline median (measured back to back), then the median ratio.
            vs_base = statistics.median(m / b for m, b in zip(ours["rounds"], base_rounds))
            # Paired against PyTorch too: per outer round, the engine's median
            # over PyTorch's, measured back to back; then the median ratio.
            # On a machine that flips between fast and slow states this is
            # steadier than the ratio of pooled medians.
            paired = statistics.median(a / b for a, b in zip(ours["outer"], theirs["outer"]))
            diff = diffs.get(spec)
            print(f"| {spec} | {m_ours:.2f} ({q1:.2f}-{q3:.2f}) | {m_theirs:.2f} "
                  f"({p1:.2f}-{p3:.2f}) | {m_ours / m_theirs:.3f} | {paired:.3f} | {gflops:.1f} | "
                  f"{100 * (vs_base - 1):+.1f}% | "
                  f"{'-' if diff is None else f'{diff:.1e}'} |")
            rows.append({"method": spec, "paired_ratio": paired,
                         "tailsweep_ms": ours["samples"],
                         "pytorch_ms": theirs["samples"], "gflop": ours["meta"]["gflop"],
                         "logit_rel_diff": diff})
        report["models"][model] = rows
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f)


if __name__ == "__main__":
    main()
