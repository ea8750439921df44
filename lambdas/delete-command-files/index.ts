/**
 * DELETE /commands/{command_id}/files: remove a finished command's stored outputs (a
 * playlist with its segments) from the bucket → the command as polled, each output with
 * `is_deleted: true` and `storage_url: null`. A command still QUEUED or PROCESSING is a 409:
 * its outputs are not stored yet. Deleting twice is fine (nothing left to delete).
 */
import { S3_KEYS } from '../../core/constants.ts';
import { ApiError } from '../../core/api/errors.ts';
import { isCommandId } from '../../core/api/ids.ts';
import { storedObjectKeys, storedOutputs, toPollResponse } from '../../core/api/poll.ts';
import { commandRepository } from '../common/deps.ts';
import { accountIdOf, httpHandler, json } from '../common/http.ts';
import { logger } from '../common/logger.ts';
import { deleteObjects } from '../common/stored-files.ts';

export const handler = httpHandler('delete-command-files', async (event) => {
  const accountId = accountIdOf(event);
  const commandId = event.pathParameters?.command_id ?? '';
  const notFound = new ApiError('NOT_FOUND', 'command not found');
  if (!isCommandId(commandId)) throw notFound;
  logger.appendKeys({ command_id: commandId });
  const item = await commandRepository().get(accountId, commandId);
  if (!item) throw notFound;
  if (item.status !== 'SUCCESS' && item.status !== 'FAILED') {
    throw new ApiError('CONFLICT', `command is ${item.status}: its files can be deleted once it has finished`);
  }
  const outputs = storedOutputs(item);
  const keys = Object.values(outputs)
    .filter((o) => !o.is_deleted && o.s3_key)
    .flatMap((o) => storedObjectKeys(o));
  // The inputs the service stored for this command (Rendobar's inline content) go with it.
  const ownInputs = S3_KEYS.commandInput(accountId, commandId, '');
  keys.push(...(item.plan?.inputs ?? []).flatMap((i) => (i.s3_key?.startsWith(ownInputs) ? [i.s3_key] : [])));
  // Objects first: if this fails the outputs still read as stored and the call can be repeated.
  await deleteObjects(keys);
  if (item.output_files_json && Object.values(outputs).some((o) => !o.is_deleted)) {
    const marked = Object.fromEntries(Object.entries(outputs).map(([alias, o]) => [alias, { ...o, is_deleted: true }]));
    const json_ = JSON.stringify(marked);
    const ok = await commandRepository().deleteOutputs(accountId, commandId, json_);
    if (!ok) throw new ApiError('CONFLICT', 'the command is no longer finished; try again');
    item.output_files_json = json_;
  }
  logger.info('command files deleted', { objects: keys.length });
  return json(200, toPollResponse(item, {}, new Date()));
});
