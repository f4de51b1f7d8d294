import { AwsClients, type ClientFactoryOptions } from './aws/clients.js';
import { localTarget, resolveTarget, type AwsTarget } from './aws/target.js';
import { readSettingsFile, settingsPath } from './config/settings.js';
import { Output } from './ui/output.js';
import { ensureLocalStack } from './local/ministack.js';

/** The global options of the contract, valid on every command. */
export interface GlobalOptions {
  profile?: string | undefined;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  local?: boolean | undefined;
  config?: string | undefined;
  json?: boolean | undefined;
  yes?: boolean | undefined;
  debug?: boolean | undefined;
}

export interface Identity {
  account: string;
  arn: string;
  partition: string;
}

/**
 * What every command receives: resolved options, output, and (on demand) AWS clients for the target.
 * Tests build one directly with their own output streams and client hooks.
 */
export class AppContext {
  readonly output: Output;
  readonly settingsFile: string;
  private clientsPromise: Promise<AwsClients> | undefined;
  private identityPromise: Promise<Identity> | undefined;

  constructor(
    readonly globals: GlobalOptions,
    options: {
      output?: Output;
      clientOptions?: ClientFactoryOptions;
      /** Pre-resolved target (tests), skipping local-stack discovery. */
      target?: AwsTarget;
      cwd?: string;
    } = {},
  ) {
    this.output = options.output ?? new Output({ json: Boolean(globals.json), debug: Boolean(globals.debug) });
    this.settingsFile = settingsPath(globals.config, options.cwd);
    this.cwd = options.cwd ?? process.cwd();
    this.clientOptions = options.clientOptions ?? {};
    this.presetTarget = options.target;
  }

  readonly cwd: string;
  private readonly clientOptions: ClientFactoryOptions;
  private readonly presetTarget: AwsTarget | undefined;

  get yes(): boolean {
    return Boolean(this.globals.yes);
  }

  /** Prompts only for a person at a terminal who did not say --yes. */
  get canPrompt(): boolean {
    return !this.yes && process.stdin.isTTY && process.stdout.isTTY && !process.env.CI;
  }

  async resolveTarget(): Promise<AwsTarget> {
    if (this.presetTarget) return this.presetTarget;
    if (this.globals.local) {
      const stack = await ensureLocalStack({ cwd: this.cwd, output: this.output });
      return localTarget(stack.endpoint, this.globals);
    }
    const target = resolveTarget(this.globals);
    if (target.region === undefined) {
      // After `init`, the stack's own region beats the profile's, so later commands find the stack.
      const settings = await readSettingsFile(this.settingsFile).catch(() => undefined);
      if (settings?.region) return { ...target, region: settings.region };
    }
    return target;
  }

  /** AWS clients for the target; the first call also prints where the command acts. */
  clients(): Promise<AwsClients> {
    this.clientsPromise ??= (async () => {
      const target = await this.resolveTarget();
      const clients = new AwsClients(target, this.clientOptions);
      await this.announce(clients);
      return clients;
    })();
    return this.clientsPromise;
  }

  identity(): Promise<Identity> {
    this.identityPromise ??= (async () => {
      const clients = await this.clients();
      return callerIdentity(clients);
    })();
    return this.identityPromise;
  }

  private async announce(clients: AwsClients): Promise<void> {
    const { target } = clients;
    const region = await clients.s3.config.region();
    const where =
      target.kind === 'local' ? `local stack ${target.endpoint ?? ''}` : target.endpoint ?? (target.kind === 'endpoint' ? 'endpoint from AWS_ENDPOINT_URL' : 'AWS');
    const identity = await callerIdentity(clients);
    this.identityPromise = Promise.resolve(identity);
    this.output.note(`Target: ${where} · region ${region} · account ${identity.account}`);
  }

  close(): void {
    // A failed client setup was already reported; only a working one needs closing.
    void this.clientsPromise?.then((c) => { c.destroy(); }, () => undefined);
  }
}

async function callerIdentity(clients: AwsClients): Promise<Identity> {
  // Loaded here, not at the top: commands that never reach AWS (help, local, resize) must not pay for the SDK.
  const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const response = await clients.sts.send(new GetCallerIdentityCommand({}));
  const arn = response.Arn ?? '';
  return {
    account: response.Account ?? '',
    arn,
    partition: arn.split(':')[1] ?? 'aws',
  };
}
