import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';

/** What the figures were measured on: they mean little without it. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  sharp: string;
  libvips: string;
  jimp: string;
  /** Filled in once the Pillow part has found or installed Pillow. */
  pillow: string;
  python: string;
  /** 1-minute load average when the run started: a busy machine gives noisier absolute numbers. */
  loadAtStart: number;
  date: string;
}

async function cpuModel(): Promise<string> {
  try {
    const cpuinfo = await readFile('/proc/cpuinfo', 'utf8');
    const line = cpuinfo.split('\n').find((l) => l.startsWith('model name'));
    const model = line?.split(':')[1]?.trim();
    if (model) return model;
  } catch {
    // Not Linux: os.cpus() below.
  }
  return os.cpus()[0]?.model.trim() ?? 'unknown';
}

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  let sharpVersion = packageVersion('sharp');
  let libvips = 'unknown';
  try {
    const sharp = (await import('sharp')).default;
    sharpVersion = sharp.versions.sharp;
    libvips = sharp.versions.vips;
  } catch {
    // Reported as unknown; the image rows will say sharp failed to load.
  }
  return {
    cpuModel: await cpuModel(),
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sharp: sharpVersion,
    libvips,
    jimp: packageVersion('jimp'),
    pillow: 'not measured',
    python: '',
    loadAtStart: os.loadavg()[0] ?? 0,
    date: new Date().toISOString(),
  };
}

export function describeMachine(info: MachineInfo): string[] {
  return [
    `CPU: ${info.cpuModel}, ${info.cores} cores, ${info.memoryGiB} GiB RAM, ${info.os}`,
    `Node ${info.node}, sharp ${info.sharp} (libvips ${info.libvips}), jimp ${info.jimp}, Pillow ${info.pillow}${info.python === '' ? '' : ` (${info.python})`}`,
    `Date ${info.date}, load average at start ${info.loadAtStart.toFixed(2)}`,
    ...(info.loadAtStart > info.cores
      ? [`Shared and busy: the load average was ${info.loadAtStart.toFixed(1)} on ${info.cores} cores (other people's work); absolute times are inflated, CPU quotas bind less than on an idle machine`]
      : []),
  ];
}
