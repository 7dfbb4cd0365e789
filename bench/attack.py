#!/usr/bin/python3
"""Hostile clients against a coordinator that serves agents: does it keep
serving them, and what happens to their lease p99 (docs/reliability.md)?

Six phases, each on a fresh `tailsweep serve` (127.0.0.1, a small
--max-connections so that a flood past it is feasible here) with
tailsweep-loadgen's agents paced well below saturation (100 x 1 job/s), and,
from this process, for the whole of the agents' work:
  quiet         no attack: the reference;
  slowloris     half the cap in connections, each a partial header, one more
                byte every 2 s, never finished; reopened when closed;
  flood         cap + 200 connections held, reopened at once when closed;
  oversized     a 64 KiB header; Content-Length 100 MB; an endless chunked
                body; a 256 MiB chunk: each streamed (to 100 MB) until the
                server stops reading, one loop each;
  big-bodies    --big-bodies connections (40), each announcing a 16 MB body
                with a wrong token and sending all but its last 100 kB, then
                holding: bodies are read before tokens are looked at, so only
                the server's body budget bounds their memory;
  wrong-tokens  4 keep-alive connections, back to back: agent, enroll and
                admin routes with wrong or no bearer tokens.
Per phase: lease p50/p99/max and p99 against quiet's, jobs, agent errors, how
the attacker was answered, /healthz during (a connection opened before) and
after (a new one), the coordinator's peak RSS and CPU, whether it is alive.
Exits 1 when the coordinator died or stopped answering, the agents got errors
or under half of quiet's jobs, or a limit did not apply (a 2xx, no 503 past
the cap, no 4xx for an oversized request, not 401 for a wrong token, a
slowloris connection past the read timeout, no 503 past the body budget or a
peak RSS past it); 2 when the binaries are missing.

  bench/attack.py [--quick] [--seconds 40] [--agents 100] [--max-connections 300]
      [--out results/bench/attack.md]
--quick (CI): 8 s phases, every attack still run.
"""
import argparse
import asyncio
import errno
import itertools
import json
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

from trial_fleet import exit_on_sigterm, stop_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
READ_TIMEOUT_S = 15  # the server's read_timeout (docs/http.md), not settable
STREAM_CAP = 100_000_000  # bytes an oversized request streams at most


class Tally:
    """How the attacker's attempts ended: outcome -> count, and how long they took."""

    def __init__(self):
        self.outcomes, self.seconds, self.most_sent = Counter(), defaultdict(list), 0

    def add(self, outcome, seconds=None):
        self.outcomes[outcome] += 1
        if seconds is not None:
            self.seconds[outcome].append(seconds)


def failure(exc):
    if isinstance(exc, asyncio.IncompleteReadError):
        return "closed mid-answer" if exc.partial else "closed, no answer"
    for kind, name in ((ConnectionResetError, "reset"), (BrokenPipeError, "reset"),
                       (ConnectionRefusedError, "refused"), (TimeoutError, "no answer in time")):
        if isinstance(exc, kind):
            return name
    return errno.errorcode.get(getattr(exc, "errno", None) or -1, type(exc).__name__)


async def connect(port):
    return await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)


