import type { CommandItem } from '../../core/types.ts';
import { storedOutputs } from '../../core/api/poll.ts';
import { signGetUrl } from './deps.ts';

/** A signed GET URL for each stored, not deleted output of the item (alias → URL). */
export async function signedOutputUrls(item: CommandItem): Promise<Record<string, string | null>> {
  const urls: Record<string, string | null> = {};
  await Promise.all(
    Object.entries(storedOutputs(item)).map(async ([alias, out]) => {
      urls[alias] = out.status === 'STORED' && !out.is_deleted && out.s3_key ? await signGetUrl(out.s3_key, out.filename) : null;
    }),
  );
  return urls;
}
