/**
 * libvips threads per image for a function of `memoryMb` MB. Lambda gives CPU in proportion to memory (1,769 MB
 * is one vCPU, 10,240 MB six). Measured in the cost bench (cgroup CPU quota rows, README "Cost per image"): at
 * 512 MB a second thread made each image 6% slower (a quarter vCPU has nothing to run it on), at 1024 MB it
 * was within noise (4%), at 1769 MB 24% faster and at 3008 MB 9% faster (encode and decode overlap). So: one
 * thread below one vCPU, from there the vCPUs rounded up and at least two.
 */
export function libvipsThreadsForMemory(memoryMb: number): number {
  if (!Number.isFinite(memoryMb) || memoryMb < MB_PER_VCPU) return 1;
  return Math.min(MAX_VCPUS, Math.max(2, Math.ceil(memoryMb / MB_PER_VCPU)));
}

/** Lambda's memory per vCPU (MB) and its most vCPUs (at 10,240 MB). */
const MB_PER_VCPU = 1769;
const MAX_VCPUS = 6;
