/**
 * Filesystem locations the constructs need at synth time. Resolved from this file, not from
 * `process.cwd()`, so the stack synthesizes the same from the CDK CLI, from tests and from local
 * mode (which synthesizes the stack in-process from wherever it was started).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the Docker build context of the worker image, the root of Lambda entries. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Lock file NodejsFunction uses to find the project root (and to install nodeModules, unused here). */
export const LOCK_FILE = path.join(REPO_ROOT, 'package-lock.json');

/** Dockerfile of the worker, relative to REPO_ROOT. */
export const WORKER_DOCKERFILE = 'fargate-task/Dockerfile';
