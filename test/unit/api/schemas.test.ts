import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ListCommandsQuerySchema,
  RunChainedFfmpegCommandsSchema,
  RunFfmpegCommandSchema,
  RunMultipleFfmpegCommandsSchema,
  ValidateSchema,
  errorEnvelope,
  parseOrThrow,
  violationsToApiError,
  ErrorEnvelopeSchema,
  type ErrorEnvelope,
} from '../../../core/api/index.ts';
import type { z } from 'zod';

const valid = {
  input_files: { in_video: 'https://example.com/a.mp4' },
  output_files: { out_video: 'result.webm' },
  ffmpeg_command: 'ffmpeg -i {{in_video}} -c:v libvpx-vp9 {{out_video}}',
};

function fail(schema: z.ZodType, body: unknown): ApiError {
  try {
    parseOrThrow(schema, body);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected the body to be refused');
}

/** The FastAPI `detail` list of an envelope (fails the test when it is the plain message). */
function fastApiDetail(env: ErrorEnvelope): Exclude<ErrorEnvelope['detail'], string> {
  if (typeof env.detail === 'string') throw new Error(`expected a detail list, got ${JSON.stringify(env.detail)}`);
  return env.detail;
}

function paths(err: ApiError): string[] {
  return (err.details ?? []).map((d) => d.path.join('.'));
}

describe('run-ffmpeg-command body', () => {
  it('accepts the docs/API.md example with every optional field', () => {
    const body = parseOrThrow(RunFfmpegCommandSchema, {
      ...valid,
      metadata: { project: 'demo', priority: 1, ok: true },
      webhook_url: 'https://hooks.example.com/x',
      max_command_run_seconds: 300,
      compute: 'auto',
      vcpu_count: 4,
    });
    expect(body.vcpu_count).toBe(4);
    expect(body.metadata).toEqual({ project: 'demo', priority: 1, ok: true });
  });

  it('accepts empty input_files (lavfi-only commands)', () => {
    expect(() => parseOrThrow(RunFfmpegCommandSchema, { ...valid, input_files: {} })).not.toThrow();
  });

  describe('400 INVALID_REQUEST', () => {
    it.each([
      ['no body', undefined, ''],
      ['body not an object', [1, 2], ''],
      [
        'missing ffmpeg_command',
        { input_files: valid.input_files, output_files: valid.output_files },
        'ffmpeg_command',
      ],
      ['missing input_files', { output_files: valid.output_files, ffmpeg_command: 'x' }, 'input_files'],
      ['missing output_files', { input_files: valid.input_files, ffmpeg_command: 'x' }, 'output_files'],
      ['blank command', { ...valid, ffmpeg_command: '   ' }, 'ffmpeg_command'],
      ['command not a string', { ...valid, ffmpeg_command: 42 }, 'ffmpeg_command'],
      ['bad input alias', { ...valid, input_files: { video: 'https://example.com/a.mp4' } }, 'input_files.video'],
      [
        'input alias with a dash',
        { ...valid, input_files: { 'in-x': 'https://example.com/a.mp4' } },
        'input_files.in-x',
      ],
      ['bad output alias', { ...valid, output_files: { result: 'a.mp4' } }, 'output_files.result'],
      ['output name with a slash', { ...valid, output_files: { out_video: '../x.mp4' } }, 'output_files.out_video'],
      ['output name "..', { ...valid, output_files: { out_video: '..' } }, 'output_files.out_video'],
      ['output name starting with -', { ...valid, output_files: { out_video: '-y.mp4' } }, 'output_files.out_video'],
      [
        'output name with a protocol',
        { ...valid, output_files: { out_video: 'file:x.mp4' } },
        'output_files.out_video',
      ],
      ['no outputs', { ...valid, output_files: {} }, 'output_files'],
      ['input value not a string', { ...valid, input_files: { in_video: 3 } }, 'input_files.in_video'],
    ])('%s', (_name, body, path) => {
      const err = fail(RunFfmpegCommandSchema, body);
      expect(err.status).toBe(400);
      expect(err.code).toBe('INVALID_REQUEST');
      expect(paths(err)).toContain(path);
      const env = errorEnvelope(err);
      expect(env.error.details?.length).toBeGreaterThan(0);
      expect(env.message).toBe(env.error.message);
      expect(fastApiDetail(env).map((d) => d.loc.join('.'))).toContain(['body', path].filter(Boolean).join('.'));
    });

    it('names a missing field as required', () => {
      const err = fail(RunFfmpegCommandSchema, { input_files: {}, output_files: { out_a: 'a.mp4' } });
      expect(err.details).toEqual([{ path: ['ffmpeg_command'], message: 'required', type: 'missing' }]);
    });

    it('a structural problem wins over value problems (400, details name only the 400 fields)', () => {
      const err = fail(RunFfmpegCommandSchema, { ...valid, ffmpeg_command: undefined, max_command_run_seconds: 0 });
      expect(err.status).toBe(400);
      expect(paths(err)).toEqual(['ffmpeg_command']);
    });
  });

  describe('422 VALIDATION_ERROR', () => {
    it.each([
      [
        'metadata over 10 keys',
        { metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) },
        'metadata',
      ],
      ['metadata object value', { metadata: { a: { b: 1 } } }, 'metadata.a'],
      ['metadata null value', { metadata: { a: null } }, 'metadata.a'],
      ['metadata array value', { metadata: { a: [1] } }, 'metadata.a'],
      ['metadata not an object', { metadata: 'x' }, 'metadata'],
      ['input URL ftp', { input_files: { in_video: 'ftp://example.com/a.mp4' } }, 'input_files.in_video'],
      ['input URL file', { input_files: { in_video: 'file:///etc/passwd' } }, 'input_files.in_video'],
      ['input not a URL', { input_files: { in_video: 'not a url' } }, 'input_files.in_video'],
      ['webhook not http(s)', { webhook_url: 'gopher://x' }, 'webhook_url'],
      ['max_command_run_seconds 0', { max_command_run_seconds: 0 }, 'max_command_run_seconds'],
      ['max_command_run_seconds 3601', { max_command_run_seconds: 3601 }, 'max_command_run_seconds'],
      ['max_command_run_seconds not integer', { max_command_run_seconds: 1.5 }, 'max_command_run_seconds'],
      ['max_command_run_seconds non-numeric string', { max_command_run_seconds: 'soon' }, 'max_command_run_seconds'],
      [
        'max_command_run_seconds numeric string out of range',
        { max_command_run_seconds: '3601' },
        'max_command_run_seconds',
      ],
      ['vcpu_count numeric string not a size', { vcpu_count: '3' }, 'vcpu_count'],
      ['vcpu_count 3', { vcpu_count: 3 }, 'vcpu_count'],
      ['vcpu_count 32', { vcpu_count: 32 }, 'vcpu_count'],
      ['compute tpu', { compute: 'tpu' }, 'compute'],
      [
        'over 10 inputs',
        {
          input_files: Object.fromEntries(
            Array.from({ length: 11 }, (_, i) => [`in_${i}`, 'https://example.com/a.mp4']),
          ),
        },
        'input_files',
      ],
      [
        'over 10 outputs',
        { output_files: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`out_${i}`, `${i}.mp4`])) },
        'output_files',
      ],
    ])('%s', (_name, patch, path) => {
      const err = fail(RunFfmpegCommandSchema, { ...valid, ...patch });
      expect(err.status).toBe(422);
      expect(err.code).toBe('VALIDATION_ERROR');
      expect(paths(err)).toContain(path);
      const env = errorEnvelope(err);
      expect(env.error.code).toBe('VALIDATION_ERROR');
      expect(fastApiDetail(env).map((d) => d.loc.join('.'))).toContain(`body.${path}`);
      for (const d of fastApiDetail(env)) {
        expect(typeof d.msg).toBe('string');
        expect(typeof d.type).toBe('string');
      }
    });

    it('accepts the boundaries 1 and 3600 and every VCPU_COUNTS value', () => {
      for (const s of [1, 3600])
        expect(() => parseOrThrow(RunFfmpegCommandSchema, { ...valid, max_command_run_seconds: s })).not.toThrow();
      for (const v of [1, 2, 4, 8, 16])
        expect(() => parseOrThrow(RunFfmpegCommandSchema, { ...valid, vcpu_count: v })).not.toThrow();
      expect(() =>
        parseOrThrow(RunFfmpegCommandSchema, {
          ...valid,
          metadata: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'])),
        }),
      ).not.toThrow();
    });
  });
});

