#!/usr/bin/python3
"""A fault-injecting TCP proxy on loopback, for the reliability trials
(docs/reliability.md): agents talk to the coordinator through it.

Each request the proxy passes on (the client's bytes after an answer, on
each connection: agents keep theirs alive, so faulting whole connections
would fault few requests) is, with probability --fault-share, given one
fault, picked uniformly:
  drop      the connection is cut with a TCP RST before the request reaches
            the coordinator;
  reset     cut with an RST (SO_LINGER 0) after a random number of bytes of
            the exchange (0-1 KiB, request and answer together) went through:
            mid-request or mid-answer (an exchange shorter than that passes
            whole, and is not counted);
  delay     every chunk of the exchange held 0.2-2 s, both ways;
  truncate  the coordinator's answer cut short: a random prefix (1-512 bytes,
            so mid-header or mid-body) is passed on, then both sides closed.
A partition (partition()) stalls every connection, old and new, both ways,
for its duration, as a blackhole would: nothing is refused or reset, bytes
just stop moving; then they flow again (what a client did not wait for is
its own timeout's business).

Used as a module by bench/soak.py; as a program it proxies until interrupted:
  bench/faultproxy.py --target-port PORT [--listen-port 0] [--fault-share 0.1]
                      [--seed 1] [--port-file FILE] [--counts-file FILE]
On SIGTERM or SIGINT it stops and writes its counts (connections, requests,
and each fault applied) as JSON to --counts-file.
"""
import argparse
import asyncio
import json
import random
import signal
import socket
import struct
import sys
import threading

FAULTS = ("drop", "reset", "delay", "truncate")
CHUNK = 65536


class FaultProxy:
    """Runs in its own thread with its own event loop; start() returns its port."""

    def __init__(self, target_port, fault_share=0.1, seed=1, listen_port=0):
        self.target_port = target_port
        self.fault_share = fault_share
        self.rng = random.Random(seed)
        self.listen_port = listen_port
        self.counts = {"connections": 0, "requests": 0, **{fault: 0 for fault in FAULTS}}
        self.loop = asyncio.new_event_loop()
        self.flowing = None  # an asyncio.Event, set while not partitioned
        self.server = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self):
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(timeout=10)

    async def _listen(self):
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.listen_port)
        self.listen_port = self.server.sockets[0].getsockname()[1]
        return self.listen_port

    def set_target(self, port):
        """The coordinator's port, when it changes (a restart on port 0)."""
        self.target_port = port

    def partition(self, seconds):
        """Stalls all traffic for `seconds`, from now; returns at once."""
        def begin():
            self.flowing.clear()
            self.loop.call_later(seconds, self.flowing.set)
        self.loop.call_soon_threadsafe(begin)

    def stop(self):
        async def close():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    async def _serve(self, client_reader, client_writer):
        self.counts["connections"] += 1
        exchange = Exchange()
        try:
            await self.flowing.wait()
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    "127.0.0.1", self.target_port)
            except OSError:
                return  # the coordinator is down: the client sees its connection closed
            try:
                up = asyncio.ensure_future(
                    self._pump(client_reader, upstream_writer, exchange, upstream=True))
                down = asyncio.ensure_future(
                    self._pump(upstream_reader, client_writer, exchange, upstream=False))
                done, pending = await asyncio.wait([up, down],
                                                   return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                if exchange.fault in ("drop", "reset") and exchange.cut:
                    for writer in (client_writer, upstream_writer):
                        _abort_with_rst(writer)
            finally:
                upstream_writer.close()
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            client_writer.close()

    def _begin_exchange(self, exchange):
        """A new request on the connection: roll its fault (counted when it
        is applied: a reset drawn past the exchange's end never happens)."""
        self.counts["requests"] += 1
        exchange.fault = (self.rng.choice(FAULTS) if self.rng.random() < self.fault_share
                          else None)
        exchange.request_bytes = exchange.answer_bytes = 0
        exchange.applied = False
        # reset: at a byte of the request and answer together; truncate: of the answer
        exchange.budget = {"reset": self.rng.randint(0, 1024),
                           "truncate": self.rng.randint(1, 512)}.get(exchange.fault)

    def _applied(self, exchange):
        if not exchange.applied:
            exchange.applied = True
            self.counts[exchange.fault] += 1

    async def _pump(self, reader, writer, exchange, upstream):
        """Copies one direction until EOF or until the exchange's fault cuts it."""
        while True:
            data = await reader.read(CHUNK)
            if not data:
                return
            if upstream and exchange.answering:
                self._begin_exchange(exchange)  # the client speaks again: a new request
            exchange.answering = not upstream
            await self.flowing.wait()
            fault = exchange.fault
            if fault == "drop" and upstream:
                self._applied(exchange)
                exchange.cut = True  # the request never reaches the coordinator
                return
            if fault == "delay":
                self._applied(exchange)
                await asyncio.sleep(self.rng.uniform(0.2, 2.0))
            passed = (exchange.request_bytes + exchange.answer_bytes if fault == "reset"
                      else exchange.answer_bytes)
            if (fault == "reset" or (fault == "truncate" and not upstream)) and \
                    passed + len(data) >= exchange.budget:
                writer.write(data[:max(0, exchange.budget - passed)])
                await writer.drain()
                self._applied(exchange)
                exchange.cut = True
                return
            if upstream:
                exchange.request_bytes += len(data)
            else:
                exchange.answer_bytes += len(data)
            writer.write(data)
            await writer.drain()


class Exchange:
    """One request and its answer on a proxied connection, and its fault."""

    def __init__(self):
        self.fault = None
        self.applied = False
        self.request_bytes = 0  # passed on so far in this exchange, each way
        self.answer_bytes = 0
        self.budget = None  # the byte at which reset / truncate cut it
        self.answering = True  # the next client bytes begin a request
        self.cut = False


def _abort_with_rst(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--listen-port", type=int, default=0)
    parser.add_argument("--fault-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port-file")
    parser.add_argument("--counts-file", help="where the counts go (JSON) when it stops")
    args = parser.parse_args()
    if not 0 <= args.fault_share <= 1:
        print("faultproxy: --fault-share must be between 0 and 1", file=sys.stderr)
        return 2
    proxy = FaultProxy(args.target_port, args.fault_share, args.seed, args.listen_port)
    port = proxy.start()
    print(f"faultproxy: 127.0.0.1:{port} -> 127.0.0.1:{args.target_port}, "
          f"{args.fault_share:.0%} of requests faulted", file=sys.stderr)
    if args.port_file:
        with open(args.port_file, "w") as out:
            out.write(str(port))
    # SIGTERM or SIGINT ends it (a shell's background job ignores SIGINT).
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    stopping.wait()
    proxy.stop()
    print(f"faultproxy: {proxy.counts}", file=sys.stderr)
    if args.counts_file:
        with open(args.counts_file, "w") as out:
            json.dump(proxy.counts, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
