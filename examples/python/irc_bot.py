#!/usr/bin/env python3
"""A porthouse IRC bot with nothing but Python's standard library: signs in with SASL PLAIN,
joins a channel, prints its recent history (CHATHISTORY) and every new message, and answers
"!ping" with "pong".

    PORTHOUSE_USER=ada PORTHOUSE_PASSWORD=... python3 irc_bot.py ROOM [--host 127.0.0.1]
                                                   [--port 6667] [--history 20] [--count N]

PORTHOUSE_PASSWORD may also be a porthouse token. Prints one line per message
("#seq author: text", the seq read from the msgid tag). The IRC door is described in docs/irc.md.
"""
import argparse
import base64
import os
import socket
import sys


def parse(line):
    """One IRC line → (tags, source, command, params), as IRCv3 message-tags defines it."""
    tags = {}
    if line.startswith("@"):
        raw, line = line[1:].split(" ", 1)
        for item in raw.split(";"):
            key, _, value = item.partition("=")
            tags[key] = value.replace("\\:", ";").replace("\\s", " ").replace("\\\\", "\\")
    source = None
    if line.startswith(":"):
        source, line = line[1:].split(" ", 1)
    trailing = None
    if " :" in line:
        line, trailing = line.split(" :", 1)
    words = line.split()
    params = words[1:] + ([trailing] if trailing is not None else [])
    return tags, source, words[0].upper(), params


def lines(sock):
    """Yield each line the server sends, without its CR LF."""
    buffer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buffer += chunk
        while b"\r\n" in buffer:
            line, buffer = buffer.split(b"\r\n", 1)
            if line:
                yield line.decode("utf-8", "replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("room")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6667)
    parser.add_argument("--user", default=os.environ.get("PORTHOUSE_USER"))
    parser.add_argument("--password", default=os.environ.get("PORTHOUSE_PASSWORD"))
    parser.add_argument("--history", type=int, default=20, help="messages of history to print first")
    parser.add_argument("--count", type=int, default=None, help="exit after this many live messages")
    args = parser.parse_args()
    if not args.user or not args.password:
        sys.exit("an account is needed: --user and --password (or PORTHOUSE_USER, PORTHOUSE_PASSWORD)")
    channel = f"#{args.room}"

    sock = socket.create_connection((args.host, args.port), timeout=300)
    send = lambda text: sock.sendall(text.encode() + b"\r\n")
    send("CAP LS 302")
    send(f"NICK {args.user}")
    send(f"USER {args.user} 0 * :porthouse example bot")
    send("CAP REQ :sasl server-time message-tags batch draft/chathistory")
    live = 0
    for line in lines(sock):
        tags, source, command, params = parse(line)
        if command == "CAP" and params[1] == "ACK":
            send("AUTHENTICATE PLAIN")
        elif command == "CAP" and params[1] == "NAK":
            sys.exit(f"capabilities refused: {params[-1]}")
        elif command == "AUTHENTICATE" and params[0] == "+":
            payload = base64.b64encode(f"\0{args.user}\0{args.password}".encode()).decode()
            # SASL over IRC carries at most 400 bytes per line; a token needs several.
            for i in range(0, len(payload), 400):
                send(f"AUTHENTICATE {payload[i:i + 400]}")
            if len(payload) % 400 == 0:
                send("AUTHENTICATE +")
        elif command == "903":
            send("CAP END")
        elif command in ("904", "464"):
            sys.exit(f"sign-in refused: {params[-1]}")
        elif command == "001":
            send(f"JOIN {channel}")
        elif command == "366":
            send(f"CHATHISTORY LATEST {channel} * {args.history}")
        elif command == "PING":
            send(f"PONG :{params[-1]}")
        elif command == "PRIVMSG" and params[0] == channel:
            author = source.split("!", 1)[0]
            seq = tags.get("msgid", "?").rsplit(":", 1)[-1]
            text = params[1]
            if text.startswith("\x01ACTION "):  # /me
                print(f"#{seq} * {author} {text[8:].rstrip(chr(1))}", flush=True)
            else:
                print(f"#{seq} {author}: {text}", flush=True)
            if "batch" in tags:
                continue  # history: printed, not answered
            if text.strip() == "!ping":
                send(f"PRIVMSG {channel} :pong")
            live += 1
            if args.count is not None and live >= args.count:
                send("QUIT :done")
                return 0
        elif command in ("403", "404", "473", "FAIL"):
            print(f"{command}: {' '.join(params[1:])}", file=sys.stderr, flush=True)
        elif command == "ERROR":
            sys.exit(f"closed: {params[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
