/**
 * Reads this machine's FFmpeg (`ffmpeg -h filter=NAME`, `-h muxer=NAME`, …) into option lists,
 * for the walk tests that check every policy decision against the real build.
 */
import { execFileSync } from 'node:child_process';

export interface HelpOption {
  name: string;
  /** As printed between <>: int, string, flags, … */
  type: string;
  /** The description (used to recognise aliases). */
  help: string;
  /** 0 = the component's own class, 1.. = child classes (SWScaler, framesync, …). */
  section: number;
  /** The section's class name as printed before "AVOptions:" (e.g. "hls muxer", "libx264"). */
  sectionName: string;
}

/** AVOptions printed by `ffmpeg -h <what>`, in declaration order. Empty for an unknown name. */
export function helpOptions(what: string): HelpOption[] {
  const txt = execFileSync('ffmpeg', ['-hide_banner', '-h', what], {
    encoding: 'utf8',
    env: {},
    maxBuffer: 64 * 1024 * 1024,
  });
  const out: HelpOption[] = [];
  let section = -1;
  let sectionName = '';
  for (const line of txt.split('\n')) {
    const head = /^(\S.*) AVOptions:$/.exec(line);
    if (head) {
      section++;
      sectionName = head[1]!;
      continue;
    }
    const m = /^\s+-?([A-Za-z0-9_][A-Za-z0-9_-]*)\s+<([a-z_0-9]+)>\s+\S+\s?(.*)$/.exec(line);
    if (!m || section < 0) continue;
    out.push({ name: m[1]!, type: m[2]!, help: m[3]!.trim(), section, sectionName });
  }
  return out;
}

/** Names in the second column of `ffmpeg -filters` / `-muxers` / `-demuxers` / `-encoders`. */
export function listed(flag: '-filters' | '-muxers' | '-demuxers' | '-encoders' | '-protocols'): Set<string> {
  const txt = execFileSync('ffmpeg', ['-hide_banner', flag], { encoding: 'utf8', env: {} });
  const names = new Set<string>();
  if (flag === '-protocols') {
    for (const m of txt.matchAll(/^ {2}(\S+)$/gm)) names.add(m[1]!);
    return names;
  }
  if (flag === '-filters') {
    for (const m of txt.matchAll(/^ [.T][.S][.C] (\S+)/gm)) names.add(m[1]!);
    return names;
  }
  let body = false;
  for (const line of txt.split('\n')) {
    if (/^\s*-+\s*$/.test(line) || /^\s*--$/.test(line)) {
      body = true;
      continue;
    }
    if (!body) continue;
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 2) for (const n of cols[1]!.split(',')) names.add(n);
  }
  return names;
}
