import { Window } from './forwarding';
import { Summary } from './stats';
export interface ChurnResult { targetRate: number; durationMs: number; achievedRate: number; updates: number; errors: number; baselineMpps: Summary; churnMpps: Summary; changePercent: number; dropped: number; rxMinusForwarded: number; misforwarded: number }
export async function routeChurn(_tmp: string, _reps: number, _w: Window, _log: (m: string) => void): Promise<ChurnResult> { throw new Error('todo'); }
