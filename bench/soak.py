#!/usr/bin/python3
"""Kill trials, repeated: agents and the coordinator SIGKILLed at random moments
during sweeps, with counts of what was lost or duplicated (docs/reliability.md).

Four runs of the same sweep (profile jobs of a tiny model, each run to its
time cap, on CPU agents of this machine; a fresh database each):
  baseline     no faults, for the time the sweep takes;
  agent-kill   every 0.5-1.5 s a random agent is SIGKILLed and started again at
               once on its state folder (its outbox), --agent-kills times;
  coord-kill   the coordinator is SIGKILLed at random moments and started
               again on the same database and port, --coordinator-kills times;
  proxy        the agents talk to the coordinator through a fault-injecting
               proxy (bench/faultproxy.py) that drops, resets, delays or
               truncates --fault-share of the requests, and partitions
               everything for --partition-s once the sweep is under way.
For each: jobs planned and done, results stored, results the agents were
told were stored (their log: "job N: posted: accepted", or "posted:
duplicate": the answer to a result posted again because the first answer was
lost), lost (acknowledged but not stored, or a job done without its result),
duplicated (a job whose stored rows are not exactly one result's: 3 curve
points and one measurement run), jobs that failed because every one of their
attempts was killed (the retry limit, --max-attempts in the sweep: no result,
every failure an expired lease), reruns (leases beyond each job's first:
work measured again), and the time against the baseline. The
target is 0 lost and 0 duplicated, every other job done. Exits 1
when a run misses it, or ended before all its kills (or its partition) were
done.

  bench/soak.py [--quick] [--agent-kills 20] [--coordinator-kills 10]
                [--fault-share 0.1] [--partition-s 30] [--max-attempts 3] [--out FILE]
--quick (CI): 5 agent kills, 3 coordinator kills and a 5 s partition on a
smaller sweep.
"""
import argparse
import os
import random
import shutil
import signal
import sys
import tempfile
import time

