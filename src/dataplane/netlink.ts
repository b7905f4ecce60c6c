/**
 * The route sync's netlink socket (native/netlink/route_sync.c through the addon): opened in a
 * network namespace, records delivered in batches. Errors become DpfwdError with the fix.
 */
import { DpfwdError } from '../errors';
import { loadNative, NativeNetlinkConstants, NativeNetlinkRoute } from './native';

export type { NativeNetlinkRoute as NetlinkRoute, NativeNetlinkConstants as NetlinkConstants };

export function netlinkConstants(): NativeNetlinkConstants {
  return loadNative().netlinkConstants;
}

/** A namespace name (`ip netns` names it under /run/netns) or a path; '' is dpfwd's own. */
export function netnsPath(netns: string | undefined): string {
  if (!netns) return '';
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

export function openNetlinkRoute(
  netns: string | undefined,
  rcvbuf: number,
  onBatch: (records: Uint32Array, paths: Uint32Array, names: string[]) => void,
): NativeNetlinkRoute {
  const path = netnsPath(netns);
  try {
    return new (loadNative().NetlinkRoute)(path, rcvbuf, onBatch);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const fix =
      code === 'ENOENT'
        ? ` (create it with 'ip netns add ${netns}', or fix linux.netns)`
        : code === 'EPERM'
          ? ' (entering a namespace and netlink need CAP_SYS_ADMIN and CAP_NET_ADMIN: run dpfwd as root)'
          : '';
    throw new DpfwdError(code === 'ENOENT' ? 'ENOENT' : code === 'EPERM' ? 'EPERM' : 'ENETLINK', `route sync: ${(e as Error).message}${fix}`);
  }
}