async def read_response(reader):
    """Status, body and whether the server closes, of one HTTP/1.1 answer."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
    body = await reader.readexactly(int(fields.get("content-length", "0")))
    return int(head[0].split()[1]), body, fields.get("connection", "").lower() == "close"


async def attack_loop(port, stop, tally, exchange, *extra, label=""):
    """Connects again and again until stop; exchange(reader, writer, ...) attacks
    on one connection and returns how it ended (None: it counted that itself)."""
    while not stop.is_set():
        start = time.monotonic()
        try:
            reader, writer = await connect(port)
        except Exception as exc:  # refused, or out of ports: again, soon
            tally.add(label + failure(exc))
            await asyncio.sleep(0.05)
            continue
        try:
            outcome = await exchange(reader, writer, stop, tally, *extra)
        except Exception as exc:
            outcome = failure(exc)
        finally:
            writer.close()
        if outcome:
            tally.add(label + outcome, time.monotonic() - start)


async def held(reader, writer, stop, tally, trickle_s=None):
    """Slowloris (trickle_s: one more header byte that often, never the end of
    the header) or a flood connection (None: nothing sent): held until the
    server answers or closes."""
    if trickle_s:
        writer.write(b"POST /v1/lease HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    while not stop.is_set():
        read, stopping = asyncio.ensure_future(reader.read(65536)), asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({read, stopping}, timeout=trickle_s,
                                     return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if read in done:
            found = re.match(rb"HTTP/1\.\d (\d{3})", read.result())
            return f"HTTP {int(found.group(1))}" if found else "closed, no answer"
        read.cancel()
        if trickle_s and not stop.is_set():
            writer.write(b"a")
            await writer.drain()
    return "held to the end"


def request(method, path, token=None, body=b"", framing=None):
    auth = "" if token is None else f"Authorization: Bearer {token}\r\n"
    framing = framing or f"Content-Type: application/json\r\nContent-Length: {len(body)}"
    return f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{auth}{framing}\r\n\r\n".encode() + body


OVERSIZED = {  # name: (sent first, then streamed until the server stops reading)
    "64 KiB header": (request("GET", "/healthz", framing="X-Pad: " + "a" * 65536), None),
    "Content-Length 100 MB": (request("POST", "/v1/sweeps", "wrong", framing="Content-Length: "
                                      "100000000"), b"x" * 65536),
    "endless chunked": (request("POST", "/v1/lease", "wrong", framing="Transfer-Encoding: chunked"),
                        b"10000\r\n" + b"x" * 65536 + b"\r\n"),
    "256 MiB chunk": (request("POST", "/v1/lease", "wrong", framing="Transfer-Encoding: chunked")
                      + b"10000000\r\n", b"x" * 65536),
}


async def oversized(reader, writer, stop, tally, head, chunk):
    answer, sent = asyncio.ensure_future(read_response(reader)), 0
    try:
        writer.write(head)
        await writer.drain()
        # A hostile client streams on after the answer: this shows how much
        # the server still reads before it closes.
        while chunk and sent < STREAM_CAP and not stop.is_set():
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
    except OSError:
        pass  # the server stopped reading: expected once it has answered
    tally.most_sent = max(tally.most_sent, sent)
    try:
        return f"HTTP {(await asyncio.wait_for(answer, 5))[0]}"
    except Exception as exc:  # cut off by the phase's end: no verdict
        return "stopped by us" if stop.is_set() else failure(exc)


BIG_BODY = 16 * 1024 * 1024  # serve's --max-body-bytes: the most one request may hold


async def big_body(reader, writer, stop, tally):
    """Announces a 16 MB body with a wrong token and sends all of it but the
    last 100 kB, then holds: the server buffers what came, before it can look
    at the token. Its body budget (--max-buffered-body-bytes) bounds the sum."""
    answer = asyncio.ensure_future(read_response(reader))
    sent = 0
    try:
        writer.write(request("POST", "/v1/lease", "wrong",
                             framing=f"Content-Type: application/json\r\nContent-Length: {BIG_BODY}"))
        while sent < BIG_BODY - 100_000 and not stop.is_set() and not answer.done():
            writer.write(b"x" * 65536)
            await writer.drain()
            sent += 65536
    except OSError:
        pass
    tally.most_sent = max(tally.most_sent, sent)
    try:
        return f"HTTP {(await asyncio.wait_for(answer, READ_TIMEOUT_S + 5))[0]}"
    except Exception as exc:
        return "stopped by us" if stop.is_set() else failure(exc)


def wrong_token_requests():
    """Every route family with a wrong or no token, endlessly."""
    agent, admin = secrets.token_hex(32), secrets.token_urlsafe(24)
    register = json.dumps({"name": "intruder", "kind": "sim", "tags": [], "facts": {},
                           "version": "0", "git_sha": "0"}).encode()
    return itertools.cycle([
        request("POST", "/v1/lease", agent, b'{"wait_s": 0}'),
        request("POST", "/v1/jobs/1/heartbeat", agent, b'{"lease_id": "00"}'),
        request("POST", "/v1/agents/register", agent, register),
        request("POST", "/v1/agents/register", None, register),
        request("GET", "/v1/sweeps", admin), request("POST", "/v1/sql", admin, b'{"sql": "SELECT 1"}'),
        request("GET", "/v1/devices", None)])


async def wrong_tokens(reader, writer, stop, tally, requests):
    while not stop.is_set():  # keep-alive, back to back
        writer.write(next(requests))
        status, _, close = await asyncio.wait_for(read_response(reader), 10)
        tally.add(f"HTTP {status}")
        if close:
            break


def attacks(args):
    """name -> (description, the coroutines that attack until stop is set)"""
    slow, flood = args.max_connections // 2, args.max_connections + 200
    loop = attack_loop
    return {
        "quiet": ("none", lambda p, s, t: []),
        "slowloris": (f"{slow} connections, a partial header, 1 byte / 2 s, reopened when closed",
                      lambda p, s, t: [loop(p, s, t, held, 2.0) for _ in range(slow)]),
        "flood": (f"{flood} connections held (cap {args.max_connections}, {args.agents + 1} "
                  "taken by agents and the monitor), reopened at once when closed",
                  lambda p, s, t: [loop(p, s, t, held) for _ in range(flood)]),
        "oversized": ("4 loops: " + "; ".join(OVERSIZED) + " (streamed up to 100 MB)",
                      lambda p, s, t: [loop(p, s, t, oversized, *v, label=k + ": ")
                                       for k, v in OVERSIZED.items()]),
        "big-bodies": (f"{args.big_bodies} connections, each a 16 MB body with a wrong token "
                       "sent but for its last 100 kB, then held; reopened when closed",
                       lambda p, s, t: [loop(p, s, t, big_body) for _ in range(args.big_bodies)]),
        "wrong-tokens": ("4 keep-alive connections, back to back: lease, heartbeat, register, "
                         "sweeps, sql, devices with wrong or no bearer token",
                         lambda p, s, t: [loop(p, s, t, wrong_tokens, wrong_token_requests())
                                          for _ in range(4)]),
    }


class Monitor:
    """A keep-alive connection opened before the attack: /healthz and /metrics."""

    def __init__(self, port):
        self.port, self.conn = port, None
        self.health_ms, self.health_failed, self.open_max = [], Counter(), 0

    async def get(self, path):
        if self.conn is None:
            self.conn = await connect(self.port)
        try:
            self.conn[1].write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
            status, body, close = await asyncio.wait_for(read_response(self.conn[0]), 5)
        except Exception:
            close = True
            raise
        finally:
            if close:
                self.close()
        return status, body.decode()

    def close(self):
        if self.conn:
            self.conn[1].close()
        self.conn = None

    async def watch(self, stop):
        while not stop.is_set():
            start = time.monotonic()
            try:
                status, _ = await self.get("/healthz")
                self.health_ms.append((time.monotonic() - start) * 1000)
                if status != 200:
                    self.health_failed[f"HTTP {status}"] += 1
                found = re.search(r"^tailsweep_http_open_connections (\d+)",
                                  (await self.get("/metrics"))[1], re.M)
                self.open_max = max(self.open_max, int(found.group(1)))
            except Exception as exc:
                self.health_failed[failure(exc)] += 1
            await asyncio.sleep(0.5)


async def fresh_health(port):
    """Whether /healthz answers 200 on a new connection within about 5 s."""
    for _ in range(20):
        probe = Monitor(port)
        try:
            if (await probe.get("/healthz"))[0] == 200:
                return True
        except Exception:
            pass
        finally:
            probe.close()
        await asyncio.sleep(0.25)
    return False


def cpu_s(pid=None):
    """CPU seconds (user + system) of a process, or of this one."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(port, coordinator, loadgen, make_attack, row, args):
    monitor = Monitor(port)
    deadline = time.monotonic() + 60
    # The attack starts once the sweep exists: a flood before would also
    # refuse the loadgen's own admin connection that creates it.
    while loadgen.poll() is None and time.monotonic() < deadline:
        try:
            if re.search(r"^tailsweep_jobs\{[^}]*\} [1-9]", (await monitor.get("/metrics"))[1], re.M):
                break
        except Exception:
            pass
        await asyncio.sleep(0.05)
    stop, tally = asyncio.Event(), Tally()
    cpu0, own0, start = cpu_s(coordinator.pid), cpu_s(), time.monotonic()
    tasks = [asyncio.ensure_future(c) for c in make_attack(port, stop, tally)]
    watcher = asyncio.ensure_future(monitor.watch(stop))
    while loadgen.poll() is None and time.monotonic() < start + args.seconds + 60:
        await asyncio.sleep(0.2)
    stop.set()
    row["attack_s"] = time.monotonic() - start
    row["coordinator_cores"] = (cpu_s(coordinator.pid) - cpu0) / row["attack_s"]
    if tasks:
        _, late = await asyncio.wait(tasks, timeout=10)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    row["attacker_cores"] = (cpu_s() - own0) / row["attack_s"]
    await watcher
    monitor.close()
    row["tally"], row["monitor"] = tally, monitor
    row["alive"] = coordinator.poll() is None
    row["health_after"] = row["alive"] and await fresh_health(port)


