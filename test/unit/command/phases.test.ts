/**
 * Each phase of the command checker on its own (core/command/phases): what it takes, what it
 * returns, what it refuses. The end-to-end behaviour is pinned by legit.test.ts/attacks.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  buildPlan,
  checkFilters,
  checkOptions,
  classifyCommand,
  declareFiles,
  forcedInputOptions,
  splitCommand,
  WorkspaceLedger,
} from '../../../core/command/index.ts';

const rulesOf = (issues: readonly { rule: string }[]) => issues.map((i) => i.rule);

describe('phase 1: splitCommand', () => {
  it('drops a leading ffmpeg and keeps quoted arguments whole', () => {
    const r = splitCommand(`ffmpeg -i {{in_a}} -vf "scale=1280:-2" {{out_b}}`);
    expect(r).toEqual({ ok: true, tokens: ['-i', '{{in_a}}', '-vf', 'scale=1280:-2', '{{out_b}}'], issues: [] });
  });
  it('refuses what is not a command', () => {
    expect(rulesOf(splitCommand(42).issues)).toEqual(['invalid-command']);
    expect(rulesOf(splitCommand('ffmpeg').issues)).toEqual(['empty-command']);
    expect(rulesOf(splitCommand('x'.repeat(16 * 1024 + 1)).issues)).toEqual(['command-too-long']);
    expect(rulesOf(splitCommand(Array(1001).fill('-y').join(' ')).issues)).toEqual(['too-many-arguments']);
    expect(splitCommand('-i "unterminated').ok).toBe(false);
  });
  it('keeps the tokens but reports half placeholders', () => {
    const r = splitCommand('-i {{in_a} {{out_b}}');
    expect(r.ok).toBe(true);
    expect(rulesOf(r.issues)).toEqual(['malformed-placeholder']);
  });
});

describe('phase 2: classifyCommand', () => {
  it('splits globals, inputs and outputs', () => {
    const { command, issues } = classifyCommand(['-y', '-ss', '3', '-i', 'a', '-c:v', 'libx264', 'b']);
    expect(issues).toEqual([]);
    expect(command.globals.map((g) => g.name)).toEqual(['y']);
    expect(command.inputs.map((i) => [i.file, i.options.map((o) => o.name)])).toEqual([['a', ['ss']]]);
    expect(command.outputs.map((o) => [o.file, o.options.map((x) => x.name)])).toEqual([['b', ['c']]]);
  });
  it('refuses a command with no output, and too many inputs', () => {
    expect(rulesOf(classifyCommand(['-i', 'a']).issues)).toEqual(['no-output']);
    const many = Array.from({ length: 11 }, (_, i) => ['-i', `f${i}`]).flat();
    expect(rulesOf(classifyCommand([...many, 'o']).issues)).toEqual(['too-many-inputs']);
  });
});

describe('phase 3: declareFiles', () => {
  it('names inputs by alias + URL extension and indexes outputs both ways', () => {
    const { files, violations } = declareFiles({ in_v: 'https://e.com/a/clip.MOV?x=1' }, { out_a: 'a.mp4' });
    expect(violations).toEqual([]);
    expect([...files.inputs]).toEqual([['in_v', { url: 'https://e.com/a/clip.MOV?x=1', local: 'in_v.mov' }]]);
    expect([...files.outputs]).toEqual([['out_a', 'a.mp4']]);
    expect(files.outputAliasByName.get('a.mp4')).toBe('out_a');
  });
  it('refuses bad aliases, non-http inputs, path names, duplicates and collisions, each at its path', () => {
    const { violations } = declareFiles(
      { in_v: 'file:///etc/passwd', bad: 'https://e.com/x', in_w: 'https://e.com/w.mp4' },
      { out_a: '../a.mp4', out_b: 'b.mp4', out_c: 'b.mp4', out_d: 'in_w.mp4', nope: 'x.mp4' },
    );
    expect(violations.map((v) => [v.rule, v.path])).toEqual([
      ['input-url', ['input_files', 'in_v']],
      ['alias-name', ['input_files', 'bad']],
      ['path-traversal', ['output_files', 'out_a']],
      ['duplicate-output', ['output_files', 'out_c']],
      ['name-collision', ['output_files', 'out_d']],
      ['alias-name', ['output_files', 'nope']],
    ]);
    expect(violations[0]!.code).toBe('VALIDATION_ERROR');
  });
});

describe('phase 4: checkOptions', () => {
  it('hands file positions and graphs on in argv order, and collects codecs', () => {
    const { command } = classifyCommand([
      '-hwaccel',
      'cuda',
      '-i',
      '{{in_a}}',
      '-filter_complex',
      '[0:v]scale=2:2',
      '-c:v',
      'h264_nvenc',
      '-passlogfile',
      'pass',
      '{{out_b}}',
    ]);
    const r = checkOptions(command);
    expect(r.issues).toEqual([]);
    expect(r.files.map((f) => [f.role, f.value])).toEqual([
      ['input', '{{in_a}}'],
      ['output', '{{out_b}}'],
    ]);
    expect(r.graphs.map((g) => [g.index, g.value])).toEqual([[5, '[0:v]scale=2:2']]);
    expect(r.codecs).toEqual(['h264_nvenc']);
    expect(r.hwaccels).toEqual(['cuda']);
    expect([...r.inputOptionIndexes]).toEqual([2]);
    expect(r.outputsLimited).toBe(false);
  });
  it('refuses formats, bad values, placeholders in values and pipes', () => {
    const { command } = classifyCommand([
      '-f',
      'concat',
      '-i',
      'x',
      '-crf',
      'abc',
      '-metadata',
      'title={{in_a}}',
      '-f',
      'mp4',
      '-',
    ]);
    expect(rulesOf(checkOptions(command).issues)).toEqual([
      'format-not-allowed',
      'option-value',
      'placeholder-position',
      'pipe-output',
    ]);
  });
  it('knows when every output is limited', () => {
    expect(checkOptions(classifyCommand(['-t', '2', 'a.mp4', '-frames:v', '1', 'b.png']).command).outputsLimited).toBe(
      true,
    );
    expect(checkOptions(classifyCommand(['-t', '2', 'a.mp4', 'b.png']).command).outputsLimited).toBe(false);
  });
});

describe('phase 5: checkFilters', () => {
  it('returns the files filters open and the filter names', () => {
    const r = checkFilters([{ index: 3, token: '-vf', value: 'subtitles={{in_s}},scale=2:2', step: 1 }]);
    expect(r.issues).toEqual([]);
    expect(r.filters).toEqual(['subtitles', 'scale']);
    expect(r.graphs).toEqual([
      {
        index: 3,
        step: 1,
        fileRefs: [expect.objectContaining({ filter: 'subtitles', option: 'filename', value: '{{in_s}}' })],
      },
    ]);
  });
  it('refuses syntax errors, forbidden filters and unbounded sources, at the graph step', () => {
    const r = checkFilters([
      { index: 1, token: '-vf', value: 'scale=[', step: 1 },
      { index: 3, token: '-filter_complex', value: 'movie=/etc/passwd', step: 2 },
      { index: 5, token: '-filter_complex', value: 'testsrc2', step: 3 },
    ]);
    expect(r.issues.map((i) => [i.rule, i.step])).toEqual([
      ['filtergraph-syntax', 1],
      ['filter-not-allowed', 2],
      ['source-bounds', 3],
    ]);
    expect(r.graphs.map((g) => g.index)).toEqual([3, 5]);
  });
});

describe('phase 6: WorkspaceLedger', () => {
  const declared = declareFiles(
    { in_v: 'https://e.com/v.mp4', in_s: 'https://e.com/s.srt' },
    { out_mid: 'mid.mp4', out_end: 'end.mp4' },
  ).files;
  it('resolves placeholders, lets later commands read what earlier ones wrote, and reports unused aliases', () => {
    const ledger = new WorkspaceLedger(declared);
    const first = ledger.resolveCommand(
      0,
      [
        { role: 'input', value: '{{in_v}}', what: 'input "-i"', step: 1 },
        { role: 'output', value: '{{out_mid}}', what: 'output file', allowPattern: true, step: 2 },
        { role: 'output', value: 'scratch.wav', what: 'output file', allowPattern: true, step: 3 },
      ],
      [],
    );
    expect(first.issues).toEqual([]);
    const second = ledger.resolveCommand(
      1,
      [
        { role: 'input', value: '{{out_mid}}', what: 'input "-i"', step: 1 },
        { role: 'input', value: 'scratch.wav', what: 'input "-i"', step: 2 },
        { role: 'output', value: '{{out_end}}', what: 'output file', allowPattern: true, step: 4 },
      ],
      [
        {
          index: 5,
          step: 3,
          fileRefs: [
            { filter: 'subtitles', option: 'filename', value: '{{in_s}}', kind: 'subtitle', extensions: ['srt'] },
          ],
        },
      ],
    );
    expect(second).toEqual({
      issues: [],
      graphFiles: [{ index: 5, expectFiles: ['in_s.srt'] }],
      filterFiles: [{ command_index: 1, local_name: 'in_s.srt', kind: 'subtitle', opened_by: 'subtitles filename' }],
    });
    expect(ledger.unused()).toEqual({ inputs: [], outputs: [] });
  });
  it('refuses reading an output of the same command, paths, overwriting inputs and writing twice', () => {
    const ledger = new WorkspaceLedger(declared);
    const r = ledger.resolveCommand(
      0,
      [
        { role: 'input', value: '{{out_mid}}', what: 'input "-i"', step: 1 },
        { role: 'input', value: '/etc/passwd', what: 'input "-i"', step: 2 },
        { role: 'output', value: 'in_v.mp4', what: 'output file', step: 3 },
        { role: 'output', value: '{{out_end}}', what: 'output file', step: 4 },
        { role: 'output', value: '{{out_end}}', what: 'output file', step: 5 },
        { role: 'output', value: 'mid.mp4', what: 'output file', step: 6 },
      ],
      [
        {
          index: 9,
          step: 7,
          fileRefs: [
            { filter: 'subtitles', option: 'filename', value: '{{in_v}}', kind: 'subtitle', extensions: ['srt'] },
          ],
        },
      ],
    );
    expect(r.issues.map((i) => [i.rule, i.step])).toEqual([
      ['placeholder-position', 1],
      ['absolute-path', 2],
      ['name-collision', 3],
      ['duplicate-output', 5],
      ['duplicate-output', 6],
      ['file-type-not-allowed', 7],
    ]);
    expect(ledger.unused()).toEqual({ inputs: ['in_s'], outputs: ['out_mid'] });
  });
});

describe('phase 7: buildPlan', () => {
  const declared = declareFiles(
    { in_v: 'https://e.com/v.mp4', in_s: 'https://e.com/s.srt' },
    { out_a: 'a.m3u8' },
  ).files;
  it('puts the forced options before each -i and substitutes placeholders', () => {
    const r = buildPlan(declared, [
      {
        tokens: ['-i', '{{in_v}}', '-vf', 'subtitles={{in_s}}', '{{out_a}}'],
        inputOptionIndexes: new Set([0]),
        graphs: [{ index: 3, expectFiles: ['in_s.srt'] }],
      },
    ]);
    expect(r).toEqual({
      ok: true,
      plan: {
        inputs: [
          { alias: 'in_v', url: 'https://e.com/v.mp4', local_name: 'in_v.mp4' },
          { alias: 'in_s', url: 'https://e.com/s.srt', local_name: 'in_s.srt' },
        ],
        outputs: [{ alias: 'out_a', local_name: 'a.m3u8', playlist: true }],
        commands: [[...forcedInputOptions(), '-i', 'in_v.mp4', '-vf', 'subtitles=in_s.srt', 'a.m3u8']],
      },
    });
  });
  it('refuses a graph that reads other files once substituted', () => {
    const r = buildPlan(declared, [
      {
        tokens: ['-vf', 'subtitles={{in_s}}', '{{out_a}}'],
        inputOptionIndexes: new Set(),
        graphs: [{ index: 1, expectFiles: ['other.srt'] }],
      },
    ]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => [i.rule, i.command])).toEqual([['placeholder-escaped', 0]]);
  });
});

describe('sequence outputs (frame_%03d.png)', () => {
  it('are planned with sequence: true, playlists and plain names are not', () => {
    const declared = declareFiles({}, { out_f: 'frame_%03d.png', out_p: 'a.m3u8', out_v: 'v.mp4' }).files;
    const r = buildPlan(declared, []);
    expect(r.ok && r.plan.outputs).toEqual([
      { alias: 'out_f', local_name: 'frame_%03d.png', sequence: true },
      { alias: 'out_p', local_name: 'a.m3u8', playlist: true },
      { alias: 'out_v', local_name: 'v.mp4' },
    ]);
  });
});
