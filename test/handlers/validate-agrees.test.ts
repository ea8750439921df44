/**
 * POST /validate agrees with submit: a corpus of bodies (good ones and one of every class of
 * refusal: schema, limits, command policy, source bounds, compute, URL policy) goes through
 * the validate handler and through the submit handler it is meant for, and the verdicts must
 * match: valid ⇔ 200, and on a refusal the same code and the same paths. The URL policy is the
 * real one (literal addresses and /etc/hosts names only: nothing leaves the machine), run with
 * and without FFAAS_ALLOW_PRIVATE_URLS. AWS clients are mocked: nothing here is about storage.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ENV } from '../../core/constants.ts';
import { handler as runOne } from '../../lambdas/run-ffmpeg-command/index.ts';
import { handler as runChained } from '../../lambdas/run-chained-ffmpeg-commands/index.ts';
import { handler as validate } from '../../lambdas/validate/index.ts';
import { apiEvent, call, setEnv } from './support.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

/** A public address written as a literal: checked without any DNS lookup. */
const PUBLIC = 'https://93.184.216.34/media';
const good = {
  input_files: { in_v: `${PUBLIC}/clip.mp4` },
  output_files: { out_v: 'out.mp4' },
  ffmpeg_command: 'ffmpeg -i {{in_v}} -c:v libx264 -crf 23 {{out_v}}',
};
const chain = {
  input_files: { in_v: `${PUBLIC}/clip.mp4` },
  output_files: { out_v: 'out.mp4' },
  ffmpeg_commands: ['-i {{in_v}} -t 2 mid.mp4', '-i mid.mp4 -c copy {{out_v}}'],
};
const many = (n: number, f: (i: number) => [string, string]) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => f(i)));

/** name → body. The route (single or chained) follows from `ffmpeg_commands`, as validate decides it. */
const CORPUS: Record<string, unknown> = {
  'good: transcode': good,
  'good: lavfi-only with empty inputs': {
    input_files: {},
    output_files: { out_v: 'v.mp4' },
    ffmpeg_command: '-filter_complex testsrc2=d=1:s=320x240 {{out_v}}',
  },
  'good: chain': chain,
  'good: every option': {
    ...good,
    metadata: { a: 1, b: 'x', c: true },
    max_command_run_seconds: 60,
    vcpu_count: 4,
    compute: 'cpu',
    webhook_url: `${PUBLIC}/hook`,
  },
  // schema (400 and 422)
  'schema: not an object': 'nope',
  'schema: no input_files': { output_files: good.output_files, ffmpeg_command: good.ffmpeg_command },
  'schema: no output_files': { input_files: good.input_files, ffmpeg_command: good.ffmpeg_command },
  'schema: empty output_files': { ...good, output_files: {} },
  'schema: no command': { input_files: good.input_files, output_files: good.output_files },
  'schema: command not a string': { ...good, ffmpeg_command: 42 },
  'schema: empty command': { ...good, ffmpeg_command: '   ' },
  'schema: command too long': { ...good, ffmpeg_command: `-i {{in_v}} -metadata title=${'x'.repeat(17000)} {{out_v}}` },
  'schema: bad input alias': { ...good, input_files: { video: `${PUBLIC}/a.mp4` } },
  'schema: output name with a slash': { ...good, output_files: { out_v: 'a/b.mp4' } },
  'schema: input not http': { ...good, input_files: { in_v: 'file:///etc/passwd' } },
  'schema: too many inputs': { ...good, input_files: many(11, (i) => [`in_${i}`, `${PUBLIC}/${i}.mp4`]) },
  'schema: too many outputs': { ...good, output_files: many(11, (i) => [`out_${i}`, `${i}.mp4`]) },
  'schema: too many metadata keys': { ...good, metadata: many(11, (i) => [`k${i}`, 'v']) },
  'schema: metadata value an object': { ...good, metadata: { a: { b: 1 } } },
  'schema: run seconds 0': { ...good, max_command_run_seconds: 0 },
  'schema: run seconds over the limit': { ...good, max_command_run_seconds: 99999 },
  'schema: vcpu_count 3': { ...good, vcpu_count: 3 },
  'schema: compute tpu': { ...good, compute: 'tpu' },
  'schema: webhook not http': { ...good, webhook_url: 'ftp://x/y' },
  'schema: chain of 11': { ...chain, ffmpeg_commands: Array.from({ length: 11 }, () => '-i {{in_v}} {{out_v}}') },
  'schema: empty chain': { ...chain, ffmpeg_commands: [] },
  // command policy
  'policy: forbidden option': { ...good, ffmpeg_command: 'ffmpeg -i {{in_v}} -dump_attachment:t x {{out_v}}' },
  'policy: forbidden filter': { ...good, ffmpeg_command: 'ffmpeg -i {{in_v}} -vf movie=/etc/passwd {{out_v}}' },
  'policy: absolute path': { ...good, ffmpeg_command: 'ffmpeg -i /etc/passwd {{out_v}}' },
  'policy: protocol': { ...good, ffmpeg_command: 'ffmpeg -i http://127.0.0.1/x {{out_v}}' },
  'policy: undeclared alias': { ...good, ffmpeg_command: 'ffmpeg -i {{in_other}} {{out_v}}' },
  'policy: unused input': { ...good, input_files: { ...good.input_files, in_w: `${PUBLIC}/w.mp4` } },
  'policy: chain reads what no earlier command wrote': {
    ...chain,
    ffmpeg_commands: ['-i nothing.mp4 {{out_v}}', '-i {{in_v}} -f null -'],
  },
  'policy: unbounded source': {
    input_files: {},
    output_files: { out_v: 'v.mp4' },
    ffmpeg_command: '-filter_complex testsrc2=s=320x240 {{out_v}}',
  },
  'policy: huge source': {
    input_files: {},
    output_files: { out_v: 'v.mp4' },
    ffmpeg_command: '-filter_complex testsrc2=d=1:s=100000x100000 {{out_v}}',
  },
  'compute: gpu where none is configured': { ...good, compute: 'gpu' },
  'compute: nvenc with auto': { ...good, ffmpeg_command: 'ffmpeg -i {{in_v}} -c:v h264_nvenc {{out_v}}' },
  // URL policy
  'url: loopback input': { ...good, input_files: { in_v: 'http://127.0.0.1:8080/a.mp4' } },
  'url: localhost input': { ...good, input_files: { in_v: 'http://localhost/a.mp4' } },
  'url: IPv6 loopback input': { ...good, input_files: { in_v: 'http://[::1]/a.mp4' } },
  'url: private input': { ...good, input_files: { in_v: 'http://10.0.0.7/a.mp4' } },
  'url: decimal loopback input': { ...good, input_files: { in_v: 'http://2130706433/a.mp4' } },
  'url: metadata endpoint input': { ...good, input_files: { in_v: 'http://169.254.169.254/latest/meta-data' } },
  'url: private webhook': { ...good, webhook_url: 'http://192.168.1.1/hook' },
  'url: private input in a chain': { ...chain, input_files: { in_v: 'http://127.0.0.1/a.mp4' } },
};

