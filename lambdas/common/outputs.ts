import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { CommandItem } from '../../core/types.ts';
import { commandDownloads, publicBaseUrl } from './downloads.ts';

/**
 * A download URL for each stored, not deleted output of the item (alias → URL), minted now:
 * `<origin>/v/{command_id}/{token}/{file name}` (lambdas/download serves it).
 */
export async function signedOutputUrls(
  item: CommandItem,
  /** The request, for the origin; absent (webhook deliveries): FFAAS_PUBLIC_URL. */
  event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'> = { headers: {}, requestContext: undefined as never },
  now: Date = new Date(),
): Promise<Record<string, string | null>> {
  return (await commandDownloads(item, publicBaseUrl(event), now)).byAlias;
}
