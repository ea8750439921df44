/**
 * Files a filter opens by itself are checked by content before FFmpeg runs, with real files and
 * the real ffprobe (restricted to the subtitle demuxers): a ".srt" that is an HLS playlist or a
 * concat list, a "font" that is text, a LUT that names a URL or a file, a text file with a URL.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilterFileKind } from '../../core/command/filter-files.ts';
import { checkFilterFile } from '../../core/media/index.ts';
import type { CommandPlan } from '../../core/types.ts';
import { WorkerError } from '../../fargate-task/src/errors.ts';
import { checkFilterFilesOf, workspaceFileIo } from '../../fargate-task/src/filter-files.ts';

let ws: string;
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const SRT = '1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,000 --> 00:00:02,000\nWorld\n';
const ASS =
  '[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\nStyle: Default,Arial,20\n\n[Events]\nFormat: Layer, Start, End, Style, Text\nDialogue: 0,0:00:00.00,0:00:01.00,Default,Hi\n';
const CUBE = `TITLE "warm"\nLUT_3D_SIZE 2\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n${Array.from({ length: 8 }, (_, i) => `${i & 1} ${(i >> 1) & 1} ${(i >> 2) & 1}`).join('\n')}\n`;

function put(name: string, content: string | Buffer): string {
  writeFileSync(join(ws, name), content);
  return name;
}

function io() {
  return workspaceFileIo(ws, { cwd: ws, ffprobePath: 'ffprobe', timeoutMs: 20_000 });
}

async function verdict(name: string, kind: FilterFileKind) {
  return checkFilterFile(name, kind, io());
}

beforeAll(() => {
  ws = mkdtempSync(join(tmpdir(), 'ffaas-ff-'));
  copyFileSync(FONT, join(ws, 'in_font.ttf'));
  put('in_subs.srt', SRT);
  put('in_subs.ass', ASS);
  // A video with a mov_text subtitle track (subtitles= may read subtitles from a container).
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=size=64x48:duration=1',
      '-i',
      'in_subs.srt',
      '-c:v',
      'libx264',
      '-c:s',
      'mov_text',
      '-y',
      'in_video.mp4',
    ],
    { cwd: ws },
  );
  if (r.status !== 0) throw new Error(String(r.stderr));
});

afterAll(() => rmSync(ws, { recursive: true, force: true }));

describe('legitimate files pass', () => {
  it('an SRT, an ASS and an MP4 with a subtitle track are subtitles', async () => {
    expect(await verdict('in_subs.srt', 'subtitle')).toEqual({ ok: true });
    expect(await verdict('in_subs.ass', 'subtitle')).toEqual({ ok: true });
    expect(await verdict('in_video.mp4', 'subtitle')).toEqual({ ok: true });
    expect(await verdict(put('in_subs.vtt', `WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n`), 'subtitle')).toEqual({
      ok: true,
    });
  });
  it('a real TrueType font is a font', async () => {
    expect(await verdict('in_font.ttf', 'font')).toEqual({ ok: true });
  });
  it('a .cube LUT is a LUT, and FFmpeg reads it', async () => {
    expect(await verdict(put('in_lut.cube', CUBE), 'lut3d')).toEqual({ ok: true });
    const r = spawnSync(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'color=size=64x48:duration=0.2',
        '-vf',
        'lut3d=in_lut.cube',
        '-f',
        'null',
        '-',
      ],
      { cwd: ws },
    );
    expect(r.status, String(r.stderr)).toBe(0);
  });
  it('a 1D .cube LUT is a LUT', async () => {
    expect(await verdict(put('in_l1.cube', 'LUT_1D_SIZE 2\n0 0 0\n1 1 1\n'), 'lut1d')).toEqual({ ok: true });
  });
  it('UTF-8 text is text', async () => {
    expect(await verdict(put('in_t.txt', 'Grüße — 2026\nline two\n'), 'text')).toEqual({ ok: true });
  });
});

describe('crafted files are refused', () => {
  const cases: [string, string | Buffer, FilterFileKind, RegExp][] = [
    [
      'an .srt that is an HLS playlist',
      '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n',
      'subtitle',
      /read as "hls"|HLS|not a subtitle/,
    ],
    ['an .srt that is a concat list', 'ffconcat version 1.0\nfile /etc/passwd\n', 'subtitle', /concat|not a subtitle/],
    [
      'an .srt that is a concat list without header',
      "file '/etc/passwd'\n",
      'subtitle',
      /concat|not a subtitle|read as/,
    ],
    [
      'an .ass that is a DASH manifest',
      '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><AdaptationSet><Representation><BaseURL>http://127.0.0.1:9/</BaseURL></Representation></AdaptationSet></Period></MPD>\n',
      'subtitle',
      /.+/,
    ],
    ['an SRT carrying an HLS tag', `${SRT}\n3\n00:00:02,000 --> 00:00:03,000\n#EXTM3U\n`, 'subtitle', /HLS/],
    ['an ASS embedding fonts', `${ASS}\n[Fonts]\nfontname: x.ttf\nABCD\n`, 'subtitle', /Fonts/],
    ['an empty subtitle file', '', 'subtitle', /empty/],
    ['a "font" that is text', 'this is not a font, just text that pretends\n', 'font', /magic/],
    ['a "font" that is an HLS playlist', '#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/a\n', 'font', /magic/],
    ['a LUT with a URL in its title', 'TITLE "http://127.0.0.1:9/x"\nLUT_3D_SIZE 2\n0 0 0\n', 'lut3d', /URL/],
    ['a LUT with a concat directive', 'file /etc/passwd\n0 0 0\n', 'lut3d', /concat/],
    ['a LUT with a protocol', 'LUT_3D_SIZE 2\n#x\nfile:/etc/passwd\n0 0 0\n', 'lut3d', /protocol|neither/],
    ['a LUT with stray words', 'LUT_3D_SIZE 2\nrm -rf /\n0 0 0\n', 'lut3d', /neither numbers nor/],
    ['a binary "LUT"', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02]), 'lut3d', /not a text LUT|control/],
    ['a LUT without values', 'TITLE "x"\nLUT_3D_SIZE 2\n', 'lut3d', /no LUT values/],
    ['a text file with a URL', 'see http://127.0.0.1:9/\n', 'text', /URL/],
    ['a text file with a file: reference', 'file:/etc/passwd\n', 'text', /protocol/],
    ['a text file that is a playlist', '#EXTM3U\n', 'text', /HLS/],
    ['a text file that is not UTF-8', Buffer.from([0xc3, 0x28, 0x41]), 'text', /UTF-8/],
    ['a text file with control characters', 'a\u0007b', 'text', /control/],
    ['a text file over 64 KiB', 'a'.repeat(65 * 1024), 'text', /over/],
  ];
  for (const [name, content, kind, reason] of cases) {
    it(name, async () => {
      const ext = {
        subtitle: name.includes('.ass') ? 'ass' : 'srt',
        font: 'ttf',
        lut3d: 'cube',
        lut1d: 'cube',
        text: 'txt',
      }[kind];
      const file = put(`in_${Math.random().toString(36).slice(2, 8)}.${ext}`, content);
      const v = await verdict(file, kind);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(reason);
    });
  }
  it('a missing file is refused', async () => {
    expect((await verdict('in_nothing.srt', 'subtitle')).ok).toBe(false);
  });
});

describe('the worker step', () => {
  const plan = (local: string, kind: FilterFileKind, commandIndex = 0): CommandPlan => ({
    inputs: [{ alias: 'in_subs', url: 'https://x.example/s.srt', local_name: local }],
    outputs: [],
    commands: [
      ['-i', 'x'],
      ['-i', 'y'],
    ],
    filter_files: [{ command_index: commandIndex, local_name: local, kind, opened_by: 'subtitles filename' }],
  });
  it('passes a good input and refuses a crafted one with INPUT_DOWNLOAD_FAILED and a clear message', async () => {
    await expect(checkFilterFilesOf(plan('in_subs.srt', 'subtitle'), 0, io())).resolves.toBeUndefined();
    const bad = put('in_evil.srt', '#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n');
    const err = await checkFilterFilesOf(plan(bad, 'subtitle'), 0, io()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).status).toBe('INPUT_DOWNLOAD_FAILED');
    expect((err as WorkerError).message).toMatch(
      /input in_subs \("in_evil.srt"\), given to filter option subtitles filename as a subtitle file, was refused before FFmpeg ran/,
    );
  });
  it('checks a file only before the command that opens it; an intermediate file fails as FFMPEG_FAILED', async () => {
    const p = plan('in_evil.srt', 'subtitle', 1);
    await expect(checkFilterFilesOf(p, 0, io())).resolves.toBeUndefined();
    const inter: CommandPlan = {
      ...p,
      inputs: [],
      filter_files: [{ command_index: 1, local_name: 'mid.srt', kind: 'subtitle', opened_by: 'subtitles filename' }],
    };
    put('mid.srt', 'ffconcat version 1.0\nfile /etc/passwd\n');
    const err = await checkFilterFilesOf(inter, 1, io()).catch((e: unknown) => e);
    expect((err as WorkerError).status).toBe('FFMPEG_FAILED');
  });
});

describe('plans that use filter files run on the real FFmpeg', () => {
  it('subtitles, lut3d and drawtext with workspace files, after the content check', async () => {
    const { parseFfmpegCommand } = await import('../../core/command/index.ts');
    const r = parseFfmpegCommand({
      commands: [
        'ffmpeg -i {{in_video}} -vf "subtitles={{in_subs}},lut3d={{in_lut}},drawtext=fontfile={{in_font}}:text=\'ok\'" -c:v libx264 -t 0.5 {{out_video}}',
      ],
      inputFiles: {
        in_video: 'https://media.example.com/in_video.mp4',
        in_subs: 'https://media.example.com/in_subs.srt',
        in_lut: 'https://media.example.com/in_lut.cube',
        in_font: 'https://media.example.com/in_font.ttf',
      },
      outputFiles: { out_video: 'ran.mp4' },
      gpuAvailable: false,
    });
    expect(r.ok, r.ok ? '' : JSON.stringify(r.violations)).toBe(true);
    if (!r.ok) return;
    put('in_lut.cube', CUBE);
    expect(r.plan.filter_files?.map((f) => f.kind)).toEqual(['subtitle', 'lut3d', 'font']);
    await expect(checkFilterFilesOf(r.plan, 0, io())).resolves.toBeUndefined();
    const run = spawnSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...r.args[0]!], {
      cwd: ws,
      env: {},
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
  });
});
