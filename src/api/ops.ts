/**
 * The control socket's operations, declared once: each op's request (`args`) and reply
 * (`result`). grout's modules/ip/api/gr_ip4.h does this for C; here the CLI's `request` is typed
 * by it (src/api/client.ts), the server's op table is typed against it (src/api/actions.ts,
 * src/api/config-actions.ts, src/api/server.ts: an op missing from the table or one too many
 * does not compile), and test/api-doc.test.ts checks docs/api.md against OP_NAMES.
 *
 * A request arrives as JSON, so the server still decodes each argument once where it enters
 * (actions.ts); the types here are what a well-formed request holds. Replies that are a row of a
 * table are declared by the function that builds them (`ReturnType<…>`): one home per shape.
 */
import type * as A from './actions';
import type * as C from './config-actions';
import type { ControlLimits } from '../config/types';
import type { ControlRefusal } from '../metrics/refusals';
import type { RouteFields } from '../routing/route';

/** A route as `route.show` lists it and `route.add` answers: iproute2's `ip -j route` keys (docs/api.md says why). */
export type RouteRow = ReturnType<typeof A.routeRow>;

/** `route.show`/`route.count`/`route.flush` selectors, iproute2's. */
export interface RouteSelectorArgs {
  prefix?: string;
  match?: string;
  root?: string;
  dev?: string;
  via?: string;
  proto?: string;
}

/** A flow for `route.get` on a multipath route. */
export interface FlowArgs {
  from?: string;
  ipproto?: string | number;
  sport?: number;
  dport?: number;
}

type None = Record<string, never>;
type Id = { id: number };

/** Every operation: its request and its reply. */
export interface Ops {
  health: { args: None; result: ReturnType<typeof A.health> };
  events: { args: { after?: number; max?: number }; result: ReturnType<typeof A.events> };
  'show.ports': { args: None; result: ReturnType<typeof A.showPorts> };
  'show.workers': { args: None; result: ReturnType<typeof A.showWorkers> };
  'show.drops': { args: None; result: ReturnType<typeof A.showDrops> };
  'show.counters': { args: None; result: ReturnType<typeof A.showCounters> };
  'show.controlplane': { args: None; result: ReturnType<typeof A.showControlPlane> };
  'show.mirrors': { args: None; result: ReturnType<typeof A.showMirrors> };
  'show.control': { args: None; result: ControlStats | { error: string } };
  'stats.clear': { args: None; result: { cleared: true } };
  'route.add': { args: RouteFields; result: RouteRow };
  'route.del': { args: { prefix: string }; result: { deleted: string } };
  'route.show': { args: RouteSelectorArgs & { limit?: number; after?: string }; result: RouteRow[] };
  'route.count': { args: RouteSelectorArgs; result: { routes: number } };
  'route.get': { args: { address: string } & FlowArgs; result: ReturnType<typeof A.routeGet> };
  'route.flush': { args: RouteSelectorArgs & { all?: boolean }; result: { flushed: number } };
  'route.load': { args: { text: string }; result: { loaded: number; milliseconds: number } };
  'nexthop.show': { args: { id?: number }; result: ReturnType<typeof A.nexthopShow> };
  'neighbor.add': { args: { address: string; mac: string; port: string }; result: ReturnType<typeof A.neighborAdd> };
  'neighbor.del': { args: { address: string }; result: { deleted: string } };
  'neighbor.flush': { args: { dev?: string; all?: boolean; nud?: 'dynamic' | 'permanent' | 'all' }; result: { flushed: number } };
  'neighbor.show': { args: { details?: boolean }; result: ReturnType<typeof A.neighborShow> };
  'address.add': { args: { address: string; port: string }; result: { ifname: string; local: string; prefixlen: number } };
  'address.del': { args: { address: string; port: string }; result: { deleted: string; ifname: string } };
  'interface.add': { args: { vlan: number; name?: string; port?: string; mtu?: number }; result: ReturnType<typeof A.interfaceShow>[number] };
  'interface.del': { args: { name: string }; result: { deleted: string } };
  'interface.show': { args: None; result: ReturnType<typeof A.interfaceShow> };
  'capture.start': {
    args: { ports?: string[]; points?: ('rx' | 'tx' | 'drop')[]; reason?: string; filter?: string; snaplen?: number; count?: number; durationMs?: number };
    result: ReturnType<typeof A.captureStart>;
  };
  'capture.read': { args: Id; result: ReturnType<A.Router['observe']['captureRead']> };
  'capture.stop': { args: Id; result: ReturnType<A.Router['observe']['captureStop']> };
  'capture.show': { args: None; result: ReturnType<A.Router['observe']['captureShow']> };
  'trace.start': { args: { count?: number; filter?: string }; result: ReturnType<typeof A.traceStart> };
  'trace.show': { args: Id; result: ReturnType<A.Router['observe']['traceShow']> };
  'trace.stop': { args: Id; result: ReturnType<A.Router['observe']['traceStop']> };
  'sync.show': { args: None; result: ReturnType<typeof A.syncShow> };
  'config.show': { args: None; result: ReturnType<typeof C.configShow> };
  'config.diff': { args: None; result: ReturnType<typeof C.configDiff> };
  'config.save': { args: { file?: string }; result: ReturnType<typeof C.configSave> };
  'config.reload': { args: None; result: Awaited<ReturnType<typeof C.configReload>> };
}

