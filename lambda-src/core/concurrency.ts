/**
 * libvips threads per image for a function of `memoryMb` MB. Lambda gives CPU in proportion to memory (1,769 MB
 * is one vCPU, 10,240 MB six), and sharp's default there is 1 thread (glibc without jemalloc). Measured in the
 * cost bench (cgroup CPU quota rows, two runs on a loaded 2-core host; README "Cost per image"): a second thread
 * at 512 MB was 6% slower in one run and 7% faster in the other (noise: a 0.29 CPU quota has nothing to run it
 * on), and faster in both at 1024 MB (4%, 24%), 1769 MB (24%, 2%) and 3008 MB (9%, 5%): decode, resize and
 * encode overlap. So: one thread below 1024 MB, from there the vCPUs rounded up and at least two.
 */
export function libvipsThreadsForMemory(memoryMb: number): number {
  if (!Number.isFinite(memoryMb) || memoryMb < TWO_THREADS_FROM_MB) return 1;
  return Math.min(MAX_VCPUS, Math.max(2, Math.ceil(memoryMb / MB_PER_VCPU)));
}

const TWO_THREADS_FROM_MB = 1024;
/** Lambda's memory per vCPU (MB) and its most vCPUs (at 10,240 MB). */
const MB_PER_VCPU = 1769;
const MAX_VCPUS = 6;
