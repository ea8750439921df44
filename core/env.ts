/**
 * Reading on/off settings from the environment, the same way everywhere (handlers, worker,
 * local mode). Not Powertools' getBooleanFromEnv: that reads process.env by key and throws on
 * other words, where these readers take an env record (tests pass their own) and treat an
 * unset or unknown value as off, the safe side of every flag here.
 */
const ON = new Set(['1', 'true', 'yes', 'on']);

/** Whether an environment value means "on" (1, true, yes, on; any case, spaces ignored). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && ON.has(value.trim().toLowerCase());
}