def run_phase(name, description, make_attack, args, work):
    """A fresh coordinator and loadgen, the attack while the agents work: a row."""
    folder = os.path.join(work, name)
    os.makedirs(folder)
    port_file, out = os.path.join(folder, "port"), os.path.join(folder, "loadgen.json")
    env = dict(os.environ, TAILSWEEP_ENROLL_TOKEN=secrets.token_hex(16),
               TAILSWEEP_ADMIN_TOKEN=secrets.token_hex(16))
    coordinator = loadgen = None
    row = {"phase": name, "attack": description}
    try:
        with open(os.path.join(folder, "serve.log"), "w") as log:
            coordinator = subprocess.Popen(
                [os.path.join(args.bin, "tailsweep"), "serve", "--db", os.path.join(folder, "c.db"),
                 "--listen", f"{HOST}:0", "--port-file", port_file,
                 "--max-connections", str(args.max_connections)],
                env=env, stdout=subprocess.DEVNULL, stderr=log)
        for _ in range(200):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{name}: the coordinator did not start")
        port = int(open(port_file).read())
        # Enough jobs that the agents never run out within the phase.
        loadgen = subprocess.Popen(
            [os.path.join(args.bin, "tailsweep-loadgen"), "--port", str(port),
             "--agents", str(args.agents), "--workloads", str(int(args.seconds * args.rate) + 5),
             "--duration-s", str(args.seconds), "--jobs-per-s-per-agent", str(args.rate),
             "--out", out], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"attack: {name}: coordinator pid {coordinator.pid} on port {port}", file=sys.stderr)
        asyncio.run(drive(port, coordinator, loadgen, make_attack, row, args))
        if row["alive"]:
            status = open(f"/proc/{coordinator.pid}/status").read()
            row["hwm_mb"] = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        stop_process(loadgen)  # it has normally exited already
        row["loadgen"] = json.load(open(out)) if os.path.exists(out) else None
        log = open(os.path.join(folder, "serve.log")).read().splitlines()[1:]
        if log:  # anything past the start-up line is worth a look
            print(f"attack: {name}: coordinator log: " + " | ".join(log[:5]), file=sys.stderr)
        return row
    finally:
        stop_process(loadgen)
        stop_process(coordinator)


