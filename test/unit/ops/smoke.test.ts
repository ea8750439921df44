import { describe, expect, it } from 'vitest';
import {
  formatResults,
  parseSmokeArgs,
  probeProblems,
  smokeCommandBody,
  smokeEventPattern,
  UsageError,
} from '../../../scripts/smoke.ts';
import { parseFfmpegCommand } from '../../../core/command/index.ts';

describe('smoke: arguments', () => {
  it('a stack target, with region, webhook and timeout', () => {
    expect(
      parseSmokeArgs([
        '--stack',
        'Ffaas',
        '--input-url',
        'https://e.com/v.mp4',
        '--region',
        'eu-west-1',
        '--webhook-url',
        'https://h.example.com/x',
        '--timeout',
        '90',
      ]),
    ).toEqual({
      target: { kind: 'stack', stackName: 'Ffaas', region: 'eu-west-1' },
      inputUrl: 'https://e.com/v.mp4',
      webhookUrl: 'https://h.example.com/x',
      timeoutSeconds: 90,
    });
  });

  it('a URL target with its key; a trailing slash is dropped; default timeout 600 s', () => {
    expect(
      parseSmokeArgs(['--url', 'http://127.0.0.1:3000/', '--key', 'ffsk_x', '--input-url', 'http://127.0.0.1:9/v.mp4']),
    ).toEqual({
      target: { kind: 'url', url: 'http://127.0.0.1:3000', key: 'ffsk_x' },
      inputUrl: 'http://127.0.0.1:9/v.mp4',
      timeoutSeconds: 600,
    });
  });

  it.each([
    [[], /--stack NAME/],
    [['--stack', 'A', '--url', 'http://x', '--input-url', 'http://i'], /not both/],
    [['--url', 'http://x', '--input-url', 'http://i'], /needs --key/],
    [['--stack', 'A', '--key', 'k', '--input-url', 'http://i'], /creates its own key/],
    [['--url', 'http://x', '--key', 'k', '--region', 'r', '--input-url', 'http://i'], /--region is for --stack/],
    [['--stack', 'A'], /--input-url URL is required/],
    [['--stack', 'A', '--input-url', 'file:///etc/passwd'], /--input-url must be an http/],
    [['--stack', 'A', '--input-url', 'http://i', '--timeout', '0'], /positive/],
    [['--stack', 'A', '--input-url', 'http://i', '--bogus'], /bogus/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseSmokeArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseSmokeArgs(argv as string[])).toThrow(message);
  });
});

describe('smoke: pure parts', () => {
  it('the smoke command passes the command policy', () => {
    const body = smokeCommandBody('https://e.com/v.mp4', 'https://h.example.com') as any;
    expect(body.webhook_url).toBe('https://h.example.com');
    const parsed = parseFfmpegCommand({
      commands: [body.ffmpeg_command],
      inputFiles: body.input_files,
      outputFiles: body.output_files,
      compute: 'auto',
      gpuAvailable: false,
    });
    expect(parsed.ok).toBe(true);
  });

  it('probe checks: a 160 px video of about a second', () => {
    expect(probeProblems({ streams: [{ codec_type: 'video', width: 160 }], format: { duration: '1.000000' } })).toEqual(
      [],
    );
    expect(probeProblems({ streams: [{ codec_type: 'audio' }], format: { duration: '1.0' } })).toEqual([
      'no video stream',
    ]);
    expect(probeProblems({ streams: [{ codec_type: 'video', width: 320 }], format: { duration: '9' } })).toHaveLength(
      2,
    );
  });

  it("the event pattern matches the smoke account's completions only", () => {
    expect(smokeEventPattern('acct-1')).toEqual({ source: ['ffaas'], detail: { account_id: ['acct-1'] } });
  });

  it('a run passes only when no step failed (skips are fine) and something ran', () => {
    expect(
      formatResults([
        { step: 'submit', outcome: 'ok', detail: '' },
        { step: 'webhook', outcome: 'skipped', detail: '' },
      ]).ok,
    ).toBe(true);
    expect(formatResults([{ step: 'submit', outcome: 'failed', detail: 'HTTP 401' }]).ok).toBe(false);
    expect(formatResults([]).ok).toBe(false);
  });
});
