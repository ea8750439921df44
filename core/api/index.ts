export * from './schemas.ts';
export * from './errors.ts';
export * from './poll.ts';
export * from './ids.ts';
export * from './api-keys.ts';
export * from './command-item.ts';
export * from './list.ts';
export * from './responses.ts';
