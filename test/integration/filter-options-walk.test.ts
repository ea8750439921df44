/**
 * The option-walk test: every allowed filter exists in this FFmpeg build, and every option the
 * build has for it (`ffmpeg -h filter=NAME`, own and child classes) has a decision in
 * core/command/filter-options.ts with the same type, in the same declaration order (which maps
 * positional values). A new FFmpeg with a new option, or an option that changed type, fails
 * here until someone decides it.
 */
import { describe, expect, it } from 'vitest';
import { ALLOWED_FILTERS } from '../../core/command/filter-policy.ts';
import { FILTER_OPTIONS } from '../../core/command/filter-options.ts';
import { helpOptions, listed } from '../helpers/ffmpeg-help.ts';

const FILE_LIKE = /file|path|dir|url|dump|plot|log|save|load|model|kdtree/i;

describe('every option of every allowed filter has a decision (real ffmpeg)', () => {
  const built = listed('-filters');

  it('walks a real build', () => {
    expect(built.size).toBeGreaterThan(300);
    expect(built.has('curves')).toBe(true);
  });

  for (const name of [...ALLOWED_FILTERS].sort()) {
    it(`${name}`, () => {
      expect(built.has(name), `allowed filter "${name}" is not in this FFmpeg build`).toBe(true);
      const table = FILTER_OPTIONS[name];
      expect(table, `filter "${name}" has no option table in filter-options.ts`).toBeDefined();
      const live = helpOptions(`filter=${name}`);
      const own = live.filter((o) => o.section === 0);
      const child = new Map(live.filter((o) => o.section > 0).map((o) => [o.name, o]));
      const missing: string[] = [];
      for (const o of own) {
        const d = table!.options.find((e) => e[0] === o.name);
        if (!d) missing.push(`${o.name} <${o.type}>`);
        else expect(d[1], `type of ${name} ${o.name}`).toBe(o.type);
      }
      for (const o of child.values()) {
        const d = table!.child?.find((e) => e[0] === o.name) ?? table!.options.find((e) => e[0] === o.name);
        if (!d) missing.push(`${o.name} <${o.type}> (child class)`);
        else expect(d[1], `type of ${name} ${o.name}`).toBe(o.type);
      }
      expect(missing, `options of "${name}" with no decision in filter-options.ts`).toEqual([]);
      // Same declaration order (positional values depend on it), nothing stale.
      expect(table!.options.map((e) => e[0])).toEqual(own.map((o) => o.name));
      expect((table!.child ?? []).map((e) => e[0]).sort()).toEqual([...child.keys()].sort());
      // Aliases: an alias has the type and description of the option before it.
      own.forEach((o, i) => {
        const alias = table!.options[i]![2].alias;
        if (alias !== undefined) {
          const prev = own[i - 1]!;
          expect(prev.type === o.type && prev.help === o.help, `${name} ${o.name} is marked alias of ${alias}`).toBe(
            true,
          );
        }
      });
      // A string option whose name or description speaks of files was decided, not waved through.
      for (const o of live) {
        if (o.type !== 'string' || !FILE_LIKE.test(`${o.name} ${o.help}`)) continue;
        const d = table!.options.find((e) => e[0] === o.name) ?? table!.child?.find((e) => e[0] === o.name);
        expect(d![2].d, `${name} ${o.name} ("${o.help}") looks file-valued but is allowed as plain text`).not.toBe(
          'allow',
        );
      }
    });
  }
});
