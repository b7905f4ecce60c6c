/**
 * SR-IOV, VFIO and pod device tooling. Every operation is one action function here; the CLI
 * commands (src/cli/commands/{sriov,bind,doctor}.ts) only parse and print.
 */
export { SysRoot, PciDevice, normalizeBdf, pciAddressOf, readPciDevice, listEthernetDevices, resolvePciRef, DPDK_DRIVERS } from './sysfs';
export { SysfsWriter, fsWriter, CommandRunner, CommandResult, spawnRunner } from './io';
export { KernelLogReader, kmsgReader, parseKmsg } from './kmsg';
export { sriovShow, formatShow, parseVfInfo, ShownDevice, ShownVf, VfLinkInfo } from './show';
export { sriovCreate, explainNumvfsError, CreateOptions, CreateResult } from './create';
export { sriovSet, checkSetArgs, setArgv, SetOptions } from './set';
export { bindDevice, BindOptions, BindResult, BindTarget, PersistMode, NetProbe, ipProbe, noNetProbe, netdevUses, driverctlArgv, groupConflicts } from './bind';
export { runDoctor, formatDoctor, parseDoctorConfig, loadDoctorConfig, DoctorCheck, DoctorReport, DoctorConfig, DEFAULT_HUGEPAGES_MIB } from './doctor';
export {
  resolveDeviceRefs,
  readNetworkStatus,
  parseNetworkStatus,
  ipsForPciAddress,
  addressConflicts,
  AddressConflict,
  NetworkStatus,
  NETWORK_STATUS_ANNOTATION,
} from './podenv';
