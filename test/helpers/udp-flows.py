#!/usr/bin/env python3
"""
UDP flows for ECMP tests, run inside a test namespace. Bounded in count and time.

  udp-flows.py send DST PORT FLOWS COUNT TAG [SPORT0]
      FLOWS flows (source ports SPORT0.. SPORT0+FLOWS-1, default 40000) to DST:PORT, COUNT
      datagrams each, sent round-robin over the flows; every payload is TAG. Prints the number sent.
  udp-flows.py sink PORT SECONDS
      Counts datagrams to PORT by payload and source port until SIGTERM or SECONDS have passed,
      then prints one JSON object {TAG: {SPORT: datagrams}}.
"""
import json
import select
import signal
import socket
import sys
import time


def send(dst, port, flows, count, tag, sport0):
    socks = []
    for f in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(('0.0.0.0', sport0 + f))
        socks.append(s)
    sent = 0
    for _ in range(count):
        for s in socks:
            s.sendto(tag.encode(), (dst, port))
            sent += 1
            if sent % 25 == 0:
                # paced: a veth with an XDP program queues at most 256 frames for its peer, and
                # dpfwd's worker shares its CPU with others here
                time.sleep(0.003)
        time.sleep(0.01)
    print(sent)


def sink(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(('0.0.0.0', port))
    seen = {}
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    end = time.time() + seconds
    # ready: the test waits for this line before sending
    print('ready', flush=True)
    while not stop[0] and time.time() < end:
        r, _, _ = select.select([s], [], [], 0.05)
        if not r:
            continue
        data, (_, sport) = s.recvfrom(2048)
        by = seen.setdefault(data.decode(errors='replace'), {})
        by[str(sport)] = by.get(str(sport), 0) + 1
    print(json.dumps(seen), flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'send':
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6],
             int(sys.argv[7]) if len(sys.argv) > 7 else 40000)
    elif sys.argv[1] == 'sink':
        sink(int(sys.argv[2]), float(sys.argv[3]))
    else:
        sys.exit('usage: udp-flows.py send DST PORT FLOWS COUNT TAG [SPORT0] | sink PORT SECONDS')
