/**
 * local mode (what `npm start` runs) with every AWS SDK call it makes counted and timed, for
 * bench/submit-latency.ts: on SIGUSR2 it writes the counts since the last dump to
 * $FFAAS_SDK_TRACE_FILE (JSON) and starts counting again. A bench tool, not part of the product.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Stat = { calls: number; ms: number };
let stats = new Map<string, Stat>();
const file = process.env.FFAAS_SDK_TRACE_FILE ?? '/tmp/ffaas-sdk-trace.json';

function patch(proto: { send: (...a: unknown[]) => Promise<unknown> }): void {
  const send = proto.send;
  if ((send as { traced?: boolean }).traced) return;
  const traced = async function (this: { constructor: { name: string } }, command: unknown, ...rest: unknown[]) {
    const name = `${this.constructor.name}.${(command as { constructor: { name: string } }).constructor.name}`;
    const t = performance.now();
    try {
      return await send.call(this, command, ...rest);
    } finally {
      const s = stats.get(name) ?? { calls: 0, ms: 0 };
      s.calls++;
      s.ms += performance.now() - t;
      stats.set(name, s);
    }
  };
  (traced as { traced?: boolean }).traced = true;
  proto.send = traced as typeof send;
}

const require = createRequire(import.meta.url);
patch(require('@smithy/core/client').Client.prototype);
patch((await import('@smithy/core/client')).Client.prototype as never);

process.on('SIGUSR2', () => {
  writeFileSync(file, JSON.stringify(Object.fromEntries(stats)));
  stats = new Map();
});

const { startLocalFfaas } = await import('../local/index.ts');
const app = await startLocalFfaas();
console.log(`ffaas listening on ${app.url}`);
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
