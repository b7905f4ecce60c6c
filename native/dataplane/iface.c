/*
 * VLAN sub-interfaces: the (port, VID) -> interface map and the interface words.
 */
#define _GNU_SOURCE
#include "dp_internal.h"

/* ---- VLAN sub-interfaces (main thread only; workers read the word and the map atomically) ---- */

int
dp_iface_set(uint16_t iface, uint16_t port, uint16_t vlan, uint16_t mtu)
{
	if (!dp.running || !dp.vlan_map)
		return -ENODEV;
	if (iface < DP_MAX_PORTS || iface >= DP_MAX_IFACES || vlan < 1 || vlan > 4094)
		return -EINVAL;
	if (port >= dp.n_ports)
		return -ENODEV;
	if (mtu < 68 || mtu > dp.ports[port].mtu)
		return -EINVAL;
	uint16_t cur = __atomic_load_n(&dp.vlan_map[port][vlan], __ATOMIC_RELAXED);
	if (cur != DP_IFACE_NONE && cur != iface)
		return -EEXIST;
	uint64_t old = dp.subifs[iface - DP_MAX_PORTS];
	if ((old & SUBIF_USED) && (SUBIF_PORT(old) != port || SUBIF_VLAN(old) != vlan))
		__atomic_store_n(&dp.vlan_map[SUBIF_PORT(old)][SUBIF_VLAN(old)], DP_IFACE_NONE, __ATOMIC_RELEASE);
	uint64_t w = SUBIF_USED | (uint64_t)port << 32 | (uint64_t)vlan << 16 | mtu;
	__atomic_store_n(&dp.subifs[iface - DP_MAX_PORTS], w, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.vlan_map[port][vlan], iface, __ATOMIC_RELEASE);
	return 0;
}

int
dp_iface_del(uint16_t iface)
{
	if (!dp.running || !dp.vlan_map)
		return -ENODEV;
	if (iface < DP_MAX_PORTS || iface >= DP_MAX_IFACES)
		return -EINVAL;
	uint64_t old = dp.subifs[iface - DP_MAX_PORTS];
	if (!(old & SUBIF_USED))
		return -ENOENT;
	__atomic_store_n(&dp.vlan_map[SUBIF_PORT(old)][SUBIF_VLAN(old)], DP_IFACE_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&dp.subifs[iface - DP_MAX_PORTS], 0, __ATOMIC_RELEASE);
	return 0;
}
