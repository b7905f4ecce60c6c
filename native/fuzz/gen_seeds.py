#!/usr/bin/env python3
"""Regenerates the seed corpus in native/fuzz/corpus/ (the files are committed; this is for reference).

Each seed = 14-byte prefix (egress port BE16, next-hop MAC, port MAC) + an Ethernet frame.
"""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
PREFIX = struct.pack("!H", 1) + bytes.fromhex("0200000000aa") + bytes.fromhex("0200000000bb")
ETH = bytes.fromhex("020000000001" "020000000002")


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(ttl=64, ihl=5, opts=b"", payload=b"", src="10.0.0.1", dst="10.0.1.2", ident=0x1234, fix=True):
    a = lambda s: bytes(int(x) for x in s.split("."))
    tot = ihl * 4 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, ident, 0, ttl, 17, 0, a(src), a(dst)) + opts
    if fix:
        c = csum(h)
        h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload


UDP = struct.pack("!HHHH", 1234, 5678, 12, 0) + b"ping"


def ident_for(hc_wanted):
    """Packet id that makes the header checksum equal hc_wanted (so TTL-1 exercises an edge)."""
    for i in range(0x10000):
        h = ip4(ident=i, payload=UDP)
        if struct.unpack("!H", h[10:12])[0] == hc_wanted:
            return i
    raise SystemExit("no id")


def fold32_edge():
    """Valid header whose sum of little-endian 32-bit words is exactly 0xFFFFFFFF: the 16-bit halves
    then add to 0x1FFFE, so an implementation folding 32 -> 16 bits only once gets 0xFFFE and
    rejects a good packet. Pick the id (an even 16-bit word) to make the even words add to 0xFFFF,
    then the checksum (an odd word) to make the odd words add to 0xFFFF."""
    h = bytearray(ip4(payload=UDP, fix=False))
    le = lambda i: h[i] | (h[i + 1] << 8)
    even = sum(le(i) for i in (0, 8, 12, 16))
    struct.pack_into("<H", h, 4, 0xFFFF - even)
    odd = sum(le(i) for i in (2, 6, 14, 18))
    struct.pack_into("<H", h, 10, 0xFFFF - odd)
    assert csum(bytes(h[:20])) == 0
    assert sum(struct.unpack("<5I", bytes(h[:20]))) == 0xFFFFFFFF
    return bytes(h)


seeds = {
    "udp_valid": ETH + b"\x08\x00" + ip4(payload=UDP),
    "ttl1": ETH + b"\x08\x00" + ip4(ttl=1, payload=UDP),
    "bad_checksum": ETH + b"\x08\x00" + ip4(payload=UDP)[:10] + b"\xde\xad" + ip4(payload=UDP)[12:],
    "ihl6_options": ETH + b"\x08\x00" + ip4(ihl=6, opts=b"\x01\x01\x01\x00", payload=UDP),
    "martian": ETH + b"\x08\x00" + ip4(dst="224.0.0.5", payload=UDP),
    "csum_feff": ETH + b"\x08\x00" + ip4(ident=ident_for(0xFEFF), payload=UDP),
    "csum_0000": ETH + b"\x08\x00" + ip4(ident=ident_for(0x0000), payload=UDP),
    "csum_fold32_edge": ETH + b"\x08\x00" + fold32_edge(),
    "arp": ETH + b"\x08\x06" + bytes.fromhex("0001080006040001" "020000000002" "0a000001" "000000000000" "0a000102"),
    "truncated": ETH + b"\x08\x00" + ip4(payload=UDP)[:12],
    "vlan": ETH + b"\x81\x00\x00\x01\x08\x00" + ip4(payload=UDP),
    "vlan100": ETH + b"\x81\x00\x00\x64\x08\x00" + ip4(payload=UDP),
    "vlan100_prio": ETH + b"\x81\x00\xb0\x64\x08\x00" + ip4(payload=UDP),
    "vlan0_priority_tag": ETH + b"\x81\x00\x60\x00\x08\x00" + ip4(payload=UDP),
    "vlan100_arp": ETH + b"\x81\x00\x00\x64\x08\x06" + bytes.fromhex("0001080006040001" "020000000002" "0a000001" "000000000000" "0a000102"),
    "vlan100_qinq": ETH + b"\x81\x00\x00\x64\x81\x00\x00\x64\x08\x00" + ip4(payload=UDP),
    "vlan100_short": ETH + b"\x81\x00\x00",
    "qinq_88a8": ETH + b"\x88\xa8\x00\x64\x08\x00" + ip4(payload=UDP),
    "src_own": ETH + b"\x08\x00" + ip4(src="10.0.0.254", payload=UDP),
    "src_not_own": ETH + b"\x08\x00" + ip4(src="10.0.2.1", payload=UDP),
    "src_broadcast": ETH + b"\x08\x00" + ip4(src="10.0.1.255", payload=UDP),
    "dst_broadcast": ETH + b"\x08\x00" + ip4(dst="10.0.1.255", src="10.9.9.9", payload=UDP),
}

os.makedirs(HERE, exist_ok=True)
for name, frame in seeds.items():
    with open(os.path.join(HERE, name), "wb") as fh:
        fh.write(PREFIX + frame)


def partial(proto, l4):
    """IPv4 TCP/UDP datagram as a Linux sender leaves it CHECKSUM_PARTIAL: the L4 checksum field
    holds the folded pseudo-header sum (what dp_l4_csum_complete completes)."""
    h = bytearray(ip4(payload=l4))
    h[9] = proto
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", csum(bytes(h[:20])))
    ps = sum(struct.unpack("!4H", bytes(h[12:20]))) + proto + len(l4)
    while ps > 0xFFFF:
        ps = (ps & 0xFFFF) + (ps >> 16)
    at = 16 if proto == 6 else 6
    seg = bytearray(l4)
    seg[at:at + 2] = struct.pack("!H", ps)
    return bytes(h[:20]) + bytes(seg)


def write_partial_seeds():
    udp = struct.pack("!HHHH", 33434, 33435, 8 + 5, 0) + b"probe"  # odd length
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1, 0, 0x50, 0x02, 64240, 0, 0) + b"x" * 7
    for name, frame in (("csum_partial_udp", partial(17, udp)), ("csum_partial_tcp", partial(6, tcp))):
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(PREFIX + ETH + b"\x08\x00" + frame)


if __name__ == "__main__":
    write_partial_seeds()
