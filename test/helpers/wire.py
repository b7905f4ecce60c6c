#!/usr/bin/env python3
"""Frames on a Linux interface, byte for byte (test/differential.test.ts).

  wire.py send IFACE IN.pcap [VID=IFACE2 ...]
                                        send every frame of a classic pcap on IFACE (AF_PACKET,
                                        SOCK_RAW), paced so the peer's backlog never overflows;
                                        a frame tagged VID (802.1Q) goes out of IFACE2 instead,
                                        its tag popped (a kernel without 802.1Q devices stands in
                                        for a VLAN sub-interface with a plain one);
                                        prints "sent N failed M" (frames the kernel refused)
  wire.py sniff IFACE OUT.pcap SENTINEL SECONDS
                                        write every frame IFACE receives (not its own) to OUT.pcap
                                        until one holds the bytes SENTINEL (hex), or SECONDS pass;
                                        prints "ready" once bound, "captured N" at the end
"""
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def read_pcap(path):
    data = open(path, 'rb').read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        raise SystemExit(f'{path}: not a classic pcap')
    off = 24
    frames = []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + 'IIII', data[off:off + 16])
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


def send(iface, path, vlans=()):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    by_vid = {}
    for m in vlans:
        vid, name = m.split('=')
        by_vid[int(vid)] = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        by_vid[int(vid)].bind((name, 0))
    sent = failed = 0
    for i, f in enumerate(read_pcap(path)):
        out = s
        if len(f) >= 18 and f[12:14] == b'\x81\x00' and (struct.unpack('!H', f[14:16])[0] & 0xfff) in by_vid:
            out = by_vid[struct.unpack('!H', f[14:16])[0] & 0xfff]
            f = f[:12] + f[16:]
        try:
            out.send(f)
            sent += 1
        except OSError as e:
            failed += 1
            print(f'frame {i} ({len(f)} bytes): {e}', file=sys.stderr, flush=True)
        if i % 16 == 15:
            time.sleep(0.002)  # the peer's backlog (netdev_max_backlog 1000) never fills
    print(f'sent {sent} failed {failed}', flush=True)


def sniff(iface, out, sentinel, seconds):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.2)
    mark = bytes.fromhex(sentinel)
    frames = []
    print('ready', flush=True)
    end = time.time() + seconds
    while time.time() < end:
        try:
            f, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == PACKET_OUTGOING:
            continue
        if mark in f:
            break
        frames.append(f)
    with open(out, 'wb') as w:
        w.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for f in frames:
            w.write(struct.pack('<IIII', 0, 0, len(f), len(f)))
            w.write(f)
    print(f'captured {len(frames)}', flush=True)


if __name__ == '__main__':
    if sys.argv[1] == 'send':
        send(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == 'sniff':
        sniff(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        raise SystemExit(__doc__)
