import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CommandSyntaxError,
  parseFfmpegCommand,
  parseFilterGraph,
  quoteArgv,
  tokenize,
  tokenizeCommand,
} from '../../../core/command/index.ts';

describe('tokenizeCommand', () => {
  it.each([
    ['ffmpeg -i a b', ['ffmpeg', '-i', 'a', 'b']],
    [`-vf "scale=1280:-2;[a]null" x`, ['-vf', 'scale=1280:-2;[a]null', 'x']],
    [`-metadata title='it''s' x`, ['-metadata', 'title=its', 'x']],
    [`a\\ b "c\\"d" 'e\\f'`, ['a b', 'c"d', 'e\\f']],
    [`"$HOME" '$(id)' "\`x\`"`, ['$HOME', '$(id)', '`x`']],
    ['a \\\n b', ['a', 'b']],
    ['  ', []],
    [`'' ""`, ['', '']],
    ['-i <<in_a>> {{out_b}}', ['-i', '<<in_a>>', '{{out_b}}']],
    ['x "multi\nline"', ['x', 'multi\nline']],
  ])('%j', (s, expected) => {
    expect(tokenizeCommand(s)).toEqual(expected);
  });

  it('throws a typed error naming the token', () => {
    expect(() => tokenizeCommand('a | b')).toThrow(CommandSyntaxError);
    const r = tokenize('ffmpeg -i x $(id)');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.rule).toBe('shell-syntax');
      expect(r.error.token).toBe('$(');
    }
  });

  it('property: never throws anything but a typed error, on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const r = tokenize(s);
        if (r.ok) expect(Array.isArray(r.tokens)).toBe(true);
        else expect(r.error).toBeInstanceOf(CommandSyntaxError);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: never throws on shell-ish alphabets', () => {
    const alphabet = fc.constantFrom(...`'"\\ \t\n;|&<>$\`{}()ab-=:,[]%`.split(''));
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 60 }).map((a) => a.join('')),
        (s) => {
          const r = tokenize(s);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('property: quoting an argv and tokenizing it gives the same argv', () => {
    const arg = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 12 }), (argv) => {
        expect(tokenizeCommand(quoteArgv(argv))).toEqual(argv);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: parseFfmpegCommand never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (s) => {
        const r = parseFfmpegCommand({
          commands: [s],
          inputFiles: { in_a: 'https://e.com/a.mp4' },
          outputFiles: { out_b: 'b.mp4' },
          gpuAvailable: false,
        });
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseFilterGraph', () => {
  it('reads chains, labels, ids and both escaping levels', () => {
    const r = parseFilterGraph(
      `[0:v]scale=1280:-2[a];[a][1:v]overlay@wm=x='W-w':y=10 [out] ; anullsrc , drawtext=text='a\\:b\\,c'`,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [c1, c2, c3] = r.graph.chains;
    expect(c1![0]).toMatchObject({
      name: 'scale',
      inputs: ['0:v'],
      outputs: ['a'],
      options: [
        { key: null, position: 0, value: '1280' },
        { key: null, position: 1, value: '-2' },
      ],
    });
    expect(c2![0]).toMatchObject({
      name: 'overlay',
      id: 'wm',
      inputs: ['a', '1:v'],
      outputs: ['out'],
      options: [
        { key: 'x', value: 'W-w' },
        { key: 'y', value: '10' },
      ],
    });
    expect(c3!.map((f) => f.name)).toEqual(['anullsrc', 'drawtext']);
    // level 1 keeps "\:" inside quotes, level 2 turns it into ":"
    expect(c3![1]!.options).toEqual([{ key: 'text', position: null, value: 'a:b,c' }]);
  });

  it('an escaped comma at the graph level does not split filters', () => {
    const r = parseFilterGraph(`select=not(mod(n\\,10)),scale=2:2`);
    expect(r.ok && r.graph.chains[0]!.map((f) => f.name)).toEqual(['select', 'scale']);
  });

  it('a quoted comma hides nothing: the next filter is still seen', () => {
    const r = parseFilterGraph(`drawtext=text='x,y',movie=a`);
    expect(r.ok && r.graph.chains[0]!.map((f) => f.name)).toEqual(['drawtext', 'movie']);
  });

  it.each([['scale=1:1[a'], ["drawtext=text='x"], ['scale,'], [''], ['[a b]null'], ['sc ale']])('refuses %j', (g) => {
    expect(parseFilterGraph(g).ok).toBe(false);
  });

  it('property: never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        expect(typeof parseFilterGraph(s).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
