#!/usr/bin/env python3
"""Send one message to a porthouse room over UDP and wait for the ack: the classic UDP client,
made real. Standard library only.

    PORTHOUSE_TOKEN=... python3 udp_send.py ROOM TEXT [--host 127.0.0.1] [--port 7070]

A datagram can be lost on the way there, or its ack on the way back, so the client retries with
the same `ref` until it is acknowledged: the server stores the message once whatever happens,
and every ack names the same seq. Protocol: docs/protocol.md ("UDP door").
"""
import argparse
import json
import os
import socket
import sys
import uuid


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("room")
    parser.add_argument("text")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7070)
    parser.add_argument("--token", default=os.environ.get("PORTHOUSE_TOKEN"))
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each ack")
    args = parser.parse_args()
    if not args.token:
        sys.exit("a token is needed: --token T or PORTHOUSE_TOKEN")

    ref = str(uuid.uuid4())
    datagram = json.dumps(
        {"type": "pub", "room": args.room, "text": args.text, "ref": ref, "token": args.token}
    ).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(args.timeout)
        for attempt in range(1, args.tries + 1):
            sock.sendto(datagram, (args.host, args.port))
            try:
                while True:
                    reply, _ = sock.recvfrom(65535)
                    frame = json.loads(reply)
                    if frame.get("ref") != ref:
                        continue  # an answer to an earlier attempt of someone else's
                    if frame["type"] == "ack":
                        print(f"sent to {frame['room']} as #{frame['seq']}")
                        return 0
                    if frame["type"] == "error":
                        print(f"error {frame['code']}: {frame['message']}", file=sys.stderr)
                        return 1
            except socket.timeout:
                print(f"no ack after try {attempt}; sending again", file=sys.stderr)
    print(f"no ack after {args.tries} tries; the message may or may not be stored", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
