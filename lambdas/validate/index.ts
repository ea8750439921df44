/**
 * POST /validate (no key): a run-ffmpeg-command body (or a run-chained-ffmpeg-commands body,
 * with `ffmpeg_commands`) → 200 {valid: true, args, compute} or 200 {valid: false, errors:
 * [{code, message, path, rule?}]}. Nothing is recorded or run.
 *
 * It runs checkSubmission, the very function the submit handlers run: the body schema, the
 * command checker and the URL policy (input and webhook URLs resolved and refused when not
 * public, unless FFAAS_ALLOW_PRIVATE_URLS), so it never says valid for a body submit refuses.
 * Names are resolved but nothing is fetched, and a refusal does not say which address a name
 * resolved to (this route is open to anyone).
 * A body that is not JSON (or over the size limit) is still an error envelope: there is
 * nothing to validate.
 */
import { isApiError } from '../../core/api/errors.ts';
import type { ValidateResponse, ValidationErrorEntry } from '../../core/api/responses.ts';
import { checkSubmission } from '../common/check.ts';
import { httpHandler, json } from '../common/http.ts';

export const handler = httpHandler(
  'validate',
  async (event) => {
    const body = event.jsonBody as Record<string, unknown> | null;
    const chained = body !== null && typeof body === 'object' && body.ffmpeg_commands !== undefined;
    try {
      const checked = await checkSubmission(chained ? 'chained' : 'single', body, { revealAddresses: false });
      const args = checked.parsed.plan.commands;
      return json(200, {
        valid: true,
        args: chained ? args : (args[0] ?? []),
        compute: checked.parsed.compute,
      } satisfies ValidateResponse);
    } catch (err) {
      if (!isApiError(err) || (err.code !== 'INVALID_REQUEST' && err.code !== 'VALIDATION_ERROR')) throw err;
      const code = err.code;
      const errors: ValidationErrorEntry[] = (err.details ?? [{ path: [], message: err.message }]).map((d) => ({
        code,
        message: d.message,
        path: d.path,
        // The checker's rule names are kebab-case ("option-not-allowed"); zod's issue kinds
        // ("invalid_type") and the URL policy's "url_not_allowed" are not rules: left out.
        ...(d.type && /^[a-z]+(-[a-z0-9]+)+$/.test(d.type) ? { rule: d.type } : {}),
      }));
      return json(200, { valid: false, errors } satisfies ValidateResponse);
    }
  },
  { body: true },
);
