/**
 * `ffaas run -- ffmpeg …`: uploads the local inputs (upload-url + PUT, any size), submits the
 * command with placeholders, shows the service's live progress, cancels on Ctrl-C, and
 * downloads the outputs to the paths named in the command (a playlist with its segments).
 * Exit code: 0 on SUCCESS, 1 when the command FAILED (FFmpeg's stderr tail on stderr), 130
 * when cancelled with Ctrl-C.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { FfaasApiError, type FfaasClient, type PollResponse } from '../client/index.ts';
import { type SequencePattern, sequenceMembers, sequencePattern } from '../core/command/paths.ts';
import { CliUsageError } from './connection.ts';
import { planFfmpegArgs, type PlannedOutput } from './ffmpeg-args.ts';

export interface RunOptions {
  json: boolean;
  /** Don't download the outputs (print their URLs). */
  noDownload?: boolean;
  cwd?: string;
  stderr?: NodeJS.WriteStream;
}

export interface RunResult {
  command: PollResponse;
  downloaded: string[];
}

const log = (msg: string) => process.stderr.write(`ffaas: ${msg}\n`);

export async function runFfmpeg(client: FfaasClient, argv: string[], options: RunOptions): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const plan = planFfmpegArgs(argv);
  const input_files: Record<string, string> = {};
  for (const input of plan.inputs) {
    if (input.kind === 'url') {
      input_files[input.alias] = input.source;
      continue;
    }
    const file = path.resolve(cwd, input.source);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) throw new CliUsageError(`input ${input.source} is neither a file here nor a URL`);
    if (!options.json) log(`uploading ${input.source} (${(info.size / 1048576).toFixed(1)} MiB) …`);
    try {
      const stored = await client.uploadFile(new Uint8Array(await readFile(file)), path.basename(file));
      input_files[input.alias] = stored.file_id;
    } catch (err) {
      if (err instanceof FfaasApiError && err.status === 404 && err.code === 'NOT_FOUND') {
        throw new CliUsageError(
          `this server has no files API, so ${input.source} cannot be uploaded: give the input as an http(s) URL`,
        );
      }
      throw err;
    }
  }
  const output_files = Object.fromEntries(plan.outputs.map((o) => [o.alias, o.filename]));
  const { command_id } = await client.runFfmpegCommand({ input_files, output_files, ffmpeg_command: plan.command });
  if (!options.json) log(`command ${command_id} submitted`);

  const tty = !options.json && process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: '{bar} {percentage}% | {status} | speed {speed}', hideCursor: true, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(100, 0, { status: 'QUEUED', speed: '-' });

  // Ctrl-C cancels the command on the service, then the wait sees it end.
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    bar?.stop();
    log(`cancelling ${command_id} … (Ctrl-C again to leave it running)`);
    client.cancelCommand(command_id).catch((err: unknown) => {
      if (err instanceof FfaasApiError && err.status === 404) {
        log(`this server cannot cancel commands: ${command_id} keeps running (ffaas commands get ${command_id})`);
        process.exit(130);
      }
      if (!(err instanceof FfaasApiError && err.status === 409)) log(`cancel failed: ${(err as Error).message}`);
    });
  };
  process.on('SIGINT', onSigint);
  let done: PollResponse;
  try {
    done = await client.waitForCommand(command_id, {
      initialDelayMs: 500,
      maxDelayMs: 2000,
      onUpdate: (c) => {
        const p = c.progress;
        bar?.update(c.status === 'SUCCESS' ? 100 : Math.round(p?.percent ?? 0), {
          status: c.status,
          speed: p?.speed != null ? `${p.speed}x` : '-',
        });
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    bar?.stop();
  }

  if (done.status !== 'SUCCESS') {
    if (options.json) process.stdout.write(`${JSON.stringify({ command: done, downloaded: [] }, null, 2)}\n`);
    process.stderr.write(`ffaas: command ${command_id} FAILED (${done.error_status})\n${done.error_message ?? ''}\n`);
    return interrupted || String(done.error_status) === 'CANCELLED' ? 130 : 1;
  }
  const downloaded: string[] = [];
  if (!options.noDownload) {
    for (const output of plan.outputs) {
      const pattern = sequencePattern(output.filename);
      downloaded.push(
        ...(pattern
          ? await downloadSequence(client, done, output, pattern, cwd)
          : await downloadOutput(done, output, cwd)),
      );
    }
  }
  if (options.json)
    process.stdout.write(`${JSON.stringify({ command: done, downloaded } satisfies RunResult, null, 2)}\n`);
  else {
    for (const file of downloaded) log(`wrote ${file}`);
    if (options.noDownload)
      for (const o of plan.outputs) log(`${o.filename}: ${done.output_files[o.alias]?.storage_url}`);
  }
  return 0;
}

async function download(url: string, file: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`download of ${path.basename(file)} answered ${res.status}`);
  await mkdir(path.dirname(file), { recursive: true });
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
}

/** The output, and for a playlist (HLS/DASH) every file its manifests name, resolved next to it. */
async function downloadOutput(done: PollResponse, output: PlannedOutput, cwd: string): Promise<string[]> {
  const meta = done.output_files[output.alias];
  if (!meta?.storage_url) throw new Error(`output ${output.alias} has no storage_url`);
  const target = path.resolve(cwd, output.localPath);
  await download(meta.storage_url, target);
  const files = [path.relative(cwd, target) || target];
  if (meta.file_count > 1) {
    const queue = [meta.storage_url];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const manifestUrl = queue.shift()!;
      const text = await (await fetch(manifestUrl)).text();
      for (const name of playlistReferences(text)) {
        const url = new URL(name, manifestUrl);
        url.search = new URL(manifestUrl).search;
        const local = path.join(path.dirname(target), name);
        if (seen.has(local) || name.includes('..')) continue;
        seen.add(local);
        await download(url.href, local);
        files.push(path.relative(cwd, local));
        if (/\.(m3u8|mpd)$/i.test(name)) queue.push(url.href);
      }
    }
  }
  return files;
}