interface Verdict {
  ok: boolean;
  code?: string;
  paths?: unknown[];
}

async function viaSubmit(body: unknown): Promise<Verdict> {
  const chained = typeof body === 'object' && body !== null && 'ffmpeg_commands' in body;
  const res = await call(chained ? runChained : runOne, apiEvent({ body }));
  if (res.status === 200) return { ok: true };
  return {
    ok: false,
    code: res.body.error.code,
    paths: (res.body.error.details ?? []).map((d: { path: unknown }) => d.path),
  };
}

async function viaValidate(body: unknown): Promise<Verdict> {
  const res = await call(validate, apiEvent({ body, accountId: null }));
  expect(res.status).toBe(200);
  if (res.body.valid === true) return { ok: true };
  const errors = res.body.errors as { code: string; path: unknown }[];
  expect(new Set(errors.map((e) => e.code)).size).toBe(1);
  return { ok: false, code: errors[0]!.code, paths: errors.map((e) => e.path) };
}

describe.each([
  { allowPrivate: false, accepted: (name: string) => name.startsWith('good') },
  // With private URLs allowed, the loopback/private ones pass; metadata endpoints never do.
  {
    allowPrivate: true,
    accepted: (name: string) => name.startsWith('good') || (name.startsWith('url:') && !name.includes('metadata')),
  },
])('validate agrees with submit (FFAAS_ALLOW_PRIVATE_URLS=$allowPrivate)', ({ allowPrivate, accepted }) => {
  beforeEach(() => {
    setEnv({ [ENV.ALLOW_PRIVATE_URLS]: allowPrivate ? '1' : '' });
    ddb.reset();
    sfn.reset();
    ddb.on(PutCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Count: 0 }); // admission's queued count
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec', startDate: new Date() });
  });

  it('the corpus covers every class of refusal', () => {
    const classes = new Set(Object.keys(CORPUS).map((n) => n.split(':')[0]));
    expect([...classes].sort()).toEqual(['compute', 'good', 'policy', 'schema', 'url']);
  });

  it.each(Object.keys(CORPUS))('%s', async (name) => {
    const body = CORPUS[name];
    const submitted = await viaSubmit(body);
    const validated = await viaValidate(body);
    expect(validated).toEqual(submitted);
    expect(submitted.ok, `expected ${accepted(name) ? 'acceptance' : 'refusal'}: ${JSON.stringify(submitted)}`).toBe(
      accepted(name),
    );
  });
});
