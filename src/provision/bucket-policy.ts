/**
 * The stack's statements in its buckets' policies, composed from pure builders: a TLS-only Deny on every bucket
 * the stack made (not on an adopted one: the operator's bucket, the operator's policy), and on the destination
 * bucket, when the CDN is on, the Allow that lets exactly the stack's distribution read `resized*` objects.
 * Statements are ours by Sid; every other statement in the policy is kept as it is.
 */
import { deleteBucketPolicy, getBucketPolicy, getBucketTags, putBucketPolicy } from '../aws/bucket-policy.js';
import { parsePolicyDocument, policiesEqual } from './policy.js';
import { ADOPTED_TAG } from './stack.js';
import { loadTemplate, renderTemplate, type Json } from './templates.js';
import { noop, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';

export const TLS_ONLY_SID = 'ImgResizerTlsOnly';
export const CDN_READ_SID = 'ImgResizerCdnRead';
/** Every Sid this step owns: statements with these are replaced or removed, all others kept. */
export const OWNED_SIDS: readonly string[] = [TLS_ONLY_SID, CDN_READ_SID];

type Statement = Record<string, Json>;
export interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

/**
 * Deny every request not made over TLS. `emulator`: MiniStack evaluates its in-process CloudFront origin fetch as
 * plain HTTP (on AWS that fetch is HTTPS, as viewers are redirected to HTTPS), so on an emulator the Deny spares
 * requests that carry a source ARN (a service acting for a resource); on AWS the statement is the strict one.
 */
export function tlsOnlyStatement(bucketArn: string, emulator = false): Statement {
  const statement = renderTemplate(loadTemplate('bucket-policy-tls-only.json'), { bucketArn, objectsArn: `${bucketArn}/*` }) as Statement;
  if (!emulator) return statement;
  return { ...statement, Condition: { ...(statement.Condition as Record<string, Json>), Null: { 'aws:SourceArn': 'true' } } };
}

export function cdnReadStatement(bucketArn: string, distributionArn: string): Statement {
  return renderTemplate(loadTemplate('bucket-policy-cdn-read.json'), { bucketArn, distributionArn }) as Statement;
}

export interface ObservedBucketPolicy {
  /** False: the bucket does not exist (yet: a dry run before the bucket step created it). */
  bucketExists: boolean;
  adopted: boolean;
  document: PolicyDocument | undefined;
}

export type BucketPolicyOp =
  | { kind: 'add-policy-statement'; sid: string }
  | { kind: 'replace-policy-statement'; sid: string }
  | { kind: 'remove-policy-statement'; sid: string };

export type BucketPolicyRemovalOp = { kind: 'remove-policy-statement'; sid: string } | { kind: 'delete-bucket-policy' };

function sidOf(statement: unknown): string | undefined {
  const sid = typeof statement === 'object' && statement !== null ? (statement as Record<string, unknown>).Sid : undefined;
  return typeof sid === 'string' ? sid : undefined;
}

function asDocument(text: string | undefined): PolicyDocument | undefined {
  const parsed = parsePolicyDocument(text);
  if (!parsed) return undefined;
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement === undefined ? [] : [parsed.Statement];
  return { Version: typeof parsed.Version === 'string' ? parsed.Version : '2012-10-17', Statement: statements as Statement[] };
}

/** Our statements as they should be on this bucket. */
export function desiredStatements(input: { bucketArn: string; adopted: boolean; cdnReadArn: string | undefined; emulator?: boolean }): Statement[] {
  const statements: Statement[] = [];
  if (!input.adopted) statements.push(tlsOnlyStatement(input.bucketArn, input.emulator === true));
  if (input.cdnReadArn !== undefined) statements.push(cdnReadStatement(input.bucketArn, input.cdnReadArn));
  return statements;
}

/** The ops that turn the current document's statements of ours into the desired ones. */
export function statementOps(desired: readonly Statement[], current: PolicyDocument | undefined): BucketPolicyOp[] {
  const have = new Map((current?.Statement ?? []).map((s) => [sidOf(s), s] as const));
  const ops: BucketPolicyOp[] = [];
  for (const statement of desired) {
    const sid = sidOf(statement) ?? '';
    const existing = have.get(sid);
    if (!existing) ops.push({ kind: 'add-policy-statement', sid });
    else if (!policiesEqual({ Statement: [statement] }, { Statement: [existing] })) ops.push({ kind: 'replace-policy-statement', sid });
  }
  const wanted = new Set(desired.map(sidOf));
  for (const sid of OWNED_SIDS) if (have.has(sid) && !wanted.has(sid)) ops.push({ kind: 'remove-policy-statement', sid });
  return ops;
}

/** The document with our statements replaced by `ours`, others kept in their order; undefined when empty. */
export function mergePolicy(current: PolicyDocument | undefined, ours: readonly Statement[]): PolicyDocument | undefined {
  const others = (current?.Statement ?? []).filter((s) => !OWNED_SIDS.includes(sidOf(s) ?? ''));
  const statements = [...others, ...ours];
  return statements.length === 0 ? undefined : { Version: current?.Version ?? '2012-10-17', Statement: statements };
}

export function planBucketPolicy(desired: readonly Statement[], observed: ObservedBucketPolicy): Plan<BucketPolicyOp> {
  const ops = statementOps(desired, observed.document);
  const what = desired.map(sidOf).join(', ') || 'no statements of ours';
  if (ops.length === 0) return noop(observed.bucketExists ? `has ${what}` : 'nothing to add once the bucket exists');
  return { action: observed.document ? 'update' : 'create', reason: observed.bucketExists ? '' : 'the bucket does not exist yet', ops };
}

export type BucketRole = 'source' | 'dest';

function bucketOf(context: ProvisionContext, which: BucketRole): { name: string; arn: string } {
  const { stack } = context;
  return which === 'source'
    ? { name: stack.settings.sourceBucket, arn: stack.sourceBucketArn }
    : { name: stack.settings.destBucket, arn: stack.destBucketArn };
}

/** The distribution ARN the read statement names: the stack's when the CDN is on and this bucket is the destination. */
function cdnReadArn(context: ProvisionContext, which: BucketRole, inputs: Readonly<StackOutputs>): string | undefined {
  const { settings, partition, account } = context.stack;
  const isDest = which === 'dest' || settings.sourceBucket === settings.destBucket;
  if (!isDest || settings.cdn !== true) return undefined;
  // A dry run before the distribution exists: CloudFront assigns the ID on creation.
  return inputs.distributionArn ?? `arn:${partition}:cloudfront::${account}:distribution/(new)`;
}

async function observePolicy(context: ProvisionContext, bucket: string): Promise<ObservedBucketPolicy> {
  const { s3 } = context.clients;
  const text = await getBucketPolicy(s3, bucket);
  if (text === null) return { bucketExists: false, adopted: false, document: undefined };
  const tags = await getBucketTags(s3, bucket);
  return { bucketExists: true, adopted: tags[ADOPTED_TAG] === 'true', document: asDocument(text) };
}

function label(which: BucketRole): string {
  return which === 'source' ? 'Source bucket policy' : 'Destination bucket policy';
}

export function bucketPolicyStep(which: BucketRole): Step<ObservedBucketPolicy, BucketPolicyOp> {
  const desiredFor = (context: ProvisionContext, observed: ObservedBucketPolicy, inputs: Readonly<StackOutputs>) =>
    desiredStatements({
      bucketArn: bucketOf(context, which).arn,
      adopted: observed.adopted,
      cdnReadArn: cdnReadArn(context, which, inputs),
      emulator: context.clients.target.kind !== 'aws',
    });
  return {
    id: `${which}-bucket-policy`,
    resource: label(which),
    name: (context) => bucketOf(context, which).name,
    observe: (context) => observePolicy(context, bucketOf(context, which).name),
    plan: (context, observed, inputs) => planBucketPolicy(desiredFor(context, observed, inputs), observed),
    async apply(context, _observed, _plan, inputs, progress) {
      const { name } = bucketOf(context, which);
      // Read again: the bucket step may have just created the bucket, and others may have edited the policy.
      const current = await observePolicy(context, name);
      const merged = mergePolicy(current.document, desiredFor(context, current, inputs));
      progress('writing the bucket policy');
      if (merged) await putBucketPolicy(context.clients.s3, name, merged);
      else await deleteBucketPolicy(context.clients.s3, name);
      return undefined;
    },
  };
}

export function planBucketPolicyRemoval(observed: ObservedBucketPolicy): Plan<BucketPolicyRemovalOp> {
  if (!observed.bucketExists) return noop('already gone');
  const ours = (observed.document?.Statement ?? []).map(sidOf).filter((sid): sid is string => sid !== undefined && OWNED_SIDS.includes(sid));
  if (ours.length === 0) return noop('no statements of ours');
  const ops: BucketPolicyRemovalOp[] = ours.map((sid) => ({ kind: 'remove-policy-statement', sid }));
  if (!mergePolicy(observed.document, [])) ops.push({ kind: 'delete-bucket-policy' });
  return { action: 'delete', reason: 'statements made by this stack (others kept)', ops };
}

export function bucketPolicyRemovalStep(which: BucketRole): Step<ObservedBucketPolicy, BucketPolicyRemovalOp> {
  return {
    id: `${which}-bucket-policy`,
    resource: label(which),
    name: (context) => bucketOf(context, which).name,
    observe: (context) => observePolicy(context, bucketOf(context, which).name),
    plan: (_context, observed) => planBucketPolicyRemoval(observed),
    async apply(context, observed) {
      const { name } = bucketOf(context, which);
      const merged = mergePolicy(observed.document, []);
      if (merged) await putBucketPolicy(context.clients.s3, name, merged);
      else await deleteBucketPolicy(context.clients.s3, name);
      return undefined;
    },
  };
}
