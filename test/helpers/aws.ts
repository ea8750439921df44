/** Region and dummy credentials for SDK clients pointed at the in-process emulators. */
export const TEST_REGION = 'us-east-1';
/** s3rver verifies signatures against these; dynalite and the SFN endpoint accept anything. */
export const TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
