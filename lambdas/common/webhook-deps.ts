/** The webhook deliverer of a handler (or of local mode), built from the configuration once. */
import { ENV } from '../../core/constants.ts';
import { sqsClient } from '../../store/clients.ts';
import { config } from './config.ts';
import { commandRepository, deliveryRepository, secretBox, webhookConfigRepository } from './deps.ts';
import { signedOutputUrls } from './outputs.ts';
import { WebhookDeliverer, type WebhookSender } from './webhook-deliverer.ts';
import { PollingDeliveryScheduler, SqsDeliveryScheduler, type DeliveryScheduler } from './webhook-queue.ts';

/** SQS on AWS (the retry queue is configured), else local mode's table-polling scheduler. */
export function deliveryScheduler(): DeliveryScheduler {
  const { webhookQueueUrl, webhookDlqUrl } = config();
  return webhookQueueUrl
    ? new SqsDeliveryScheduler(sqsClient(), webhookQueueUrl, webhookDlqUrl)
    : new PollingDeliveryScheduler(process.env[ENV.DATA_DIR]);
}

/** A deliverer on the current configuration; `send` only where attempts are made. */
export function createWebhookDeliverer(send?: WebhookSender): WebhookDeliverer {
  return new WebhookDeliverer({
    deliveries: deliveryRepository(),
    configs: webhookConfigRepository(),
    commands: commandRepository(),
    signUrls: (item) => signedOutputUrls(item),
    scheduler: deliveryScheduler(),
    openSecret: (stored, accountId) => secretBox().open(stored, accountId),
    settings: config().webhooks,
    allowPrivateUrls: config().allowPrivateUrls,
    send,
  });
}
