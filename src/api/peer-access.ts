/**
 * What a client of the control socket could do to a file itself. The forwarder runs as root;
 * a member of the socket's group is not, and must not use the forwarder to write where it could
 * not write (config save). The client is the process at the other end of the socket, as the
 * kernel names it (SO_PEERCRED: uid, gid, pid); its supplementary groups are read from
 * /proc/PID/status. The checks are the kernel's permission bits (owner, group, other), no ACLs.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The client's credentials, from SO_PEERCRED. */
export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

/** The peer's groups: its gid and, while its process lives, its supplementary groups. */
export function peerGroups(p: Peer): Set<number> {
  const g = new Set([p.gid]);
  try {
    const m = /^Groups:[ \t]*(.*)$/m.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'));
    for (const x of m?.[1].trim().split(/\s+/) ?? []) if (/^\d+$/.test(x)) g.add(Number(x));
  } catch {
    /* gone: its gid only */
  }
  return g;
}

/** Whether the permission bits of `st` give the peer every bit of `want` (4 read, 2 write, 1 search). */
function allows(st: fs.Stats, p: Peer, groups: Set<number>, want: number): boolean {
  const bits = st.uid === p.uid ? st.mode >> 6 : groups.has(st.gid) ? st.mode >> 3 : st.mode;
  return (bits & want) === want;
}

/**
 * Why the peer could not replace `file` itself (null: it could). Replacing is what config save
 * does: a new file in the directory, renamed over the old one. So the peer needs search on every
 * directory above, write and search on the file's directory (and, when that directory is sticky,
 * to own the file or the directory), and write permission on the file if it exists, which must be
 * a regular file. Root (uid 0) may.
 */
export function replaceRefusal(p: Peer, file: string): string | null {
  if (p.uid === 0) return null;
  const groups = peerGroups(p);
  const dir = path.dirname(file);
  const who = `uid ${p.uid}`;
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    if (!allows(fs.statSync(d), p, groups, 1)) return `${who} cannot search ${d}`;
    if (d === path.dirname(d)) break;
  }
  const ds = fs.statSync(dir);
  if (!allows(ds, p, groups, 3))
    return `${who} cannot write to the directory ${dir} (owner ${ds.uid}, group ${ds.gid}, mode ${(ds.mode & 0o7777).toString(8)})`;
  let fst: fs.Stats;
  try {
    fst = fs.lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (!fst.isFile()) return `${file} is not a regular file`;
  if (!allows(fst, p, groups, 2)) return `${who} cannot write ${file} (owner ${fst.uid}, group ${fst.gid}, mode ${(fst.mode & 0o7777).toString(8)})`;
  if (ds.mode & 0o1000 && fst.uid !== p.uid && ds.uid !== p.uid) return `${dir} is sticky and ${who} owns neither it nor ${file}`;
  return null;
}
