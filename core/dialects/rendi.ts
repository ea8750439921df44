/**
 * Rendi's dialect on /v1: the RenderIO routes and shapes, except the list, which Rendi
 * documents as a bare JSON array with `limit` defaulting to and capped at 1000.
 */
import * as z from 'zod';
import { COMMAND_STATUS } from '../constants.ts';
import { numeric } from '../api/schemas.ts';
import type { PollResponse } from '../api/responses.ts';

export const RENDI_BASE_PATH = '/v1';
export const RENDI_LIST_MAX_LIMIT = 1000;

/** Whether a request came in under Rendi's base path (`event.resource`, e.g. "/v1/commands"). */
export function isRendiRequest(resource: string | null | undefined): boolean {
  return typeof resource === 'string' && resource.startsWith(`${RENDI_BASE_PATH}/`);
}

/** GET /v1/commands query: Rendi's limit (default and maximum 1000); the rest as on /api/v1. */
export const RendiListQuerySchema = z.object({
  limit: numeric(z.number().int().min(1).max(RENDI_LIST_MAX_LIMIT)).default(RENDI_LIST_MAX_LIMIT),
  offset: numeric(z.number().int().min(0).max(10_000)).default(0),
  status: z.enum(COMMAND_STATUS).optional(),
  cursor: z.string().max(2048).optional(),
});

/** The list response of Rendi: the commands themselves, newest first. */
export function toRendiList(commands: PollResponse[]): PollResponse[] {
  return commands;
}
