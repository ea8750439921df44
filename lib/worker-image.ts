import { Aws } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';

/** The parts of a private ECR image URI. */
export interface EcrImageUri {
  account: string;
  region: string;
  repositoryName: string;
  /** A tag (`latest` when the URI has none) or a digest (`sha256:...`). */
  tagOrDigest: string;
}

const ECR_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+?)(?:(?::([\w][\w.-]{0,127}))|@(sha256:[a-f0-9]{64}))?$/;

/** Parses `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@sha256:...]`; null for any other registry. */
export function parseEcrImageUri(uri: string): EcrImageUri | null {
  const m = ECR_URI.exec(uri.trim());
  if (!m) return null;
  return { account: m[1]!, region: m[2]!, repositoryName: m[3]!, tagOrDigest: m[4] ?? m[5] ?? 'latest' };
}

/**
 * The container image of a prebuilt worker image URI. A private ECR image goes through
 * `ContainerImage.fromEcrRepository`, which grants the task's execution role
 * ecr:GetAuthorizationToken and BatchGetImage/GetDownloadUrlForLayer/BatchCheckLayerAvailability
 * on that repository; `fromRegistry` would grant nothing and every task would fail to pull.
 * Other registries (public ones) need no grant.
 */
export function workerImageFromUri(scope: Construct, uri: string): ecs.ContainerImage {
  const ecrImage = parseEcrImageUri(uri);
  if (!ecrImage) return ecs.ContainerImage.fromRegistry(uri);
  const repository = ecr.Repository.fromRepositoryAttributes(scope, 'WorkerImageRepository', {
    repositoryName: ecrImage.repositoryName,
    repositoryArn: `arn:${Aws.PARTITION}:ecr:${ecrImage.region}:${ecrImage.account}:repository/${ecrImage.repositoryName}`,
  });
  return ecs.ContainerImage.fromEcrRepository(repository, ecrImage.tagOrDigest);
}