from faultproxy import FaultProxy
from trial_fleet import TrialFleet, count_sweep, exit_on_sigterm, publish, tiny_profile_sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(name, args, work, agent_kills=0, coordinator_kills=0, faulty_network=False):
    folder = os.path.join(work, name)
    os.makedirs(folder)
    fleet = TrialFleet(args.bin, folder, os.path.join(folder, "soak.db"))
    proxy = None
    rng = random.Random(args.seed + len(name))
    agents = [f"soak-{index}" for index in range(args.agents)]

    def start_agent(agent):
        fleet.start_agent(agent, os.path.join(folder, "state-" + agent),
                          proxy.listen_port if proxy else None)

    try:
        fleet.start_coordinator()
        if faulty_network:
            proxy = FaultProxy(fleet.port, args.fault_share, args.seed)
            proxy.start()
        for agent in agents:
            start_agent(agent)
        fleet.wait_registered(args.agents)
        started = time.time()
        sweep = fleet.admin("POST", "/v1/sweeps",
                            tiny_profile_sweep("soak", args.workloads, args.max_attempts))["sweep_id"]
        kills = {"agent": 0, "coordinator": 0}
        # The partition begins 3-6 s in, with every agent in the middle of a job.
        partition_at = time.time() + rng.uniform(3, 6) if faulty_network else None
        partition_ends = None
        next_fault = time.time() + rng.uniform(0.5, 1.5)
        deadline = time.time() + args.timeout
        while True:
            state, _ = fleet.progress(sweep)
            if state in ("done", "failed", "cancelled"):
                break
            if time.time() > deadline:
                raise RuntimeError(f"{name}: the sweep did not end in {args.timeout} s")
            if partition_at is not None and time.time() >= partition_at:
                proxy.partition(args.partition_s)
                partition_at, partition_ends = None, time.time() + args.partition_s
            if time.time() >= next_fault:
                if kills["agent"] < agent_kills:
                    agent = rng.choice(agents)
                    fleet.agents[agent].send_signal(signal.SIGKILL)
                    fleet.agents[agent].wait()
                    start_agent(agent)
                    kills["agent"] += 1
                elif kills["coordinator"] < coordinator_kills:
                    fleet.coordinator.send_signal(signal.SIGKILL)
                    fleet.coordinator.wait()
                    time.sleep(rng.uniform(0.1, 1.0))
                    fleet.start_coordinator()
                    kills["coordinator"] += 1
                next_fault = time.time() + rng.uniform(0.5, 1.5)
            time.sleep(0.1)
        ended = time.time()
        elapsed = ended - started
        acknowledged, duplicate_answers = fleet.acknowledged()
        faults = dict(proxy.counts) if proxy else {}
        fleet.stop()
        row = count_sweep(fleet.db, sweep, acknowledged)
        row.update({
            "run": name, "state": state, "agent_kills": kills["agent"],
            "coordinator_kills": kills["coordinator"], "acknowledged": len(acknowledged),
            "duplicate_answers": duplicate_answers, "network_faults": faults,
            "kills_asked": agent_kills + coordinator_kills, "seconds": elapsed,
            # a partition that had not ended when the sweep did proves less
            "partition_short": faulty_network and (
                partition_ends is None or partition_ends > ended)})
        return row
    finally:
        fleet.stop()
        if proxy:
            proxy.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI: fewer kills, a smaller sweep")
    parser.add_argument("--agent-kills", type=int, default=20)
    parser.add_argument("--coordinator-kills", type=int, default=10)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--workloads", type=int, default=30, help="profile jobs per agent")
    parser.add_argument("--fault-share", type=float, default=0.1,
                        help="share of the requests the proxy gives a fault")
    parser.add_argument("--partition-s", type=float, default=30,
                        help="how long the proxy stalls all traffic once")
    parser.add_argument("--max-attempts", type=int, default=3,
                        help="the sweep's retry limit (attempts per job)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per sweep at most")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    parser.add_argument("--out", help="also write the table (Markdown) here")
    args = parser.parse_args()
    exit_on_sigterm()
    if args.quick:
        args.agent_kills, args.coordinator_kills, args.workloads = 5, 3, 6
        args.partition_s = 5
    for tool in ("tailsweep", "tailsweep-agent"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            print(f"soak: no {tool} in {args.bin} (scripts/build.sh builds it)", file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="tailsweep-soak.")
    try:
        rows = [run_once("baseline", args, work),
                run_once("agent-kill", args, work, agent_kills=args.agent_kills),
                run_once("coord-kill", args, work, coordinator_kills=args.coordinator_kills),
                run_once("proxy", args, work, faulty_network=True)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows[0]["seconds"]
    lines = ["| fault | trials | jobs done / planned | failed: every attempt killed | "
             "results stored | acknowledged (of them: answered duplicate) | lost | duplicated | "
             "reruns | integrity | sweep time | extra time |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        faults = row["network_faults"]
        trials = {"baseline": "none", "agent-kill": f"{row['agent_kills']} agent SIGKILLs",
                  "coord-kill": f"{row['coordinator_kills']} coordinator SIGKILLs",
                  "proxy": (f"{sum(faults.get(f, 0) for f in ('drop', 'reset', 'delay', 'truncate'))}"
                            f" of {faults.get('requests', 0)} requests faulted "
                            f"({faults.get('drop', 0)} dropped, {faults.get('reset', 0)} reset, "
                            f"{faults.get('delay', 0)} delayed, {faults.get('truncate', 0)} "
                            f"truncated), a {args.partition_s:g} s partition")}[row["run"]]
        lines.append(
            f"| {row['run']} | {trials} | {row['done']} / {row['planned']} | "
            f"{row['retries_used_up']} | {row['stored']} | "
            f"{row['acknowledged']} ({row['duplicate_answers']}) | {row['lost']} | "
            f"{row['duplicated']} | {row['reruns']} | {row['integrity']} | "
            f"{row['seconds']:.1f} s | {row['seconds'] - base:+.1f} s |")
    machine = f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"
    text = "\n".join(lines) + (
        f"\n\n{args.agents} CPU agents, {args.workloads * args.agents} profile jobs a sweep (a tiny "
        f"model, each point to a 0.3 s cap), "
        f"lease TTL 3 s, {args.max_attempts} attempts a job; {machine}; {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}.\n")
    publish(text, args.out)
    # A sweep that ended before its kills were done proves less than it says.
    failed = [r for r in rows if r["lost"] or r["duplicated"]
              or r["done"] + r["retries_used_up"] != r["planned"] or r["integrity"] != "ok"
              or r["agent_kills"] + r["coordinator_kills"] < r["kills_asked"]
              or r["partition_short"]]
    if failed:
        print("soak: FAILED: " + ", ".join(r["run"] for r in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
