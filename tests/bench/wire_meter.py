#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A byte-counting TCP relay for make bench: what a run puts on the wire, TLS records and all.

    meter = WireMeter({"login": 40001, "arm": 40002})   # listener name -> the emulator's port
    meter.ports            # {"login": relay port, "arm": relay port}, on 127.0.0.1
    meter.reset(); ...run a client against the relay ports...; counts = meter.wait_idle()
    meter.close()

counts is {"connections": N, "up": client-to-server bytes, "down": server-to-client bytes},
TCP payload only, for every connection since reset(). A client that names the relay's port in
its Host header needs the emulator's `relay_ports` setting. Standard library only.

    python3 tests/bench/wire_meter.py NAME=PORT...
        prints {NAME: relay port}, relays until SIGINT or SIGTERM, then prints the counts
"""
import json
import signal
import socket
import sys
import threading
import time


class WireMeter:
    def __init__(self, targets, host="127.0.0.1"):
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active = 0
        self._counts = {"connections": 0, "up": 0, "down": 0}
        self._listeners = []
        self.ports = {}
        for name, port in targets.items():
            server = socket.create_server((host, 0))
            self._listeners.append(server)
            self.ports[name] = server.getsockname()[1]
            threading.Thread(target=self._accept, args=(server, (host, port)),
                             daemon=True).start()

    def reset(self):
        with self._lock:
            self._counts = {"connections": 0, "up": 0, "down": 0}

    def wait_idle(self, timeout=10):
        """The counts once every relayed connection has ended: a client that has exited may
        leave the server's last bytes (its close_notify) still in flight."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._active and time.monotonic() < deadline:
                self._idle.wait(deadline - time.monotonic())
            return dict(self._counts)

    def close(self):
        for server in self._listeners:
            server.close()

    def _accept(self, server, target):
        while True:
            try:
                client, _ = server.accept()
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(target)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._counts["connections"] += 1
                self._active += 1
            pair = {"socks": (client, upstream), "left": 2}
            threading.Thread(target=self._pump, args=(client, upstream, "up", pair),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, "down", pair),
                             daemon=True).start()

    def _pump(self, source, sink, direction, pair):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
                with self._lock:
                    self._counts[direction] += len(data)
            sink.shutdown(socket.SHUT_WR)  # pass the half-close on, as a direct peer would see it
        except OSError:
            for sock in pair["socks"]:  # a reset: end both directions
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        with self._idle:
            pair["left"] -= 1
            if pair["left"] == 0:
                for sock in pair["socks"]:
                    sock.close()
                self._active -= 1
                self._idle.notify_all()


def main(argv):
    targets = {}
    for arg in argv[1:]:
        name, _, port = arg.partition("=")
        if not port.isdigit():
            sys.stderr.write("usage: wire_meter.py NAME=PORT...\n")
            return 2
        targets[name] = int(port)
    if not targets:
        sys.stderr.write("usage: wire_meter.py NAME=PORT...\n")
        return 2
    # Blocked before the relay's threads start, so that they inherit it and sigwait gets the
    # signal (a background job starts with SIGINT ignored, but a blocked one still waits).
    stop = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    meter = WireMeter(targets)
    print(json.dumps(meter.ports), flush=True)
    signal.sigwait(stop)
    print(json.dumps(meter.wait_idle(timeout=1)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