/**
 * An image sequence or segment set (`frames/%03d.png`): every file the pattern matched, into the
 * directory the user named. The names come from the job's file list (GET /jobs/{id}, ffaas's
 * own); a server without it gets the consecutive numbers FFmpeg writes, from the first file's
 * name and file_count (one download token covers every file of the command).
 */
export async function downloadSequence(
  client: FfaasClient,
  done: PollResponse,
  output: PlannedOutput,
  pattern: SequencePattern,
  cwd: string,
): Promise<string[]> {
  const meta = done.output_files[output.alias];
  if (!meta?.storage_url) throw new Error(`output ${output.alias} has no storage_url`);
  const dir = path.dirname(path.resolve(cwd, output.localPath));
  let members: { name: string; url: string }[] = [];
  try {
    const job = await client.getRendobarJob(done.command_id);
    const files = ((job.data.output as { files?: { path: string; url: string }[] } | undefined)?.files ?? []).filter(
      (f) => typeof f.path === 'string' && typeof f.url === 'string',
    );
    const urls = new Map(files.map((f) => [f.path, f.url]));
    members = sequenceMembers(pattern, [...urls.keys()]).map((name) => ({ name, url: urls.get(name)! }));
  } catch {
    /* not an ffaas server with Rendobar's routes: numbers below */
  }
  if (members.length !== meta.file_count) {
    const first = decodeURIComponent(new URL(meta.storage_url).pathname.split('/').at(-1) ?? '');
    const start =
      sequenceMembers(pattern, [first]).length === 1
        ? Number(first.slice(pattern.prefix.length, first.length - pattern.suffix.length))
        : Number.NaN;
    if (!Number.isInteger(start)) throw new Error(`cannot tell the files of ${output.filename} from ${first}`);
    members = Array.from({ length: meta.file_count }, (_, i) => {
      const name = `${pattern.prefix}${String(start + i).padStart(pattern.width, '0')}${pattern.suffix}`;
      const url = new URL(meta.storage_url!);
      url.pathname = `${url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1)}${encodeURIComponent(name)}`;
      return { name, url: url.href };
    });
  }
  const written: string[] = [];
  for (const { name, url } of members) {
    if (name.includes('/') || name.includes('..')) continue;
    const local = path.join(dir, name);
    await download(url, local);
    written.push(path.relative(cwd, local));
  }
  return written;
}

/** Relative file names an HLS or DASH manifest refers to. */
export function playlistReferences(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (l && !l.startsWith('#') && !/^[a-z]+:/i.test(l)) names.add(l);
    for (const m of l.matchAll(/URI="([^"]+)"/g)) names.add(m[1]!);
  }
  for (const m of text.matchAll(/(?:media|initialization|sourceURL)="([^"$]+)"/g)) names.add(m[1]!);
  return [...names].filter((n) => !/^[a-z]+:/i.test(n));
}