def problems(row, quiet_jobs, args):
    """What went wrong in this phase (nothing: it passed)."""
    lg, mon, out, phase = row["loadgen"], row["monitor"], row["tally"].outcomes, row["phase"]
    longest = max((s for v in row["tally"].seconds.values() for s in v), default=0)
    checks = [
        (not row["alive"], "the coordinator died"),
        (row["alive"] and not row["health_after"], "no /healthz on a new connection after the attack"),
        (mon.health_failed or not mon.health_ms, f"/healthz failed during the attack: {dict(mon.health_failed)}"),
        (lg is None, "no loadgen result"),
        (lg and lg["errors_total"], f"the agents got errors: {lg and lg['errors']}"),
        (lg and lg["jobs_completed"] < max(1, quiet_jobs / 2), "agents completed under half of quiet's jobs"),
        (mon.open_max > args.max_connections, f"{mon.open_max} connections open, over the cap"),
        (any(re.search(r"HTTP 2\d\d", k) for k in out), "the attacker got a 2xx"),
        (phase != "quiet" and not out, "the attack made no attempt"),
        (phase == "flood" and not out["HTTP 503"], "no 503 past the connection cap"),
        (phase == "wrong-tokens" and set(out) - {"HTTP 401"}, "answers other than 401"),
        (phase == "big-bodies" and not out["HTTP 503"], "no 503 past the body budget"),
        # the budget (256 MiB) bounds the bodies; the rest is the coordinator itself
        (phase == "big-bodies" and row.get("hwm_mb", 0) > 256 + 128,
         f"peak RSS {row.get('hwm_mb', 0):.0f} MB, past the body budget"),
        (phase == "slowloris" and longest > READ_TIMEOUT_S + 5, f"a connection lived {longest:.0f} s"),
    ] + [(phase == "oversized" and not any(k.startswith(name + ": HTTP 4") for k in out),
          f"{name}: never refused with a 4xx") for name in OVERSIZED]
    return [text for failed, text in checks if failed]


def describe_answers(row):
    tally, parts = row["tally"], []
    for outcome, count in tally.outcomes.most_common():
        seconds = tally.seconds[outcome]
        parts.append(f"{outcome}: {count:,}" + (
            f" (after {statistics.median(seconds):.1f} s median)" if outcome == "closed, no answer"
            else f" (the longest {max(seconds):.1f} s)" if outcome == "held to the end" else ""))
    if tally.most_sent:
        parts.append(f"at most {tally.most_sent / 1e6:.0f} MB streamed into one connection")
    if tally.outcomes:
        parts.append(f"{sum(tally.outcomes.values()) / row['attack_s']:,.0f} attempts/s")
    return "; ".join(parts + [f"server's open connections at most {row['monitor'].open_max}"])


