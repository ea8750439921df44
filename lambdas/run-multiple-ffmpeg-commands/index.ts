/**
 * POST /run-multiple-ffmpeg-commands → {command_ids}: independent commands, each its own
 * MULTIPLE_COMMAND item and execution. All are checked before any is recorded, so a refused
 * command leaves nothing behind.
 */
import { RunMultipleFfmpegCommandsSchema } from '../../core/api/schemas.ts';
import { parseOrThrow } from '../../core/api/errors.ts';
import type { SubmitMultipleResponse } from '../../core/api/responses.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import {
  checkCommand,
  recordCommand,
  startCommand,
  storedInputResolver,
  type CheckedCommand,
} from '../common/submit.ts';
import { idempotentSubmit } from '../common/idempotency.ts';
import { admitSubmit } from '../common/admission.ts';
import type { CommandItem } from '../../core/types.ts';

export const handler = httpHandler(
  'run-multiple-ffmpeg-commands',
  async (event, context) => {
    const accountId = accountIdOf(event);
    // Idempotency-Key: a retry with the same key and body gets the first answer.
    const answer = await idempotentSubmit('run-multiple-ffmpeg-commands', accountId, event, context, async () => {
      const body = parseOrThrow(RunMultipleFfmpegCommandsSchema, event.jsonBody);
      const checked: CheckedCommand[] = [];
      for (const [i, command] of body.commands.entries())
        checked.push(await checkCommand(command, ['commands', i], { storedInputs: storedInputResolver(accountId) }));
      await admitSubmit(accountId, body.commands.length);
      const now = new Date();
      const items: CommandItem[] = [];
      for (const c of checked) items.push(await recordCommand(accountId, 'MULTIPLE_COMMAND', c, now));
      await Promise.all(items.map((item) => startCommand(item)));
      return { command_ids: items.map((i) => i.command_id) } satisfies SubmitMultipleResponse;
    });
    return json(200, answer);
  },
  { body: true },
);