describe('run-chained-ffmpeg-commands body', () => {
  const chained = {
    input_files: valid.input_files,
    output_files: valid.output_files,
    ffmpeg_commands: ['-i {{in_video}} {{out_video}}'],
  };
  it('accepts 1..10 commands', () => {
    expect(() => parseOrThrow(RunChainedFfmpegCommandsSchema, chained)).not.toThrow();
    expect(() =>
      parseOrThrow(RunChainedFfmpegCommandsSchema, { ...chained, ffmpeg_commands: Array(10).fill('x') }),
    ).not.toThrow();
  });
  it('empty list or missing: 400', () => {
    expect(paths(fail(RunChainedFfmpegCommandsSchema, { ...chained, ffmpeg_commands: [] }))).toEqual([
      'ffmpeg_commands',
    ]);
    const err = fail(RunChainedFfmpegCommandsSchema, { ...chained, ffmpeg_commands: undefined, ffmpeg_command: 'x' });
    expect(err.status).toBe(400);
    expect(paths(err)).toEqual(['ffmpeg_commands']);
  });
  it('a blank entry is 400 at its index', () => {
    const err = fail(RunChainedFfmpegCommandsSchema, { ...chained, ffmpeg_commands: ['x', ' '] });
    expect(err.status).toBe(400);
    expect(err.details?.[0]?.path).toEqual(['ffmpeg_commands', 1]);
  });
  it('over 10: 422', () => {
    const err = fail(RunChainedFfmpegCommandsSchema, { ...chained, ffmpeg_commands: Array(11).fill('x') });
    expect(err.status).toBe(422);
    expect(paths(err)).toEqual(['ffmpeg_commands']);
  });
});

