/**
 * CloudFormation output keys of FfaasStack. They are the outputs' logical IDs, so they stay the
 * same across deployments: the CLI finds the table names of a deployed stack by these keys
 * (DescribeStacks → Outputs[].OutputKey).
 */
export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  commandsTableName: 'CommandsTableName',
  apiKeysTableName: 'ApiKeysTableName',
  accountsTableName: 'AccountsTableName',
  bucketName: 'BucketName',
  stateMachineArn: 'StateMachineArn',
  eventBusName: 'EventBusName',
  clusterName: 'ClusterName',
  /** The per-account usage plan (absent when accountThrottle is false). */
  usagePlanId: 'UsagePlanId',
  /** The web console's URL (only with the `console` prop). */
  consoleUrl: 'ConsoleUrl',
} as const;

/** Default stack name of `bin/ffaas.ts` (override with context `ffaas:stackName`). */
export const DEFAULT_STACK_NAME = 'Ffaas';
