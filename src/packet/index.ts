/** The packet library: builders, tolerant parsers, checksums, pcap files and flow sets. */
export * from './checksum';
export * from './ethernet';
export * from './ipv4';
export * from './udp';
export * from './icmp';
export * from './arp';
export * from './frame';
export * from './pcap';
export * from './pcapng';
export * from './flows';
