/** Sequence patterns of declared outputs and the files they match (paths.ts). */
import { describe, expect, it } from 'vitest';
import { sequenceMembers, sequencePattern, sequencePatternProblem } from '../../../core/command/paths.ts';

describe('sequencePattern', () => {
  it('reads one %d or %0Nd', () => {
    expect(sequencePattern('frame_%03d.png')).toEqual({ prefix: 'frame_', width: 3, suffix: '.png' });
    expect(sequencePattern('seg%d.ts')).toEqual({ prefix: 'seg', width: 1, suffix: '.ts' });
    expect(sequencePattern('plain.mp4')).toBeNull();
  });
  it('refuses anything else with a %', () => {
    for (const name of ['a_%v.png', 'a_%d_%d.png', 'a%%%d.png', 'a_%s.png', 'a_%x.png', '%', 'a_%123d.png']) {
      expect(sequencePatternProblem(name), name).toMatchObject({ rule: 'file-name-pattern' });
    }
    expect(sequencePatternProblem('plain.mp4')).toBeNull();
  });
});

describe('sequenceMembers', () => {
  it('matches what FFmpeg writes for the pattern, in number order, and nothing else', () => {
    const files = [
      'frame_010.png',
      'frame_002.png',
      'frame_1000.png',
      'frame_01.png',
      'frame_abc.png',
      'frame_002.png.tmp',
      'xframe_003.png',
      'in_video.mp4',
    ];
    expect(sequenceMembers(sequencePattern('frame_%03d.png')!, files)).toEqual([
      'frame_002.png',
      'frame_010.png',
      'frame_1000.png',
    ]);
    expect(sequenceMembers(sequencePattern('frame_%d.png')!, files)).toEqual([
      'frame_01.png',
      'frame_002.png',
      'frame_010.png',
      'frame_1000.png',
    ]);
  });
});
