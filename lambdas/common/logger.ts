import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per container; handlers append command_id etc. as keys. */
export const logger = new Logger({ serviceName: 'ffaas-api' });
