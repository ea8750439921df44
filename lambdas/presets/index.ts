/**
 * Presets (RenderIO), one function:
 *   POST   /presets              → 201 the preset (preset_id, name, command, input/output names)
 *   GET    /presets              → {presets: [...]}
 *   GET    /presets/{preset_id}  → the preset
 *   DELETE /presets/{preset_id}  → {success, preset_id}
 * A preset's command is checked by the command policy when it is saved (its inputs stand in
 * as placeholder URLs; the real ones are checked when it is executed).
 */
import { LIMITS } from '../../core/constants.ts';
import { ApiError, parseOrThrow, violationsToApiError } from '../../core/api/errors.ts';
import { newCommandId } from '../../core/api/ids.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { buildPresetItem, presetCheckInputs, toPresetResponse, type PresetItem } from '../../core/api/presets.ts';
import { CreatePresetSchema } from '../../core/api/schemas.ts';
import { parseFfmpegCommand } from '../../core/command/index.ts';
import { routePath } from '../../core/routes.ts';
import { config } from '../common/config.ts';
import { presetRepository } from '../common/deps.ts';
import { accountIdOf, httpHandler, json, type ApiEvent } from '../common/http.ts';
import { logger } from '../common/logger.ts';

async function presetOf(accountId: string, event: ApiEvent): Promise<PresetItem> {
  const presetId = event.pathParameters?.preset_id ?? '';
  const notFound = new ApiError('NOT_FOUND', 'preset not found');
  if (!isCommandId(presetId)) throw notFound;
  const item = await presetRepository().get(accountId, presetId);
  if (!item) throw notFound;
  return item;
}

export const handler = httpHandler(
  'presets',
  async (event) => {
    const accountId = accountIdOf(event);
    switch (`${event.httpMethod} ${routePath(event.resource)}`) {
      case 'POST /presets': {
        const body = parseOrThrow(CreatePresetSchema, event.jsonBody);
        const item = buildPresetItem({ accountId, presetId: newCommandId(), body, now: new Date() });
        const checked = parseFfmpegCommand({
          commands: item.ffmpeg_commands ?? [item.ffmpeg_command ?? ''],
          inputFiles: presetCheckInputs(item.input_file_keys),
          outputFiles: item.output_file_definitions,
          compute: 'auto',
          gpuAvailable: config().gpuEnabled,
        });
        if (!checked.ok) throw violationsToApiError(checked.violations);
        if ((await presetRepository().count(accountId)) >= LIMITS.maxPresets) {
          throw new ApiError('VALIDATION_ERROR', `at most ${LIMITS.maxPresets} presets per account; delete one first`);
        }
        await presetRepository().create(item);
        logger.info('preset created', { preset_id: item.preset_id });
        return json(201, toPresetResponse(item));
      }
      case 'GET /presets':
        return json(200, { presets: (await presetRepository().list(accountId)).map(toPresetResponse) });
      case 'GET /presets/{preset_id}':
        return json(200, toPresetResponse(await presetOf(accountId, event)));
      case 'DELETE /presets/{preset_id}': {
        const item = await presetOf(accountId, event);
        await presetRepository().delete(accountId, item.preset_id);
        return json(200, { success: true, preset_id: item.preset_id });
      }
      default:
        throw new ApiError('NOT_FOUND', 'No such route');
    }
  },
  { body: true },
);
