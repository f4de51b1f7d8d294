/**
 * libvips threads per image for a function of `memoryMb` MB. Lambda gives CPU in proportion to memory (1,769 MB
 * is one vCPU, 10,240 MB six), and sharp's default there is 1 thread (glibc without jemalloc). Measured in the
 * cost bench's cgroup CPU quota rows on a quiet host (bench/RESULTS.md, 2026-11-29, load 0.3): a second thread
 * was slower at 512 MB (200 vs 151 ms/img) and 1024 MB (84 vs 79), and even at 1769 MB (55 vs 56) and 3008 MB
 * (53 vs 52): a thread beyond the whole vCPUs only contends. (Earlier runs on a loaded host favoured two threads
 * from 1024 MB; the quota barely bound there.) So: one thread per whole vCPU, at least one.
 */
export function libvipsThreadsForMemory(memoryMb: number): number {
  if (!Number.isFinite(memoryMb)) return 1;
  return Math.min(MAX_VCPUS, Math.max(1, Math.floor(memoryMb / MB_PER_VCPU)));
}

/** Lambda's memory per vCPU (MB) and its most vCPUs (at 10,240 MB). */
const MB_PER_VCPU = 1769;
const MAX_VCPUS = 6;
