/**
 * The policy against the real FFmpeg 5.1: plans with the forced options run on ordinary media,
 * and crafted reference-following files inside the workspace (HLS playlist, concat list) that
 * point at /etc/passwd or http:// are refused by FFmpeg itself because of those options.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFfmpegCommand } from '../../core/command/index.ts';
import { SOURCE_FILTERS } from '../../core/command/source-bounds.ts';

let fixtures: string;

function ffmpeg(args: string[], cwd: string): { status: number | null; stderr: string } {
  // As the worker runs it: no shell, empty environment, its own leading options.
  const r = spawnSync('ffmpeg', ['-nostdin', '-hide_banner', '-nostats', '-y', ...args], {
    cwd,
    env: {},
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr };
}

function plan(command: string, inputFiles: Record<string, string>, outputFiles: Record<string, string>): string[] {
  const r = parseFfmpegCommand({ commands: [command], inputFiles, outputFiles, gpuAvailable: false });
  if (!r.ok) throw new Error(JSON.stringify(r.violations));
  return r.args[0]!;
}

function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ffaas-ws-'));
  for (const [local, fixture] of Object.entries(files)) copyFileSync(join(fixtures, fixture), join(dir, local));
  return dir;
}

beforeAll(() => {
  fixtures = mkdtempSync(join(tmpdir(), 'ffaas-fx-'));
  const make = (args: string[]) => {
    const r = ffmpeg(['-loglevel', 'error', ...args], fixtures);
    if (r.status !== 0) throw new Error(r.stderr);
  };
  make([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=duration=1:size=160x120:rate=10',
    '-f',
    'lavfi',
    '-i',
    'sine=duration=1',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    'a.mp4',
  ]);
  make(['-i', 'a.mp4', '-c', 'copy', 'a.mkv']);
  make(['-f', 'lavfi', '-i', 'sine=duration=1', 'a.wav']);
  make(['-f', 'lavfi', '-i', 'testsrc2=size=64x64', '-frames:v', '1', 'a.png']);
  writeFileSync(join(fixtures, 'a.srt'), '1\n00:00:00,000 --> 00:00:01,000\nhello\n');
});

afterAll(() => {
  rmSync(fixtures, { recursive: true, force: true });
});

describe('forced input options with real ffmpeg', () => {
  it.each([
    ['mp4', 'https://e.com/x.mp4', 'a.mp4', 'in_video.mp4', 'out.mkv'],
    ['mkv', 'https://e.com/x.mkv', 'a.mkv', 'in_video.mkv', 'out.mp4'],
    ['wav', 'https://e.com/x.wav', 'a.wav', 'in_video.wav', 'out.flac'],
    ['png', 'https://e.com/x.png', 'a.png', 'in_video.png', 'out.jpg'],
  ])('%s input runs', (_n, url, fixture, local, out) => {
    const args = plan('ffmpeg -i {{in_video}} {{out_file}}', { in_video: url }, { out_file: out });
    expect(args).toContain('-format_whitelist');
    const ws = workspace({ [local]: fixture });
    try {
      const r = ffmpeg(args, ws);
      expect(r.stderr).not.toMatch(/not on whitelist|Option .* not found/);
      expect(r.status).toBe(0);
      expect(existsSync(join(ws, out))).toBe(true);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('subtitles from an input alias burn in', () => {
    const args = plan(
      'ffmpeg -i {{in_video}} -vf subtitles={{in_subs}} -c:a copy {{out_video}}',
      { in_video: 'https://e.com/v.mp4', in_subs: 'https://e.com/s.srt' },
      { out_video: 'o.mp4' },
    );
    const ws = workspace({ 'in_video.mp4': 'a.mp4', 'in_subs.srt': 'a.srt' });
    try {
      const r = ffmpeg(args, ws);
      // Debian's ffmpeg is built with libass; the burn-in must work with a workspace file.
      expect(r.status, r.stderr).toBe(0);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});

describe('crafted reference files inside the workspace are refused by ffmpeg', () => {
  const crafted: [string, string, string][] = [
    [
      'HLS playlist to /etc/passwd named .m3u8',
      'in_video.m3u8',
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n',
    ],
    [
      'HLS playlist to http:// disguised as .mp4',
      'in_video.mp4',
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://169.254.169.254/latest/meta-data\n#EXT-X-ENDLIST\n',
    ],
    ['ffconcat list to /etc/passwd', 'in_video.txt', 'ffconcat version 1.0\nfile /etc/passwd\n'],
    [
      'ffconcat list to http:// disguised as .mkv',
      'in_video.mkv',
      'ffconcat version 1.0\nfile http://169.254.169.254/latest\n',
    ],
  ];
  it.each(crafted)('%s', (_name, local, content) => {
    const url = `https://e.com/x${local.slice('in_video'.length)}`;
    const args = plan(
      'ffmpeg -i {{in_video}} -map 0 -c copy {{out_file}}',
      { in_video: url },
      { out_file: 'leak.mkv' },
    );
    const ws = mkdtempSync(join(tmpdir(), 'ffaas-ws-'));
    try {
      writeFileSync(join(ws, local), content);
      const r = ffmpeg(args, ws);
      expect(r.status).not.toBe(0);
      // Refused by the forced -format_whitelist, whatever the file's extension.
      expect(r.stderr).toMatch(/Format not on whitelist/);
      const leaked = existsSync(join(ws, 'leak.mkv')) ? readFileSync(join(ws, 'leak.mkv')) : Buffer.alloc(0);
      expect(leaked.includes('root:')).toBe(false);
      expect(r.stderr).not.toContain('root:x:0');
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('without the forced options the same HLS playlist would be opened (control)', () => {
    const ws = mkdtempSync(join(tmpdir(), 'ffaas-ws-'));
    try {
      writeFileSync(join(ws, 'p.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg.ts\n#EXT-X-ENDLIST\n');
      const r = ffmpeg(['-i', 'p.m3u8', '-f', 'null', '-'], ws);
      expect(r.stderr).toMatch(/hls|seg\.ts/);
      expect(r.stderr).not.toMatch(/not on whitelist/);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});

describe('source bounds against this FFmpeg build', () => {
  it('knows every source filter FFmpeg has (no input pads), so none is left unbounded', () => {
    const r = spawnSync('ffmpeg', ['-hide_banner', '-filters'], { encoding: 'utf8' });
    const sources = r.stdout
      .split('\n')
      .map((l) => /^\s*[TSC.]{3}\s+(\S+)\s+\|->[VA]\s/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined && n !== 'buffer' && n !== 'abuffer');
    expect(sources.length).toBeGreaterThan(10);
    expect(sources.filter((s) => !SOURCE_FILTERS.has(s))).toEqual([]);
  });

  it('a bounded source runs; the positional size FFmpeg reads is the one the checker bounds', () => {
    const args = plan(
      '-filter_complex color=red:64x48:10:0.5 -c:v libx264 -pix_fmt yuv420p {{out_v}}',
      {},
      { out_v: 'c.mp4' },
    );
    const dir = workspace({});
    try {
      expect(ffmpeg(['-loglevel', 'error', ...args], dir).status).toBe(0);
      const probe = spawnSync(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'stream=width,height:format=duration', '-of', 'json', join(dir, 'c.mp4')],
        { encoding: 'utf8' },
      );
      const info = JSON.parse(probe.stdout);
      expect([info.streams[0].width, info.streams[0].height]).toEqual([64, 48]);
      expect(Number(info.format.duration)).toBeLessThan(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => plan('-filter_complex color=red:100000x100000:10:1 {{out_v}}', {}, { out_v: 'c.mp4' })).toThrow(
      /source-bounds/,
    );
  });
});