describe('run-multiple-ffmpeg-commands body', () => {
  it('accepts 1..10 commands', () => {
    expect(parseOrThrow(RunMultipleFfmpegCommandsSchema, { commands: [valid, valid] }).commands).toHaveLength(2);
  });
  it('paths point into the failing command', () => {
    const err = fail(RunMultipleFfmpegCommandsSchema, {
      commands: [valid, { ...valid, output_files: { bad: 'x.mp4' } }],
    });
    expect(err.status).toBe(400);
    expect(paths(err)).toEqual(['commands.1.output_files.bad']);
    const err2 = fail(RunMultipleFfmpegCommandsSchema, { commands: [valid, { ...valid, metadata: { a: {} } }] });
    expect(err2.status).toBe(422);
    expect(fastApiDetail(errorEnvelope(err2))[0]?.loc).toEqual(['body', 'commands', 1, 'metadata', 'a']);
  });
  it('empty: 400; over 10: 422; missing: 400', () => {
    expect(fail(RunMultipleFfmpegCommandsSchema, { commands: [] }).status).toBe(400);
    expect(fail(RunMultipleFfmpegCommandsSchema, { commands: Array(11).fill(valid) }).status).toBe(422);
    expect(fail(RunMultipleFfmpegCommandsSchema, {}).status).toBe(400);
  });
});