def table(rows, args, loadavg_before):
    lines = ["| phase | attack | agents' lease p50 / p99 / max (ms) | p99 vs quiet | jobs completed "
             "/ offered | agent errors | how the attacker was answered | /healthz during (p99 ms, "
             "failed) / after | peak RSS | CPU cores: coordinator / attacker | alive |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    quiet = rows[0]["loadgen"]["lease_latency_ms"]["p99_ms"] if rows[0]["loadgen"] else 0
    for row in rows:
        lg, mon = row["loadgen"], row["monitor"]
        lat = lg["lease_latency_ms"] if lg else {}
        cells = [f"{lat['p50_ms']:.2f} / {lat['p99_ms']:.2f} / {lat['max_ms']:.1f}",
                 f"{lat['p99_ms'] / quiet:.2f}x" if quiet else "-",
                 f"{lg['jobs_completed']:,} / {int(args.agents * args.rate * args.seconds):,}",
                 str(lg["errors_total"]) + "".join(f" ({k}: {v})" for k, v in lg["errors"].items())
                 ] if lg else ["no loadgen result"] * 4
        health_p99 = statistics.quantiles(mon.health_ms, n=100)[98] if len(mon.health_ms) > 1 else 0
        cells += [describe_answers(row), f"{health_p99:.1f}, {sum(mon.health_failed.values())} / "
                  + ("ok" if row["health_after"] else "**no**"),
                  f"{row['hwm_mb']:.0f} MB" if row.get("hwm_mb") else "-",
                  f"{row['coordinator_cores']:.2f} / {row['attacker_cores']:.2f}",
                  "yes" if row["alive"] else "**no**"]
        lines.append(f"| {row['phase']} | {row['attack']} | " + " | ".join(cells) + " |")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    return "\n".join(lines) + (
        f"\n\nEach phase: a fresh `tailsweep serve --max-connections {args.max_connections}` (a small "
        f"cap, so that a flood past it is feasible on this machine; header limit 16 KiB, body limit "
        f"16 MiB and read timeout {READ_TIMEOUT_S} s are the defaults) and `tailsweep-loadgen` with "
        f"{args.agents} simulated agents, each paced to {args.rate:g} job/s for {args.seconds:g} s "
        f"(lease latency: leases that returned a job, request sent to answer read). The attacker "
        f"runs in this script's process (Python asyncio, one thread) for the whole of the agents' "
        f"work, on the same cores. /healthz during: on a keep-alive connection opened before the "
        f"attack, every 0.5 s; after: on a new connection once the attack stopped. Machine: "
        f"{os.cpu_count()} cores, {cpu}, {os.uname().sysname} {os.uname().release}; load average "
        f"{loadavg_before} before, {' '.join(open('/proc/loadavg').read().split()[:3])} after; "
        f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}.\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI: 8 s phases")
    parser.add_argument("--big-bodies", type=int, default=40,
                        help="connections of the big-bodies phase (16 MB each)")
    parser.add_argument("--seconds", type=float, default=40, help="agents' work per phase")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rate", type=float, default=1, help="jobs/s per agent")
    parser.add_argument("--max-connections", type=int, default=300)
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    parser.add_argument("--out", help="also write the table (Markdown) here")
    args = parser.parse_args()
    args.seconds = 8 if args.quick else args.seconds
    for tool in ("tailsweep", "tailsweep-loadgen"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            print(f"attack: no {tool} in {args.bin} (scripts/build.sh builds it)", file=sys.stderr)
            return 2
    exit_on_sigterm()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the flood holds hundreds of sockets
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loadavg_before = " ".join(open("/proc/loadavg").read().split()[:3])
    work = tempfile.mkdtemp(prefix="tailsweep-attack.")
    try:
        rows = [run_phase(name, description, make_attack, args, work)
                for name, (description, make_attack) in attacks(args).items()]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = table(rows, args, loadavg_before)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as out:
            out.write(text)
    quiet_jobs = rows[0]["loadgen"]["jobs_completed"] if rows[0]["loadgen"] else 0
    failed = [f"{row['phase']}: {p}" for row in rows for p in problems(row, quiet_jobs, args)]
    for problem in failed:
        print(f"attack: FAILED: {problem}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
