import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfaasApiError, type FfaasClient, type PollResponse } from '../../../client/index.ts';
import { downloadSequence, playlistReferences } from '../../../cli/run.ts';
import { sequencePattern } from '../../../core/command/paths.ts';

/** A download server on 127.0.0.1: /v/cmd/tok/<name> answers the name as the body. */
let base: string;
let served: string[];
const server = createServer((req, res) => {
  const name = decodeURIComponent((req.url ?? '').split('/').at(-1) ?? '');
  if (!served.includes(name)) return void res.writeHead(404).end();
  res.writeHead(200).end(`bytes of ${name}`);
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v/cmd/tok`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const done = (fileCount: number, first: string) =>
  ({
    command_id: 'cmd',
    status: 'SUCCESS',
    output_files: { out_f: { storage_url: `${base}/${encodeURIComponent(first)}`, file_count: fileCount } },
  }) as unknown as PollResponse;

describe('ffaas run: the files of an image sequence', () => {
  it("without the job's file list, takes FFmpeg's consecutive numbers from the first file and file_count", async () => {
    served = ['shot_0007.png', 'shot_0008.png', 'shot_0009.png'];
    const client = {
      getRendobarJob: async () => {
        throw new FfaasApiError(404, 'NOT_FOUND', '404 NOT_FOUND: No such route', null);
      },
    } as unknown as FfaasClient;
    const cwd = await mkdtemp(path.join(tmpdir(), 'ffaas-seq-'));
    try {
      const output = { alias: 'out_f', filename: 'shot_%04d.png', localPath: 'frames/shot_%04d.png' };
      const written = await downloadSequence(
        client,
        done(3, 'shot_0007.png'),
        output,
        sequencePattern(output.filename)!,
        cwd,
      );
      expect(written).toEqual(['frames/shot_0007.png', 'frames/shot_0008.png', 'frames/shot_0009.png']);
      expect((await readdir(path.join(cwd, 'frames'))).sort()).toEqual(served);
      expect(await readFile(path.join(cwd, 'frames', 'shot_0009.png'), 'utf8')).toBe('bytes of shot_0009.png');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("with the job's file list, takes exactly the files matching the pattern (not other outputs')", async () => {
    served = ['1.jpg', '2.jpg', '10.jpg', 'other.mp4'];
    const client = {
      getRendobarJob: async () => ({
        data: {
          output: {
            files: ['1.jpg', '2.jpg', '10.jpg', 'other.mp4'].map((p) => ({ path: p, url: `${base}/${p}` })),
          },
        },
      }),
    } as unknown as FfaasClient;
    const cwd = await mkdtemp(path.join(tmpdir(), 'ffaas-seq-'));
    try {
      const output = { alias: 'out_f', filename: '%d.jpg', localPath: '%d.jpg' };
      const written = await downloadSequence(client, done(3, '1.jpg'), output, sequencePattern('%d.jpg')!, cwd);
      expect(written).toEqual(['1.jpg', '2.jpg', '10.jpg']);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('a manifest names its segments, variant playlists and init files, never absolute URLs', () => {
    const m3u8 =
      '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:1,\nseg_000.m4s\nhttps://cdn.example/x.ts\nlow/index.m3u8\n';
    expect(playlistReferences(m3u8).sort()).toEqual(['init.mp4', 'low/index.m3u8', 'seg_000.m4s']);
  });
});
