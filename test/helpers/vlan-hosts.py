#!/usr/bin/env python3
"""
Scripted hosts on 802.1Q VLANs, on one raw AF_PACKET socket, run inside a test namespace (this
kernel has no 802.1Q devices, so a Linux host cannot tag). Bounded in time.

  vlan-hosts.py IFACE SECONDS HOST... -- ACTION...
    HOST    VLAN/IP/MAC/GATEWAY   a host on that VLAN (e.g. 100/10.100.0.2/02:00:00:00:64:02/10.100.0.1)
    ACTION  ping/FROM/DST/COUNT   FROM (a HOST's IP) sends COUNT ICMP echo requests to DST via its gateway
            udp/FROM/DST/PORT/COUNT  the same with UDP datagrams to DST:PORT (an echo server answers)

Every HOST answers ARP requests for its IP and ICMP echo requests to it, tagged with its VLAN.
The kernel hands a received tag to packet sockets as auxdata (PACKET_AUXDATA, tp_vlan_tci),
not in the frame; a tag still in the frame is read too. Frames are sent with the tag in them.
Runs the actions, then keeps answering until SECONDS have passed since it started, and prints
one JSON object: the replies each action got, what it answered, the tags it saw.
"""
import json
import select
import socket
import struct
import sys
import time

SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
PACKET_OUTGOING = 4
ETH_P_ALL = 0x0003


def mac_b(s):
    return bytes(int(x, 16) for x in s.split(':'))


def ip_b(s):
    return socket.inet_aton(s)


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def eth(dst, src, vlan, etype, payload):
    f = dst + src + struct.pack('!HH', 0x8100, vlan) + struct.pack('!H', etype) + payload
    return f + b'\0' * max(0, 64 - len(f))


def ipv4(src, dst, proto, payload, ttl=64, ident=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


def icmp(typ, code, rest, data):
    m = struct.pack('!BBH', typ, code, 0) + rest + data
    return m[:2] + struct.pack('!H', csum(m)) + m[4:]


def udp(src, dst, sport, dport, data):
    u = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
    ph = src + dst + struct.pack('!BBH', 0, 17, len(u))
    c = csum(ph + u) or 0xffff
    return u[:6] + struct.pack('!H', c) + u[8:]


def arp(op, smac, sip, tmac, tip):
    return struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, op, smac, sip, tmac, tip)


def main():
    args = sys.argv[1:]
    cut = args.index('--')
    iface, seconds = args[0], float(args[1])
    hosts = []
    for h in args[2:cut]:
        vlan, ip, mac, gw = h.split('/')
        hosts.append({'vlan': int(vlan), 'ip': ip_b(ip), 'ips': ip, 'mac': mac_b(mac), 'gw': ip_b(gw), 'gwmac': None})
    actions = args[cut + 1:]
    by_ip = {h['ip']: h for h in hosts}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    # the caller waits for this line before it sends (python's start can take seconds on a loaded machine)
    sys.stderr.write('ready\n')
    sys.stderr.flush()
    start = time.time()
    out = {'results': {}, 'answered': {'arp': 0, 'echo': 0}, 'tags': {}, 'untagged': 0}
    pending = {}  # (proto, from ip, key) -> action name

    def send(h, dst_mac, etype, payload):
        s.send(eth(dst_mac, h['mac'], h['vlan'], etype, payload))

    def handle(frame, vlan):
        if vlan is None and len(frame) >= 18 and struct.unpack('!H', frame[12:14])[0] == 0x8100:
            vlan = struct.unpack('!H', frame[14:16])[0] & 0xfff
            frame = frame[:12] + frame[16:]
        if vlan is None:
            out['untagged'] += 1
            return
        out['tags'][str(vlan)] = out['tags'].get(str(vlan), 0) + 1
        etype = struct.unpack('!H', frame[12:14])[0]
        src_mac = frame[6:12]
        p = frame[14:]
        if etype == 0x0806 and len(p) >= 28:
            _, _, _, _, op, smac, sip, _, tip = struct.unpack('!HHBBH6s4s6s4s', p[:28])
            for h in hosts:
                if h['vlan'] != vlan:
                    continue
                if op == 1 and tip == h['ip']:
                    send(h, smac, 0x0806, arp(2, h['mac'], h['ip'], smac, sip))
                    out['answered']['arp'] += 1
                if op == 2 and sip == h['gw'] and tip == h['ip']:
                    h['gwmac'] = smac
            return
        if etype != 0x0800 or len(p) < 20:
            return
        ihl = (p[0] & 15) * 4
        proto, src, dst = p[9], p[12:16], p[16:20]
        h = by_ip.get(dst)
        if not h or h['vlan'] != vlan:
            return
        l4 = p[ihl:]
        if proto == 1 and len(l4) >= 8 and l4[0] == 8:
            send(h, src_mac, 0x0800, ipv4(dst, src, 1, icmp(0, 0, l4[4:8], l4[8:])))
            out['answered']['echo'] += 1
        elif proto == 1 and len(l4) >= 8 and l4[0] == 0:
            key = ('icmp', dst, struct.unpack('!H', l4[4:6])[0])
            if key in pending:
                name = pending.pop(key)
                out['results'][name] += 1
        elif proto == 17 and len(l4) >= 8:
            key = ('udp', dst, struct.unpack('!H', l4[2:4])[0])
            if key in pending:
                name = pending.pop(key)
                out['results'][name] += 1

    def pump(until):
        while time.time() < until:
            r, _, _ = select.select([s], [], [], max(0, min(0.05, until - time.time())))
            if not r:
                continue
            data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(64))
            if addr[2] == PACKET_OUTGOING:
                continue
            vlan = None
            for level, typ, d in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA and len(d) >= 20:
                    status, _, _, _, _, tci, _ = struct.unpack('IIIHHHH', d[:20])
                    if status & TP_STATUS_VLAN_VALID:
                        vlan = tci & 0xfff
            handle(data, vlan)

    deadline = start + seconds
    for a in actions:
        parts = a.split('/')
        kind, frm, dst = parts[0], ip_b(parts[1]), ip_b(parts[2])
        h = by_ip[frm]
        out['results'][a] = 0
        # resolve the gateway (a few tries), then send one probe every 50 ms
        tries = 0
        while h['gwmac'] is None and tries < 10 and time.time() < deadline:
            send(h, b'\xff' * 6, 0x0806, arp(1, h['mac'], h['ip'], b'\0' * 6, h['gw']))
            pump(time.time() + 0.3)
            tries += 1
        if h['gwmac'] is None:
            out['results'][a] = -1
            continue
        count = int(parts[-1])
        for i in range(count):
            if time.time() >= deadline:
                break
            seq = 1000 + i
            if kind == 'ping':
                pending[('icmp', h['ip'], seq)] = a
                payload = icmp(8, 0, struct.pack('!HH', seq, 1), b'dpfwd-vlan-test' * 4)
                send(h, h['gwmac'], 0x0800, ipv4(h['ip'], dst, 1, payload, ident=seq))
            else:
                pending[('udp', h['ip'], 40000 + i)] = a
                send(h, h['gwmac'], 0x0800, ipv4(h['ip'], dst, 17, udp(h['ip'], dst, 40000 + i, int(parts[3]), b'hello over vlan %d' % h['vlan']), ident=seq))
            pump(time.time() + 0.05)
        pump(min(deadline, time.time() + 1.0))
    pump(deadline)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
