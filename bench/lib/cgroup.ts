/**
 * A CPU quota for a child process, the way Lambda shares CPU: a function with M MB of memory gets M/1769 of one
 * vCPU (1,769 MB = one vCPU), enforced as a CFS bandwidth quota. cgroup v2 (cpu.max) when the unified hierarchy
 * has the cpu controller, else cgroup v1 (cpu.cfs_quota_us / cpu.cfs_period_us) as hybrid hosts mount it. Needs
 * root and a writable /sys/fs/cgroup; otherwise `createCpuQuota` throws the reason, and the bench row says n/a.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkerCommand } from './children.js';

/** Lambda's memory for one full vCPU. */
export const MB_PER_VCPU = 1769;
/** CFS period: 100 ms, the kernel's default. */
const PERIOD_US = 100_000;

export interface CpuQuota {
  /** "cgroup v2" or "cgroup v1". */
  kind: string;
  dir: string;
  quotaUs: number;
  periodUs: number;
  /** `worker` run inside this cgroup: a shell moves itself in, then execs the worker (threads and children follow). */
  wrap(worker: WorkerCommand): WorkerCommand;
  /** CFS throttling counters, proof the quota bit. */
  throttled(): Promise<{ periods: number; throttled: number }>;
  remove(): Promise<void>;
}

async function v2Root(): Promise<string | undefined> {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    try {
      const controllers = (await readFile(path.join(root, 'cgroup.controllers'), 'utf8')).split(/\s+/);
      if (controllers.includes('cpu')) return root;
    } catch {
      // Not a v2 root.
    }
  }
  return undefined;
}

function v1Root(): string | undefined {
  for (const root of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    if (existsSync(path.join(root, 'cpu.cfs_quota_us'))) return root;
  }
  return undefined;
}

/** A fresh cgroup named `name` limited to `cpus` CPUs (0.29 for 512 MB, 1.7 for 3008 MB). */
export async function createCpuQuota(name: string, cpus: number): Promise<CpuQuota> {
  if (process.platform !== 'linux') throw new Error('cgroups are Linux only');
  if (process.getuid?.() !== 0) throw new Error('needs root to create a cgroup');
  const quotaUs = Math.max(1000, Math.round(PERIOD_US * cpus));
  const v2 = await v2Root();
  let kind: string;
  let dir: string;
  if (v2 !== undefined) {
    kind = 'cgroup v2';
    // Delegation: the parent must hand the cpu controller down to its children.
    await writeFile(path.join(v2, 'cgroup.subtree_control'), '+cpu').catch((error: unknown) => {
      throw new Error(`cannot enable the cpu controller in ${v2}: ${(error as Error).message}`);
    });
    dir = path.join(v2, name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
  } else {
    const v1 = v1Root();
    if (v1 === undefined) throw new Error('no cgroup cpu controller mounted (neither v2 cpu.max nor v1 cpu.cfs_quota_us)');
    kind = 'cgroup v1';
    dir = path.join(v1, name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
  }
  return {
    kind,
    dir,
    quotaUs,
    periodUs: PERIOD_US,
    wrap: (worker) => ({
      command: '/bin/sh',
      args: ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, worker.command, ...worker.args],
      ...(worker.env ? { env: worker.env } : {}),
    }),
    async throttled() {
      const stat = await readFile(path.join(dir, 'cpu.stat'), 'utf8').catch(() => '');
      const value = (key: string): number => Number(/^(\S+) (\d+)$/m.exec(stat.split('\n').find((l) => l.startsWith(`${key} `)) ?? '')?.[2] ?? 0);
      return { periods: value('nr_periods'), throttled: value('nr_throttled') };
    },
    async remove() {
      // Empty once its processes have exited; the kernel may take a moment to notice.
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await rmdir(dir);
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}