describe('validate body', () => {
  it('maps are optional; a command is required', () => {
    expect(() => parseOrThrow(ValidateSchema, { ffmpeg_command: 'ffmpeg -f lavfi -i testsrc out.mp4' })).not.toThrow();
    expect(() => parseOrThrow(ValidateSchema, { ffmpeg_commands: ['x'] })).not.toThrow();
    const err = fail(ValidateSchema, { input_files: {} });
    expect(err.status).toBe(400);
    expect(paths(err)).toEqual(['ffmpeg_command']);
  });
});

describe('list query', () => {
  it('list query: defaults, 422 for values, 400 for a bad cursor type', () => {
    expect(parseOrThrow(ListCommandsQuerySchema, {})).toEqual({ limit: 20, offset: 0 });
    expect(parseOrThrow(ListCommandsQuerySchema, { limit: '100', offset: '5', status: 'FAILED' })).toEqual({
      limit: 100,
      offset: 5,
      status: 'FAILED',
    });
    for (const q of [{ limit: '101' }, { limit: '0' }, { limit: 'x' }, { offset: '-1' }, { status: 'DONE' }]) {
      expect(fail(ListCommandsQuerySchema, q).status).toBe(422);
    }
  });
});

describe('parser violations', () => {
  it('any INVALID_REQUEST violation makes a 400; paths get the prefix', () => {
    const err = violationsToApiError(
      [
        { code: 'VALIDATION_ERROR', rule: 'gpu-not-available', message: 'no GPU', path: ['compute'] },
        {
          code: 'INVALID_REQUEST',
          rule: 'option-not-allowed',
          message: 'option "-dump_attachment" is not allowed',
          path: ['ffmpeg_command'],
        },
      ],
      ['commands', 2],
    );
    expect(err.status).toBe(400);
    expect(err.details).toEqual([
      {
        path: ['commands', 2, 'ffmpeg_command'],
        message: 'option "-dump_attachment" is not allowed',
        type: 'option-not-allowed',
      },
    ]);
  });
  it('only VALIDATION_ERROR violations: 422 with FastAPI detail', () => {
    const err = violationsToApiError([
      { code: 'VALIDATION_ERROR', rule: 'gpu-not-available', message: 'no GPU', path: ['compute'] },
    ]);
    expect(err.status).toBe(422);
    expect(errorEnvelope(err)).toEqual({
      error: {
        code: 'VALIDATION_ERROR',
        message: 'invalid command: no GPU',
        details: [{ path: ['compute'], message: 'no GPU' }],
      },
      message: 'invalid command: no GPU',
      detail: [{ loc: ['body', 'compute'], msg: 'no GPU', type: 'gpu-not-available' }],
    });
  });
});

describe('error envelope', () => {
  it('without failing fields: detail is the message, top-level message repeats error.message', () => {
    const env = errorEnvelope(new ApiError('NOT_FOUND', 'command not found'));
    expect(env).toEqual({
      error: { code: 'NOT_FOUND', message: 'command not found' },
      message: 'command not found',
      detail: 'command not found',
    });
    expect(ErrorEnvelopeSchema.strict().parse(env)).toEqual(env);
  });
  it('with failing fields: details and a FastAPI detail list rooted at body or query', () => {
    const err = fail(ListCommandsQuerySchema, { limit: '0' });
    const env = errorEnvelope(err, 'query');
    expect(env.message).toBe(env.error.message);
    expect(fastApiDetail(env)).toEqual([{ loc: ['query', 'limit'], msg: expect.any(String), type: 'too_small' }]);
    expect(ErrorEnvelopeSchema.strict().parse(env)).toEqual(env);
  });
  it('every code of every producer parses as the schema', () => {
    for (const code of [
      'INVALID_REQUEST',
      'UNAUTHORIZED',
      'NOT_FOUND',
      'PAYLOAD_TOO_LARGE',
      'VALIDATION_ERROR',
      'RATE_LIMITED',
      'INTERNAL_ERROR',
    ] as const) {
      const env = errorEnvelope(new ApiError(code, `m ${code}`, [{ path: ['x', 0], message: 'bad' }]));
      expect(ErrorEnvelopeSchema.parse(env).error.code).toBe(code);
    }
  });
});
