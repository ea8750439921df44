/**
 * POST /presets/{preset_id}/execute {input_files, metadata?, webhook_url?} → {command_id}:
 * the preset's command with these inputs, through the same checks and flow as
 * run-ffmpeg-command (policy, URL and stored-file checks, record, start).
 */
import { ApiError, parseOrThrow } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { presetSubmitRequest } from '../../core/api/presets.ts';
import { ExecutePresetSchema, MetadataSchema } from '../../core/api/schemas.ts';
import { presetRepository } from '../common/deps.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { checkCommand, recordCommand, startCommand, storedInputResolver } from '../common/submit.ts';
import { idempotentSubmit } from '../common/idempotency.ts';
import { admitSubmit } from '../common/admission.ts';

export const handler = httpHandler(
  'execute-preset',
  async (event, context) => {
    const accountId = accountIdOf(event);
    const presetId = event.pathParameters?.preset_id ?? '';
    const notFound = new ApiError('NOT_FOUND', 'preset not found');
    if (!isCommandId(presetId)) throw notFound;
    const preset = await presetRepository().get(accountId, presetId);
    if (!preset) throw notFound;
    const body = parseOrThrow(ExecutePresetSchema, event.jsonBody);
    const { request, commandType } = presetSubmitRequest(preset, body);
    // The merged metadata obeys the submit's own limits.
    if (request.metadata)
      parseOrThrow(
        MetadataSchema.transform((m) => m),
        request.metadata,
      );
    // control (issue 12): Idempotency-Key (scoped to this preset too) and admission, as on the other submits.
    const answer = await idempotentSubmit('execute-preset', `${accountId}#${presetId}`, event, context, async () => {
      const checked = await checkCommand(request, [], { storedInputs: storedInputResolver(accountId) });
      await admitSubmit(accountId, 1);
      const item = await recordCommand(accountId, commandType, checked, new Date());
      await startCommand(item);
      return { command_id: item.command_id, vcpu_count: item.vcpu_count };
    });
    return json(200, answer);
  },
  { body: true },
);