export type OpName = keyof Ops;
export type OpArgs<K extends OpName> = Ops[K]['args'];
export type OpResult<K extends OpName> = Ops[K]['result'];

/** The operations served by the config's actions (src/api/config-actions.ts) and by the server itself. */
export type ConfigOp = 'config.show' | 'config.diff' | 'config.save' | 'config.reload';
/** The operations of the router's actions (src/api/actions.ts). */
export type RouterOp = Exclude<OpName, ConfigOp | 'show.control'>;

/**
 * An op table's handler for `K`: the server hands it the request's JSON arguments (a plain object,
 * decoded by the action) and the connection; it answers with `K`'s reply, or a promise of it.
 */
export type Handler<K extends OpName, Ctx, Conn> = (ctx: Ctx, args: Record<string, unknown>, conn?: Conn) => OpResult<K> | Promise<OpResult<K>>;

/** What `show control` prints and metrics export (the control server's own state). */
export interface ControlStats {
  clients: number;
  bufferedBytes: number;
  /** clients whose reading is paused because they do not read their replies */
  paused: number;
  refused: Record<ControlRefusal, number>;
  limits: ControlLimits;
}

/** Every operation's name, at run time (docs/api.md lists exactly these). */
export const OP_NAMES = Object.keys({
  health: 1,
  events: 1,
  'show.ports': 1,
  'show.workers': 1,
  'show.drops': 1,
  'show.counters': 1,
  'show.controlplane': 1,
  'show.mirrors': 1,
  'show.control': 1,
  'stats.clear': 1,
  'route.add': 1,
  'route.del': 1,
  'route.show': 1,
  'route.count': 1,
  'route.get': 1,
  'route.flush': 1,
  'route.load': 1,
  'nexthop.show': 1,
  'neighbor.add': 1,
  'neighbor.del': 1,
  'neighbor.flush': 1,
  'neighbor.show': 1,
  'address.add': 1,
  'address.del': 1,
  'interface.add': 1,
  'interface.del': 1,
  'interface.show': 1,
  'capture.start': 1,
  'capture.read': 1,
  'capture.stop': 1,
  'capture.show': 1,
  'trace.start': 1,
  'trace.show': 1,
  'trace.stop': 1,
  'sync.show': 1,
  'config.show': 1,
  'config.diff': 1,
  'config.save': 1,
  'config.reload': 1,
} satisfies Record<OpName, 1>) as OpName[];
