#!/usr/bin/env python3
"""
A VLAN host on a raw AF_PACKET socket, run inside a test namespace (this kernel has no 802.1Q
devices). Bounded in count and time.

  vlan-host.py IFACE ROUTER_MAC VID SRC_IP DST_IP COUNT SECONDS

Sends COUNT UDP datagrams SRC_IP -> DST_IP tagged with VID to ROUTER_MAC, then listens up to
SECONDS for frames. The kernel hands received tags to packet sockets as auxdata
(PACKET_AUXDATA), not in the frame: each received IPv4 frame is reported with that tag.
Prints one JSON line: {"sent": N, "received": [{"vlan": VID or null, "src": ..., "dst": ..., "payload": hex}]}.
"""
import json
import socket
import struct
import sys
import time

SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 0x10


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    iface, router_mac, vid, src, dst, count, secs = sys.argv[1:8]
    vid, count, secs = int(vid), int(count), float(secs)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    my_mac = s.getsockname()[4]
    dmac = bytes(int(x, 16) for x in router_mac.split(":"))
    for i in range(count):
        payload = b"vlan-host %d" % i
        udp = struct.pack("!HHHH", 4000, 5000, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        s.send(dmac + my_mac + struct.pack("!HH", 0x8100, vid) + b"\x08\x00" + ip + udp)
    received = []
    deadline = time.time() + secs
    s.settimeout(0.1)
    while time.time() < deadline:
        try:
            data, anc, _flags, _addr = s.recvmsg(65535, socket.CMSG_SPACE(20))
        except socket.timeout:
            continue
        if len(data) < 34 or data[6:12] == my_mac:
            continue
        vlan = None
        for level, typ, d in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA:
                status, _l, _sl, _mac, _net, tci, _tpid = struct.unpack("IIIHHHH", d[:20])
                if status & TP_STATUS_VLAN_VALID:
                    vlan = tci & 0xFFF
        et = struct.unpack("!H", data[12:14])[0]
        if et == 0x8100:  # the tag left in the frame (not what Linux does, but say so)
            vlan = struct.unpack("!H", data[14:16])[0] & 0xFFF
            data = data[:12] + data[16:]
            et = struct.unpack("!H", data[12:14])[0]
        if et != 0x0800:
            continue
        received.append({"vlan": vlan, "src": socket.inet_ntoa(data[26:30]), "dst": socket.inet_ntoa(data[30:34]),
                         "payload": data[42:].hex()})
    print(json.dumps({"sent": count, "received": received}))


main()
