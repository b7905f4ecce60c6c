import { Window } from './forwarding';
import { Summary } from './stats';
export interface ScaleResult { routes: number; loads: { path: string; seconds: number; reportedMs?: number }[]; memory: Record<string, number | null>; forwarding: { table: string; mpps: Summary }[]; ratio: number }
export async function routeScale(_tmp: string, _n: number, _reps: number, _w: Window, _log: (m: string) => void): Promise<ScaleResult> { throw new Error('todo'); }
