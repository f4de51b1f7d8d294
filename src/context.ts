import { explainSdkError } from './aws/sdk-errors.js';
import { AwsClients, sdkPackage, type ClientFactoryOptions } from './aws/clients.js';
import { hasEndpointOverrideInEnv, localTarget, resolveTarget, type AwsTarget } from './aws/target.js';
import { readSettingsFile, resolveRuntime, settingsPath, type StackLocation } from './config/settings.js';
import type { LambdaRuntime } from './runtimes.js';
import { Output } from './ui/output.js';
import type { OwnershipRecord } from './provision/types.js';
import { cliCommand, shellWord } from './paths.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import path from 'node:path';
import { DEFAULT_SETTINGS_FILE } from './config/stack-settings.js';

/** Node's diagnostics channel on which the HTTP client announces each request it starts. */
const HTTP_REQUEST_START = 'http.client.request.start';

/** The global options of the contract, valid on every command. */
export interface GlobalOptions {
  profile?: string | undefined;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  local?: boolean | undefined;
  /** Port of the local stack; implies --local. */
  localPort?: number | undefined;
  config?: string | undefined;
  json?: boolean | undefined;
  yes?: boolean | undefined;
  debug?: boolean | undefined;
  /** Tables keep every column whole, however narrow the terminal. */
  wide?: boolean | undefined;
}

export interface Identity {
  account: string;
  arn: string;
  partition: string;
}

