/** POST /run-chained-ffmpeg-commands → {command_id}: the commands run in order in one workspace. */
import type { SubmitResponse } from '../../core/api/responses.ts';
import { accountIdOf, httpHandler, json } from '../shared/http.ts';
import { checkSubmission, recordCommand, startCommand, storedInputResolver } from '../shared/submit.ts';

export const handler = httpHandler(
  'run-chained-ffmpeg-commands',
  async (event) => {
    const accountId = accountIdOf(event);
    const checked = await checkSubmission('chained', event.jsonBody, { storedInputs: storedInputResolver(accountId) });
    const item = await recordCommand(accountId, 'CHAINED_COMMAND', checked, new Date());
    await startCommand(item);
    return json(200, { command_id: item.command_id, vcpu_count: item.vcpu_count } satisfies SubmitResponse);
  },
  { body: true },
);
