#!/usr/bin/env python3
"""Follow a porthouse room over the raw TCP door with nothing but Python's standard library.

    PORTHOUSE_TOKEN=... python3 tcp_listen.py ROOM [--host 127.0.0.1] [--port 7070]
                                               [--since SEQ] [--count N]

Prints one line per message ("#seq author: text"). If the connection drops it reconnects and
resumes after the last seq it printed, so nothing is missed and nothing is printed twice.
The protocol is one JSON object per line: see docs/protocol.md ("TCP door") and docs/frames.md.
"""
import argparse
import json
import os
import socket
import sys
import time


def frames(sock):
    """Yield each JSON frame the server sends, one per line."""
    buffer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)


def send(sock, frame):
    sock.sendall(json.dumps(frame).encode() + b"\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("room")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7070)
    parser.add_argument("--token", default=os.environ.get("PORTHOUSE_TOKEN"))
    parser.add_argument("--since", type=int, default=None)
    parser.add_argument("--count", type=int, default=None, help="exit after this many messages")
    args = parser.parse_args()
    if not args.token:
        sys.exit("a token is needed: --token T or PORTHOUSE_TOKEN")

    last_seq = args.since
    printed = 0
    backoff = 0.2
    while True:
        try:
            with socket.create_connection((args.host, args.port), timeout=30) as sock:
                send(sock, {"type": "auth", "token": args.token})
                for frame in frames(sock):
                    kind = frame["type"]
                    if kind == "ready":
                        sub = {"type": "sub", "room": args.room}
                        if last_seq is not None:
                            sub["since"] = last_seq
                        send(sock, sub)
                        backoff = 0.2
                    elif kind == "subbed" and last_seq is None:
                        last_seq = frame["seq"]
                    elif kind == "msg" and frame["room"] == args.room:
                        if last_seq is not None and frame["seq"] <= last_seq:
                            continue  # already printed before a reconnect
                        last_seq = frame["seq"]
                        print(f"#{frame['seq']} {frame['author']}: {frame['text']}", flush=True)
                        printed += 1
                        if args.count is not None and printed >= args.count:
                            return 0
                    elif kind == "error":
                        print(f"error {frame['code']}: {frame['message']}", file=sys.stderr, flush=True)
                        if frame["code"] in ("unauthorized", "token_invalid", "token_expired", "room_not_found"):
                            return 1
        except OSError as err:
            print(f"connection lost ({err}); reconnecting", file=sys.stderr, flush=True)
        time.sleep(backoff)
        backoff = min(backoff * 2, 5)


if __name__ == "__main__":
    sys.exit(main())
