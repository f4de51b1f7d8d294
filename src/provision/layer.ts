import type { LayerVersionsListItem } from '@aws-sdk/client-lambda';
import { deleteLayerVersion, listLayerVersions, publishLayerVersion } from '../aws/lambda.js';
import { stackRuntime } from '../config/settings.js';
import { noop, type Plan, type Step } from './types.js';

export interface DesiredLayer {
  /** Hex SHA-256 of the layer zip; undefined when only checking that a version exists (status). */
  sha256: string | undefined;
  architecture: string;
  /** The Lambda runtime of the functions using it (the version's CompatibleRuntimes). */
  runtime: string;
}

export interface ObservedLayer {
  /** Newest first. */
  versions: LayerVersionsListItem[];
}

/** `version` is the number Lambda will give it; undefined for a layer never published. */
export interface LayerOp { kind: 'publish-layer-version'; version: number | undefined }

export interface LayerRemovalOp { kind: 'delete-layer-versions'; versions: number[] }

/** The zip hash a version was published with, from its Description (`... sha256:<hex>`). */
export function layerVersionHash(version: LayerVersionsListItem | undefined): string | undefined {
  return /sha256:([0-9a-f]{64})/.exec(version?.Description ?? '')?.[1];
}

export function planLayer(desired: DesiredLayer, observed: ObservedLayer): Plan<LayerOp> {
  const latest = observed.versions[0];
  // Not "version 1": Lambda keeps counting after versions are deleted (say, by destroy).
  if (!latest) return { action: 'create', reason: 'no version published', ops: [{ kind: 'publish-layer-version', version: undefined }] };
  const next: LayerOp = { kind: 'publish-layer-version', version: (latest.Version ?? 0) + 1 };
  if (desired.sha256 !== undefined && layerVersionHash(latest) !== desired.sha256) {
    return { action: 'update', reason: `version ${latest.Version ?? '?'} holds other bytes`, ops: [next] };
  }
  const architectures = latest.CompatibleArchitectures ?? [];
  if (architectures.length > 0 && !architectures.includes(desired.architecture as never)) {
    return { action: 'update', reason: `version ${latest.Version ?? '?'} is for ${architectures.join(', ')}`, ops: [next] };
  }
  // The bytes do not depend on the runtime (sharp is a Node-API addon), but Lambda records the runtimes a version is for.
  const runtimes = latest.CompatibleRuntimes ?? [];
  if (runtimes.length > 0 && !runtimes.includes(desired.runtime as never)) {
    return { action: 'update', reason: `version ${latest.Version ?? '?'} is for ${runtimes.join(', ')}, not ${desired.runtime}`, ops: [next] };
  }
  return noop(`version ${latest.Version ?? '?'} is current`);
}

export const layerStep: Step<ObservedLayer, LayerOp> = {
  id: 'layer',
  resource: 'sharp layer',
  name: (context) => context.stack.settings.layerName,
  async observe(context) {
    return { versions: await listLayerVersions(context.clients.lambda, context.stack.settings.layerName) };
  },
  plan: (context, observed) =>
    planLayer({ sha256: context.artifacts?.layerZip.sha256, architecture: context.stack.settings.arch, runtime: stackRuntime(context.stack.settings) }, observed),
  async apply(context, _observed, _plan, _inputs, progress) {
    const { artifacts } = context;
    if (!artifacts) throw new Error('the layer step needs the built layer');
    progress(`publishing ${(artifacts.layerZip.size / 1024 / 1024).toFixed(1)} MB`);
    const published = await publishLayerVersion(context.clients.lambda, {
      layerName: context.stack.settings.layerName,
      zip: artifacts.layerZip.bytes,
      description: artifacts.layerZip.description,
      runtime: stackRuntime(context.stack.settings),
      architecture: context.stack.settings.arch,
    });
    return { outputs: { layerVersionArn: published.layerVersionArn } };
  },
  outputs(context, observed, plan) {
    const latest = observed.versions[0];
    // A dry run names the version it would publish, so the function's plan shows the layer changing.
    return {
      layerVersionArn:
        plan.action === 'no-op' && latest?.LayerVersionArn ? latest.LayerVersionArn : `${context.stack.layerArn}:${(latest?.Version ?? 0) + 1}`,
    };
  },
};

export const layerRemovalStep: Step<ObservedLayer, LayerRemovalOp> = {
  id: 'layer',
  resource: 'sharp layer',
  name: (context) => context.stack.settings.layerName,
  async observe(context) {
    return { versions: await listLayerVersions(context.clients.lambda, context.stack.settings.layerName) };
  },
  plan(_context, observed): Plan<LayerRemovalOp> {
    const versions = observed.versions.flatMap((v) => (v.Version === undefined ? [] : [v.Version]));
    return versions.length > 0 ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-layer-versions', versions }] } : noop('already gone');
  },
  async apply(context, _observed, plan) {
    let count = 0;
    for (const op of plan.ops) {
      for (const version of op.versions) await deleteLayerVersion(context.clients.lambda, context.stack.settings.layerName, version);
      count += op.versions.length;
    }
    return { detail: `${count} version${count === 1 ? '' : 's'}` };
  },
};
