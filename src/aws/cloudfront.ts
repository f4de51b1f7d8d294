/**
 * The CloudFront calls the stack makes: its distribution (found by its Comment, which names the stack) and its
 * Origin Access Control (found by name). Updates and deletes carry the ETag CloudFront handed out last.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  CloudFrontClient,
  CreateDistributionWithTagsCommand,
  CreateOriginAccessControlCommand,
  DeleteDistributionCommand,
  DeleteOriginAccessControlCommand,
  GetDistributionCommand,
  GetOriginAccessControlCommand,
  ListDistributionsCommand,
  ListOriginAccessControlsCommand,
  UpdateDistributionCommand,
  type Distribution,
  type DistributionConfig,
  type OriginAccessControlSummary,
} from '@aws-sdk/client-cloudfront';
import { CliError, awsErrorName } from '../errors.js';

export interface ObservedDistribution {
  distribution: Distribution;
  etag: string;
}

/** The distribution whose Comment is `comment`, with its full configuration and ETag, or undefined. */
export async function findDistribution(client: CloudFrontClient, comment: string): Promise<ObservedDistribution | undefined> {
  let marker: string | undefined;
  do {
    const page = await client.send(new ListDistributionsCommand({ ...(marker === undefined ? {} : { Marker: marker }) }));
    const match = (page.DistributionList?.Items ?? []).find((item) => item.Comment === comment);
    if (match?.Id) return getDistribution(client, match.Id);
    marker = page.DistributionList?.IsTruncated ? page.DistributionList.NextMarker : undefined;
  } while (marker);
  return undefined;
}

export async function getDistribution(client: CloudFrontClient, id: string): Promise<ObservedDistribution | undefined> {
  try {
    const response = await client.send(new GetDistributionCommand({ Id: id }));
    if (!response.Distribution || !response.ETag) return undefined;
    return { distribution: response.Distribution, etag: response.ETag };
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchDistribution') return undefined;
    throw error;
  }
}

export async function createDistribution(client: CloudFrontClient, config: DistributionConfig, tags: Record<string, string>): Promise<Distribution> {
  const response = await client.send(
    new CreateDistributionWithTagsCommand({
      DistributionConfigWithTags: {
        DistributionConfig: config,
        Tags: { Items: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      },
    }),
  );
  if (!response.Distribution) throw new Error('CloudFront created a distribution but returned none');
  return response.Distribution;
}

export async function updateDistribution(client: CloudFrontClient, id: string, etag: string, config: DistributionConfig): Promise<ObservedDistribution> {
  const response = await client.send(new UpdateDistributionCommand({ Id: id, IfMatch: etag, DistributionConfig: config }));
  if (!response.Distribution || !response.ETag) throw new Error('CloudFront updated the distribution but returned none');
  return { distribution: response.Distribution, etag: response.ETag };
}

export async function deleteDistribution(client: CloudFrontClient, id: string, etag: string): Promise<void> {
  try {
    await client.send(new DeleteDistributionCommand({ Id: id, IfMatch: etag }));
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchDistribution') throw error;
  }
}

export interface WaitOptions {
  /** Between polls; CloudFront's own waiter polls every 60 s. */
  intervalMs?: number;
  /** Give up after this long (a deployment normally takes a few minutes). */
  timeoutMs?: number;
  progress?: (text: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Polls until the distribution's Status is Deployed and returns it. Hand-written rather than the SDK's
 * waitUntilDistributionDeployed because that waiter reports nothing while it waits, and this wait takes minutes.
 */
export async function waitForDeployed(client: CloudFrontClient, id: string, options: WaitOptions = {}): Promise<ObservedDistribution | undefined> {
  const interval = options.intervalMs ?? 20_000;
  const timeout = options.timeoutMs ?? 30 * 60_000;
  const sleep = options.sleep ?? delay;
  let waited = 0;
  for (;;) {
    const observed = await getDistribution(client, id);
    if (!observed) return undefined;
    const status = observed.distribution.Status ?? 'unknown';
    if (status === 'Deployed') return observed;
    if (waited >= timeout) {
      throw new CliError('CDN_DEPLOY_TIMEOUT', `Distribution ${id} is still ${status} after ${Math.round(waited / 1000)} s.`, {
        suggestion: 'CloudFront is still deploying: run the command again later; it continues where it stopped.',
      });
    }
    options.progress?.(`distribution ${id} ${status}, waited ${Math.round(waited / 1000)} s`);
    await sleep(interval);
    waited += interval;
  }
}

export async function findOriginAccessControl(client: CloudFrontClient, name: string): Promise<(OriginAccessControlSummary & { etag?: string }) | undefined> {
  let marker: string | undefined;
  do {
    const page = await client.send(new ListOriginAccessControlsCommand({ ...(marker === undefined ? {} : { Marker: marker }) }));
    const match = (page.OriginAccessControlList?.Items ?? []).find((item) => item.Name === name);
    if (match) return match;
    marker = page.OriginAccessControlList?.IsTruncated ? page.OriginAccessControlList.NextMarker : undefined;
  } while (marker);
  return undefined;
}

/** An S3 OAC that always signs with SigV4: the bucket then needs no public access at all. */
export async function createOriginAccessControl(client: CloudFrontClient, name: string, description: string): Promise<string> {
  const response = await client.send(
    new CreateOriginAccessControlCommand({
      OriginAccessControlConfig: {
        Name: name,
        Description: description,
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    }),
  );
  const id = response.OriginAccessControl?.Id;
  if (!id) throw new Error('CloudFront created an origin access control but returned no Id');
  return id;
}

export async function deleteOriginAccessControl(client: CloudFrontClient, id: string): Promise<void> {
  try {
    const current = await client.send(new GetOriginAccessControlCommand({ Id: id }));
    await client.send(new DeleteOriginAccessControlCommand({ Id: id, IfMatch: current.ETag }));
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchOriginAccessControl') throw error;
  }
}
