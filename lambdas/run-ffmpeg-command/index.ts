/** POST /run-ffmpeg-command → {command_id}. */
import type { SubmitResponse } from '../../core/api/responses.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { checkSubmission, recordCommand, startCommand, storedInputResolver } from '../common/submit.ts';
import { idempotentSubmit } from '../common/idempotency.ts';
import { admitSubmit } from '../common/admission.ts';

export const handler = httpHandler(
  'run-ffmpeg-command',
  async (event, context) => {
    const accountId = accountIdOf(event);
    // Idempotency-Key: a retry with the same key and body gets the first answer.
    const answer = await idempotentSubmit('run-ffmpeg-command', accountId, event, context, async () => {
      const checked = await checkSubmission('single', event.jsonBody, { storedInputs: storedInputResolver(accountId) });
      await admitSubmit(accountId, 1);
      const item = await recordCommand(accountId, 'FFMPEG_COMMAND', checked, new Date());
      await startCommand(item);
      return { command_id: item.command_id, vcpu_count: item.vcpu_count } satisfies SubmitResponse;
    });
    return json(200, answer);
  },
  { body: true },
);
