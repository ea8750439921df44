/**
 * core/media/image-header.ts against ffprobe itself: for pictures FFmpeg writes (JPEG in every
 * sampling it produces, grey, progressive; PNG in 8/16-bit grey, RGB, RGBA, palette), the meta
 * built from the header equals the meta built from ffprobe's JSON, field for field. The cases
 * it does not know answer null (the worker then runs ffprobe).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_HEADER_BYTES, probeImageHeader } from '../../../core/media/image-header.ts';
import { toOutputFileMeta, type ProbeJson } from '../../../core/media/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ffaas-imghdr-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function make(name: string, args: string[]): string {
  const file = path.join(dir, name);
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=96x64:rate=25',
    '-frames:v',
    '1',
    ...args,
    file,
  ]);
  return file;
}

function ffprobe(file: string): ProbeJson {
  return JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], {
      encoding: 'utf8',
    }),
  ) as ProbeJson;
}

const facts = (name: string) => ({ fileId: 'id', fileName: name, sizeBytes: 1234 });

describe('probeImageHeader', () => {
  it.each([
    ['default.jpg', []],
    ['420.jpg', ['-pix_fmt', 'yuvj420p']],
    ['422.jpg', ['-pix_fmt', 'yuvj422p']],
    ['444.jpg', ['-pix_fmt', 'yuvj444p']],
    ['gray-source.jpg', ['-pix_fmt', 'gray']],
    ['grey-only.jpg', ['-vf', 'format=gray', '-pix_fmt', 'gray', '-c:v', 'mjpeg', '-strict', 'unofficial']],
    ['quality.jpeg', ['-q:v', '2']],
    ['default.png', []],
    ['rgba.png', ['-pix_fmt', 'rgba']],
    ['gray.png', ['-pix_fmt', 'gray']],
    ['gray16.png', ['-pix_fmt', 'gray16be']],
    ['rgb48.png', ['-pix_fmt', 'rgb48be']],
    ['rgba64.png', ['-pix_fmt', 'rgba64be']],
    ['ya8.png', ['-pix_fmt', 'ya8']],
    ['pal8.png', ['-vf', 'format=pal8']],
  ])('%s: the same meta as ffprobe gives', async (name, args) => {
    const file = make(name, args as string[]);
    const head = (await readFile(file)).subarray(0, IMAGE_HEADER_BYTES);
    const fromHeader = probeImageHeader(name, head);
    expect(fromHeader, 'the header is understood').not.toBeNull();
    expect(toOutputFileMeta(fromHeader, facts(name))).toEqual(toOutputFileMeta(ffprobe(file), facts(name)));
  });

  it('leaves what it does not know to ffprobe', async () => {
    const jpg = await readFile(make('x.jpg', []));
    const pngBytes = await readFile(make('x.png', []));
    // Not an image extension it handles, or bytes that are not that format.
    expect(probeImageHeader('x.webp', jpg)).toBeNull();
    expect(probeImageHeader('x.jpg', pngBytes)).toBeNull();
    expect(probeImageHeader('x.png', jpg)).toBeNull();
    // The header cut before the frame header / the image data.
    expect(probeImageHeader('x.jpg', jpg.subarray(0, 20))).toBeNull();
    expect(probeImageHeader('x.png', pngBytes.subarray(0, 40))).toBeNull();
    // An animated PNG (acTL before the image data).
    const apng = await readFile(
      (() => {
        const f = path.join(dir, 'anim.png');
        execFileSync('ffmpeg', [
          '-v',
          'error',
          '-y',
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=32x32:rate=5',
          '-frames:v',
          '3',
          '-f',
          'apng',
          '-plays',
          '0',
          f,
        ]);
        return f;
      })(),
    );
    expect(probeImageHeader('anim.png', apng)).toBeNull();
    // FFmpeg's limited-range JPEG comment.
    const limited = await readFile(make('limited.jpg', ['-pix_fmt', 'yuv420p', '-strict', 'unofficial']));
    if (limited.includes('CS=ITU601')) expect(probeImageHeader('limited.jpg', limited)).toBeNull();
  });
});
