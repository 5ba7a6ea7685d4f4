/* The machine's fp32 peak per core: twelve independent chains of 256-bit
 * FMAs on registers, nothing else. BENCHMARKS.md quotes efficiencies
 * against this number rather than a nominal clock (turbo moves it).
 *     gcc -O2 -o /tmp/fma_peak bench/fma_peak.c && /tmp/fma_peak */
#include <stdio.h>
#include <time.h>

int main(void) {
	struct timespec t0, t1;
	long n = 100000000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	__asm__ volatile(
		"vxorps %%ymm14,%%ymm14,%%ymm14\n vxorps %%ymm15,%%ymm15,%%ymm15\n"
		"1:\n"
		"vfmadd231ps %%ymm14,%%ymm15,%%ymm0\n vfmadd231ps %%ymm14,%%ymm15,%%ymm1\n"
		"vfmadd231ps %%ymm14,%%ymm15,%%ymm2\n vfmadd231ps %%ymm14,%%ymm15,%%ymm3\n"
		"vfmadd231ps %%ymm14,%%ymm15,%%ymm4\n vfmadd231ps %%ymm14,%%ymm15,%%ymm5\n"
		"vfmadd231ps %%ymm14,%%ymm15,%%ymm6\n vfmadd231ps %%ymm14,%%ymm15,%%ymm7\n"
		"vfmadd231ps %%ymm14,%%ymm15,%%ymm8\n vfmadd231ps %%ymm14,%%ymm15,%%ymm9\n"
		"vfmadd231ps %%ymm14,%%ymm15,%%ymm10\n vfmadd231ps %%ymm14,%%ymm15,%%ymm11\n"
		"dec %0\n jnz 1b\n"
		: "+r"(n)::"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		  "xmm10", "xmm11", "xmm14", "xmm15", "cc");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
	printf("%.1f GFLOP/s per core (fp32 FMA, 256-bit)\n", 100000000.0 * 12 * 16 / s / 1e9);
	return 0;
}
