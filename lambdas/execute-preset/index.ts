/**
 * POST /presets/{preset_id}/execute {input_files, metadata?, webhook_url?} → {command_id}:
 * the preset's command with these inputs, through the same checks and flow as
 * run-ffmpeg-command (policy, URL and stored-file checks, record, start).
 */
import { ApiError, parseOrThrow } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { presetSubmitRequest } from '../../core/api/presets.ts';
import { ExecutePresetSchema, MetadataSchema } from '../../core/api/schemas.ts';
import { presetRepository } from '../shared/deps.ts';
import { accountIdOf, httpHandler, json } from '../shared/http.ts';
import { checkCommand, recordCommand, startCommand, storedInputResolver } from '../shared/submit.ts';

export const handler = httpHandler(
  'execute-preset',
  async (event) => {
    const accountId = accountIdOf(event);
    const presetId = event.pathParameters?.preset_id ?? '';
    const notFound = new ApiError('NOT_FOUND', 'preset not found');
    if (!isCommandId(presetId)) throw notFound;
    const preset = await presetRepository().get(accountId, presetId);
    if (!preset) throw notFound;
    const body = parseOrThrow(ExecutePresetSchema, event.jsonBody);
    const { request, commandType } = presetSubmitRequest(preset, body);
    // The merged metadata obeys the submit's own limits.
    if (request.metadata) parseOrThrow(MetadataSchema.transform((m) => m), request.metadata);
    const checked = await checkCommand(request, [], { storedInputs: storedInputResolver(accountId) });
    const item = await recordCommand(accountId, commandType, checked, new Date());
    await startCommand(item);
    return json(200, { command_id: item.command_id, vcpu_count: item.vcpu_count });
  },
  { body: true },
);