/** The clients, where they act, and who the caller is there: what a command's first request establishes. */
interface Session {
  clients: AwsClients;
  where: string;
  region: string;
  identity: Identity;
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
  private sessionPromise: Promise<Session> | undefined;
  /** Stops an early first request (sendFirstRequest) that the command no longer needs. */
  private readonly firstRequest = new AbortController();

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
    this.output = options.output ?? new Output({ json: Boolean(globals.json), debug: Boolean(globals.debug), wide: Boolean(globals.wide) });
    this.settingsFile = settingsPath(globals.config, options.cwd);
    this.cwd = options.cwd ?? process.cwd();
    this.clientOptions = options.clientOptions ?? {};
    this.presetTarget = options.target;
  }

  readonly cwd: string;
  private readonly clientOptions: ClientFactoryOptions;
  private readonly presetTarget: AwsTarget | undefined;
  private targetPromise: Promise<AwsTarget> | undefined;
  /** The local stack's port, once a local target is resolved. */
  private localPort: number | undefined;
  private settingsWarned = false;
  /** The runtime `init` is deploying, when it differs from what the settings file says (see useFunctionRuntime). */
  private functionRuntime: LambdaRuntime | undefined;

  /**
   * The runtime the stack's functions are about to run on: `init` says so before its first AWS call, so a local
   * stack it starts runs them on that runtime's Node (other commands follow the settings file).
   */
  useFunctionRuntime(runtime: LambdaRuntime): void {
    this.functionRuntime = runtime;
  }

  get yes(): boolean {
    return Boolean(this.globals.yes);
  }

  /**
   * The settings file, validated (a bad value stops the command, exit 2, naming the file and key); undefined when
   * there is none. Unknown keys are warned about once per command.
   */
  async readSettings(): Promise<Awaited<ReturnType<typeof readSettingsFile>>> {
    return readSettingsFile(this.settingsFile, {
      warn: (message) => {
        if (this.settingsWarned) return;
        this.settingsWarned = true;
        this.output.warn(message);
      },
    });
  }

  /** Prompts only for a person at a terminal who did not say --yes. */
  get canPrompt(): boolean {
    return !this.yes && process.stdin.isTTY && process.stdout.isTTY && !process.env.CI;
  }

  /** True when this command's flags or environment say where to act; else the settings file's record decides. */
  private targetGiven(env: NodeJS.ProcessEnv = process.env): boolean {
    const { local, localPort, endpointUrl, profile } = this.globals;
    return Boolean(local) || localPort !== undefined || endpointUrl !== undefined || profile !== undefined || hasEndpointOverrideInEnv(env);
  }

  async resolveTarget(): Promise<AwsTarget> {
    this.targetPromise ??= this.findTarget();
    return this.targetPromise;
  }

  private async findTarget(): Promise<AwsTarget> {
    if (this.presetTarget) return this.presetTarget;
    // A broken settings file stops here with its own message (file and key), before any AWS call.
    const settings = await this.readSettings();
    const recorded = settings?.location;
    const withRegion = (target: AwsTarget): AwsTarget =>
      // After `init`, the stack's own region beats the profile's, so later commands find the stack.
      target.region === undefined && settings?.region ? { ...target, region: settings.region } : target;
    const local = async (port: number | undefined): Promise<AwsTarget> => {
      const runtime = this.functionRuntime ?? resolveRuntime(undefined, {}, settings).runtime;
      // Loaded here: the local stack's modules (installers, processes) are no part of a command aimed at AWS.
      const { ensureLocalStack } = await import('./local/ministack.js');
      const stack = await ensureLocalStack({ output: this.output, port, runtime });
      this.localPort = stack.port;
      return withRegion(localTarget(stack.endpoint, this.globals));
    };
    if (this.globals.local || this.globals.localPort !== undefined) {
      return local(this.globals.localPort ?? (recorded?.kind === 'local' ? recorded.port : undefined));
    }
    if (!this.targetGiven() && recorded) {
      switch (recorded.kind) {
        case 'local':
          return local(recorded.port);
        case 'endpoint':
          return withRegion(resolveTarget({ ...this.globals, endpointUrl: recorded.endpointUrl }));
        case 'aws': {
          const target = resolveTarget(this.globals);
          return withRegion(target.profile === undefined && recorded.profile !== undefined ? { ...target, profile: recorded.profile } : target);
        }
      }
    }
    return withRegion(resolveTarget(this.globals));
  }

  /**
   * The command line that runs this CLI again on the same stack from the operator's directory, for printed
   * next steps: no target flags (the settings file records the target), --config only when not the default.
   */
  commandLine(env: NodeJS.ProcessEnv = process.env): string {
    const base = cliCommand(this.cwd, env);
    const isDefaultFile = this.settingsFile === path.resolve(this.cwd, DEFAULT_SETTINGS_FILE);
    return isDefaultFile ? base : `${base} --config ${shellWord(path.relative(this.cwd, this.settingsFile))}`;
  }

  /** The local stack's port for this command: --local-port, else the one init recorded, else the default. */
  async localStackPort(): Promise<number | undefined> {
    if (this.globals.localPort !== undefined) return this.globals.localPort;
    const settings = await this.readSettings();
    return settings?.location?.kind === 'local' ? settings.location.port : undefined;
  }

  /**
   * The record of what stacks created, on the local stack only: it can lose bucket tags on an unclean stop.
   * AWS keeps tags, so there they remain the whole record.
   */
  async ownershipRecord(): Promise<OwnershipRecord | undefined> {
    const target = await this.resolveTarget();
    if (target.kind !== 'local' || this.localPort === undefined) return undefined;
    const [{ createdRecord }, { localStateDir }] = await Promise.all([import('./local/created-record.js'), import('./local/ministack.js')]);
    return createdRecord(localStateDir(this.localPort));
  }

  /** Where the resolved target is, as `init` records it in the settings file. */
  async location(env: NodeJS.ProcessEnv = process.env): Promise<StackLocation> {
    const target = await this.resolveTarget();
    if (target.kind === 'local' && this.localPort !== undefined) return { kind: 'local', port: this.localPort };
    const fromEnv = env.AWS_ENDPOINT_URL === '' ? undefined : env.AWS_ENDPOINT_URL;
    const endpointUrl = target.endpoint ?? fromEnv;
    if (endpointUrl !== undefined) return { kind: 'endpoint', endpointUrl };
    return target.profile === undefined ? { kind: 'aws' } : { kind: 'aws', profile: target.profile };
  }

  /** AWS clients for the target; the first call also prints where the command acts. */
  clients(): Promise<AwsClients> {
    this.clientsPromise ??= (async () => {
      const { clients, where, region, identity } = await this.session();
      this.output.note(`Target: ${where} · region ${region} · account ${identity.account}`);
      return clients;
    })();
    return this.clientsPromise;
  }

  /** Who the caller is: the answer to the first request, which clients() made (one GetCallerIdentity a command). */
  identity(): Promise<Identity> {
    this.identityPromise ??= this.clients().then(async () => (await this.session()).identity);
    return this.identityPromise;
  }

  /**
   * Sends the command's first request (who the caller is) now and prints nothing: for a command with local work to
   * do before it needs AWS (upload's reading of its files), so the round trip overlaps that work (issue 21).
   * clients() later prints where the command acts, in the same place as without this. Resolves once the request is
   * on its way. Never for the local stack: starting one is not done before the command's own checks pass.
   */
  async sendFirstRequest(): Promise<void> {
    let settings: Awaited<ReturnType<AppContext['readSettings']>>;
    try {
      settings = await this.readSettings();
    } catch {
      return; // the command's own steps read the same settings and report what is wrong with them
    }
    if (this.globals.local || this.globals.localPort !== undefined || (!this.targetGiven() && settings?.location?.kind === 'local')) return;
    // Node announces each HTTP request it starts on this channel: the first one is the credentials' or the identity's.
    let onStart = (): void => undefined;
    const started = new Promise<void>((resolve) => { onStart = resolve; });
    subscribe(HTTP_REQUEST_START, onStart);
    try {
      // A failure (no credentials, no network) surfaces where clients() is awaited, as without the early start.
      await Promise.race([started, this.session().then(() => undefined, () => undefined)]);
    } finally {
      unsubscribe(HTTP_REQUEST_START, onStart);
    }
  }

  /** The clients, the caller's identity and where they act: the first request's answer, asked once. */
  private session(): Promise<Session> {
    this.sessionPromise ??= (async () => {
      const target = await this.resolveTarget();
      const clients = new AwsClients(target, this.clientOptions);
      const where =
        target.kind === 'local' ? `local stack ${target.endpoint ?? ''}` : target.endpoint ?? (target.kind === 'endpoint' ? 'endpoint from AWS_ENDPOINT_URL' : 'AWS');
      try {
        // STS's config, not S3's: every AWS command builds the STS client to say who it is, and loading the S3 client
        // only to read the region would delay the first request of commands that never touch S3 (issue 21).
        const region = await clients.sts.config.region();
        const identity = await callerIdentity(clients, this.firstRequest.signal);
        return { clients, where, region, identity };
      } catch (error) {
        clients.destroy();
        // Reading the region happens outside any request, so the clients' own error translation does not see it.
        throw await explainSdkError(error, target);
      }
    })();
    return this.sessionPromise;
  }

  close(): void {
    // An early first request still in flight (a command that stopped before it needed AWS) stops with the command.
    this.firstRequest.abort();
    // A failed client setup was already reported (and closed); only a working one needs closing.
    void this.sessionPromise?.then(({ clients }) => { clients.destroy(); }, () => undefined);
  }
}

async function callerIdentity(clients: AwsClients, abortSignal?: AbortSignal): Promise<Identity> {
  // Loaded here, not at the top: commands that never reach AWS (help, local, resize) must not pay for the SDK.
  const { GetCallerIdentityCommand } = sdkPackage('sts');
  const response = await clients.sts.send(new GetCallerIdentityCommand({}), abortSignal ? { abortSignal } : {});
  const arn = response.Arn ?? '';
  return {
    account: response.Account ?? '',
    arn,
    partition: arn.split(':')[1] ?? 'aws',
  };
}
