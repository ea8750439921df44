/** Webhook delivery rules with no AWS in them: signatures, the retry schedule, a delivery's states. */
export * from './signing.ts';
export * from './schedule.ts';
export * from './delivery.ts';
export * from './config.ts';
