/**
 * The option-level policy: every file-, URL- or nested-option-valued filter, muxer and encoder
 * option found in this FFmpeg build has an attack refused and, where it is allowed, a legitimate
 * use accepted (lists in test/helpers/attack-commands.ts), and the plan tells the worker which
 * files filters open.
 */
import { describe, expect, it } from 'vitest';
import { filterOptionDecision, parseFfmpegCommand } from '../../../core/command/index.ts';
import { FILTER_OPTIONS } from '../../../core/command/filter-options.ts';
import { OPTION_ATTACKS, OPTION_LEGIT } from '../../helpers/attack-commands.ts';

const run = (commands: string[], inputs: Record<string, string>, outputs: Record<string, string>) =>
  parseFfmpegCommand({ commands, inputFiles: inputs, outputFiles: outputs, gpuAvailable: false });

describe('option attacks are refused with the rule and the offending token', () => {
  for (const a of OPTION_ATTACKS) {
    it(`${a.name} (${a.effect})`, () => {
      const r = run(a.commands, a.inputs, a.outputs);
      expect(r.ok, JSON.stringify(r.ok ? r.args : null)).toBe(false);
      if (r.ok) return;
      const hit = r.violations.find((v) => v.rule === a.rule && v.message.includes(a.token));
      expect(hit, `violations: ${JSON.stringify(r.violations, null, 1)}`).toBeDefined();
    });
  }
});

describe('legitimate uses of the same options are accepted', () => {
  for (const l of OPTION_LEGIT) {
    it(l.name, () => {
      const r = run(l.commands, l.inputs, l.outputs);
      expect(r.ok, r.ok ? '' : JSON.stringify(r.violations, null, 1)).toBe(true);
      if (!r.ok) return;
      const files = Object.fromEntries((r.plan.filter_files ?? []).map((f) => [f.local_name, f.kind]));
      expect(files).toEqual(l.filterFiles ?? {});
    });
  }
});

describe('every file option and every refused option of the allowed filters is covered', () => {
  const sensitive = Object.entries(FILTER_OPTIONS).flatMap(([filter, t]) =>
    [...t.options, ...(t.child ?? [])]
      .filter((e) => e[2].d === 'file' || e[2].d === 'refuse')
      .map((e) => ({ filter, option: e[0], d: e[2].d })),
  );
  it('found the known ones', () => {
    expect(sensitive.map((s) => `${s.filter} ${s.option}`)).toEqual(
      expect.arrayContaining([
        'curves psfile',
        'curves plot',
        'drawtext fontfile',
        'drawtext textfile',
        'subtitles filename',
        'subtitles f',
        'lut3d file',
        'deshake filename',
        'paletteuse debug_kdtree',
        'firequalizer dumpfile',
        'showcqt axisfile',
      ]),
    );
  });
  for (const s of sensitive) {
    it(`${s.filter} ${s.option} (${s.d}): a host path is refused`, () => {
      const inputs = { in_video: 'https://media.example.com/v.mp4' };
      const r = run(
        [`ffmpeg -i {{in_video}} -filter_complex "${s.filter}=${s.option}=/etc/passwd" {{out_video}}`],
        inputs,
        { out_video: 'o.mp4' },
      );
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.violations.some((v) => /filter-option-not-allowed|absolute-path/.test(v.rule))).toBe(true);
    });
  }
});

describe('positional values', () => {
  it('map to options in declaration order, skipping aliases', () => {
    expect(filterOptionDecision('subtitles', null, 0)).toMatchObject({ name: 'filename' });
    expect(filterOptionDecision('subtitles', null, 2)).toMatchObject({ name: 'fontsdir' });
    expect(filterOptionDecision('drawtext', null, 2)).toMatchObject({ name: 'textfile' });
    expect(filterOptionDecision('curves', null, 6)).toMatchObject({ name: 'psfile' });
    expect(filterOptionDecision('setsar', null, 0)).toMatchObject({ name: 'sar' });
    expect(filterOptionDecision('setsar', null, 1)).toMatchObject({ name: 'max' });
  });
  it('past the last option are refused', () => {
    expect(filterOptionDecision('hflip', null, 0)).toHaveProperty('problem');
  });
});
