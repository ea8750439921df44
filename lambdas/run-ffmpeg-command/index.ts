/** POST /run-ffmpeg-command → {command_id}. */
import type { SubmitResponse } from '../../core/api/responses.ts';
import { accountIdOf, httpHandler, json } from '../shared/http.ts';
import { checkSubmission, recordCommand, startCommand, storedInputResolver } from '../shared/submit.ts';

export const handler = httpHandler(
  'run-ffmpeg-command',
  async (event) => {
    const accountId = accountIdOf(event);
    const checked = await checkSubmission('single', event.jsonBody, { storedInputs: storedInputResolver(accountId) });
    const item = await recordCommand(accountId, 'FFMPEG_COMMAND', checked, new Date());
    await startCommand(item);
    return json(200, { command_id: item.command_id, vcpu_count: item.vcpu_count } satisfies SubmitResponse);
  },
  { body: true },
);
