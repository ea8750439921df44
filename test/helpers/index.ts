/** Shared test helpers (see README.md in this folder). */
export { TEST_CREDENTIALS, TEST_REGION } from './aws.ts';
export { startDynalite, type DynaliteHandle } from './dynalite.ts';
export { startS3rver, type S3rverHandle } from './s3rver.ts';
export { makeFixtures, FIXTURE_NAMES, FIXTURE_RECIPES, type FixtureName, type Fixtures } from './fixtures.ts';
export { startFixtureServer, type FixtureServer, type Hit, type RouteHandler } from './fixture-server.ts';
export { startSfnEndpoint, type SfnCall, type SfnEndpoint } from './sfn-endpoint.ts';
export { closeServer, listenLocal } from './listen.ts';
export { runChildScript } from './child-script.ts';
