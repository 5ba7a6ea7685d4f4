//go:build ignore

// gen_kernels writes gemm_amd64.s: the register-blocked micro-kernels are
// long, regular unrolled code, easier to get right generated than by hand.
//
//	go run gen_kernels.go
package main

import (
	"fmt"
	"os"
	"strings"
)

type asm struct{ strings.Builder }

func (a *asm) l(format string, args ...any) { fmt.Fprintf(&a.Builder, "\t"+format+"\n", args...) }
func (a *asm) label(s string)               { fmt.Fprintf(&a.Builder, "%s:\n", s) }

// kernelSpec is one generated GEMM micro-kernel: C[mr×nr] = (add ? C : 0)
// + Σ_k a[k·apack+i]·b[k·ldb+j], with nr = nvec vectors of the register
// width (reg "Y" = 8 floats, "Z" = 16). B's row stride ldb is an argument
// so that the kernel reads a packed panel (ldb = nr) or whole panels of B
// where they lie (ldb = B's row length).
//
// apack is A's floats per k when it differs from mr: the kernels for the
// last rows of a block (mr < the packing's 6) read the packing's panel and
// compute only the rows that exist, writing C directly.
//
// With epi the kernel then adds bias[i] to row i and clamps the tile to
// [lo, hi] before storing it: a convolution's bias and activation, done
// while the tile is in registers instead of in a second pass over memory.
//
// With tiles the kernel computes that many tiles down a column panel in
// one call: tile t reads A at a + t·mr·k, writes C at c + t·mr·ldc and
// (epi) takes bias from bias + t·mr. One call per panel instead of one per
// tile: the Go loop and call around each tile cost a tenth of a 1×1
// convolution's time. The first tile also fetches the next panel's rows
// (the next nr floats of each row of B read in place), which the hardware
// prefetcher does not see coming: +7% on streamed maps.
//
// With mask the last vector of each row is read and written under a lane
// mask (8 int32 of -1 or 0): an edge panel narrower than nr goes straight
// into C instead of through a tile merged in Go.
type kernelSpec struct {
	name             string
	reg              string
	mr, nvec, apack  int
	epi, tiles, mask bool
}

func (a *asm) gemmKernel(ks kernelSpec) {
	reg, mr, nvec := ks.reg, ks.mr, ks.nvec
	apack := ks.apack
	if apack == 0 {
		apack = mr
	}
	width := map[string]int{"Y": 32, "Z": 64}[reg]
	nacc := mr * nvec
	r := func(i int) string { return fmt.Sprintf("%s%d", reg, i) }
	acc := func(i, j int) string { return r(i*nvec + j) }
	bv := func(j int) string { return r(nacc + j) }
	bc, mreg := r(nacc+nvec), r(nacc+nvec+1)
	lo, hi := bv(0), r(nacc+nvec+2) // B's registers are free in the epilogue
	if nvec > 1 {
		hi = bv(1)
	}
	args, off := "k int, a, b *float32, ldb int, c *float32, ldc int, add bool", 49
	align := func() { off = (off + 7) &^ 7 }
	var biasOff, tilesOff, maskOff int
	if ks.epi {
		align()
		biasOff, off = off, off+16
		args += ", bias *float32, lo, hi float32"
	}
	if ks.tiles {
		align()
		tilesOff, off = off, off+8
		args += ", tiles int"
	}
	if ks.mask {
		align()
		maskOff, off = off, off+8
		args += ", mask *int32"
	}
	fmt.Fprintf(&a.Builder, "// func %s(%s)\n", ks.name, args)
	fmt.Fprintf(&a.Builder, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", ks.name, off)
	a.l("MOVQ k+0(FP), CX")
	a.l("MOVQ a+8(FP), SI")
	a.l("MOVQ b+16(FP), DI")
	a.l("MOVQ ldb+24(FP), R10")
	a.l("SHLQ $2, R10")
	a.l("MOVQ c+32(FP), DX")
	a.l("MOVQ ldc+40(FP), R8")
	a.l("SHLQ $2, R8")
	if ks.epi {
		a.l("MOVQ bias+%d(FP), R11", biasOff)
	}
	if ks.mask {
		a.l("MOVQ mask+%d(FP), AX", maskOff)
		a.l("VMOVDQU (AX), %s", mreg)
	}
	if ks.tiles {
		a.l("MOVQ tiles+%d(FP), BX", tilesOff)
		a.l("MOVQ CX, R12")
		a.l("MOVQ DI, R13")
		a.l("TESTQ BX, BX")
		a.l("JLE   end")
		a.label("tile")
		a.l("MOVQ R12, CX")
		a.l("MOVQ R13, DI")
	}
	for i := 0; i < nacc; i++ {
		a.l("VXORPS %s, %s, %s", r(i), r(i), r(i))
	}
	a.l("TESTQ CX, CX")
	a.l("JLE   done")
	kloop := func(label string, prefetch bool) {
		a.label(label)
		if prefetch {
			a.l("PREFETCHT0 %d(DI)", nvec*width)
		}
		for j := 0; j < nvec; j++ {
			a.l("VMOVUPS %d(DI), %s", j*width, bv(j))
		}
		for i := 0; i < mr; i++ {
			a.l("VBROADCASTSS %d(SI), %s", i*4, bc)
			for j := 0; j < nvec; j++ {
				a.l("VFMADD231PS %s, %s, %s", bv(j), bc, acc(i, j))
			}
		}
		a.l("ADDQ $%d, SI", apack*4)
		a.l("ADDQ R10, DI")
		a.l("DECQ CX")
		a.l("JNZ  %s", label)
	}
	if ks.tiles {
		a.l("CMPQ BX, tiles+%d(FP)", tilesOff)
		a.l("JNE   loop")
		kloop("loopfetch", true)
		a.l("JMP  done")
	}
	kloop("loop", false)
	a.label("done")
	masked := func(j int) bool { return ks.mask && j == nvec-1 }
	a.l("MOVBQZX add+48(FP), AX")
	a.l("TESTQ AX, AX")
	a.l("JZ    store")
	a.l("MOVQ DX, R9")
	for i := 0; i < mr; i++ {
		for j := 0; j < nvec; j++ {
			if masked(j) {
				a.l("VMASKMOVPS %d(R9), %s, %s", j*width, mreg, bv(0))
				a.l("VADDPS %s, %s, %s", bv(0), acc(i, j), acc(i, j))
			} else {
				a.l("VADDPS %d(R9), %s, %s", j*width, acc(i, j), acc(i, j))
			}
		}
		if i < mr-1 {
			a.l("ADDQ R8, R9")
		}
	}
	a.label("store")
	if ks.epi {
		a.l("VBROADCASTSS lo+%d(FP), %s", biasOff+8, lo)
		a.l("VBROADCASTSS hi+%d(FP), %s", biasOff+12, hi)
		for i := 0; i < mr; i++ {
			a.l("VBROADCASTSS %d(R11), %s", i*4, bc)
			for j := 0; j < nvec; j++ {
				a.l("VADDPS %s, %s, %s", bc, acc(i, j), acc(i, j))
				a.l("VMAXPS %s, %s, %s", lo, acc(i, j), acc(i, j))
				a.l("VMINPS %s, %s, %s", hi, acc(i, j), acc(i, j))
			}
		}
	}
	for i := 0; i < mr; i++ {
		for j := 0; j < nvec; j++ {
			if masked(j) {
				a.l("VMASKMOVPS %s, %s, %d(DX)", acc(i, j), mreg, j*width)
			} else {
				a.l("VMOVUPS %s, %d(DX)", acc(i, j), j*width)
			}
		}
		if i < mr-1 || ks.tiles {
			a.l("ADDQ R8, DX")
		}
	}
	if ks.tiles {
		if ks.epi {
			a.l("ADDQ $%d, R11", mr*4)
		}
		a.l("DECQ BX")
		a.l("JNZ  tile")
		a.label("end")
	}
	a.l("VZEROUPPER")
	a.l("RET")
	a.WriteString("\n")
}

// dotKernel: for an mr×nr tile, acc[i][j] = Σ over panels and lanes of
// A[i][p]·B[j][p], where row i of A is contiguous (stride lda floats) and
// B sits in panels of pw = nvec vectors: within a panel row j is pw
// contiguous floats at b + j·pw, and panels are pstride floats apart. The
// mr·nr accumulator vectors start from out when add is set (else from zero)
// and are stored back to out; the caller adds the lanes at the end.
func (a *asm) dotKernel(name, reg string, mr, nr, nvec int) {
	width := map[string]int{"Y": 32, "Z": 64}[reg]
	pw := nvec * width // bytes of one panel row
	nacc := mr * nr
	acc := func(i, j int) string { return fmt.Sprintf("%s%d", reg, i*nr+j) }
	av := func(i int) string { return fmt.Sprintf("%s%d", reg, nacc+i) }
	bv := fmt.Sprintf("%s%d", reg, nacc+mr)
	rows := []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)", "(SI)(R9*1)", "(SI)(R8*4)"}
	fmt.Fprintf(&a.Builder, "// func %s(panels int, a *float32, lda int, b *float32, pstride int, out *float32, add bool)\n", name)
	fmt.Fprintf(&a.Builder, "TEXT ·%s(SB), NOSPLIT, $0-49\n", name)
	a.l("MOVQ panels+0(FP), CX")
	a.l("MOVQ a+8(FP), SI")
	a.l("MOVQ lda+16(FP), R8")
	a.l("SHLQ $2, R8")
	a.l("LEAQ (R8)(R8*2), R9")
	a.l("MOVQ b+24(FP), DI")
	a.l("MOVQ pstride+32(FP), R10")
	a.l("SHLQ $2, R10")
	a.l("MOVQ out+40(FP), DX")
	a.l("MOVBQZX add+48(FP), AX")
	a.l("TESTQ AX, AX")
	a.l("JZ    zero")
	for i := 0; i < nacc; i++ {
		a.l("VMOVUPS %d(DX), %s%d", i*width, reg, i)
	}
	a.l("JMP   start")
	a.label("zero")
	for i := 0; i < nacc; i++ {
		a.l("VXORPS %s%d, %s%d, %s%d", reg, i, reg, i, reg, i)
	}
	a.label("start")
	a.l("TESTQ CX, CX")
	a.l("JLE   done")
	a.label("loop")
	for v := 0; v < nvec; v++ {
		for i := 0; i < mr; i++ {
			a.l("VMOVUPS %d%s, %s", v*width, rows[i], av(i))
		}
		for j := 0; j < nr; j++ {
			a.l("VMOVUPS %d(DI), %s", j*pw+v*width, bv)
			for i := 0; i < mr; i++ {
				a.l("VFMADD231PS %s, %s, %s", bv, av(i), acc(i, j))
			}
		}
	}
	a.l("ADDQ $%d, SI", pw)
	a.l("ADDQ R10, DI")
	a.l("DECQ CX")
	a.l("JNZ  loop")
	a.label("done")
	for i := 0; i < nacc; i++ {
		a.l("VMOVUPS %s%d, %d(DX)", reg, i, i*width)
	}
	a.l("VZEROUPPER")
	a.l("RET")
	a.WriteString("\n")
}

func main() {
	var a asm
	a.WriteString(`// Code generated by gen_kernels.go; DO NOT EDIT.

//go:build !noasm

#include "textflag.h"

// Register-blocked micro-kernels of the panel GEMMs (see gemm.go).

`)
	for _, ks := range []kernelSpec{
		{name: "kern6x16avx2", reg: "Y", mr: 6, nvec: 2},
		{name: "kern8x32avx512", reg: "Z", mr: 8, nvec: 2},
		{name: "kern6x16avx2epi", reg: "Y", mr: 6, nvec: 2, epi: true},
		{name: "kern6x8avx2", reg: "Y", mr: 6, nvec: 1},
		{name: "kern8x32avx512epi", reg: "Z", mr: 8, nvec: 2, epi: true},
		{name: "kern6x16avx2n", reg: "Y", mr: 6, nvec: 2, tiles: true},
		{name: "kern6x16avx2epin", reg: "Y", mr: 6, nvec: 2, epi: true, tiles: true},
		{name: "kern6x16avx2m", reg: "Y", mr: 6, nvec: 2, mask: true},
		{name: "kern6x16avx2epim", reg: "Y", mr: 6, nvec: 2, epi: true, mask: true},
		{name: "kern6x8avx2m", reg: "Y", mr: 6, nvec: 1, mask: true},
		{name: "kern6x8avx2epim", reg: "Y", mr: 6, nvec: 1, epi: true, mask: true},
	} {
		a.gemmKernel(ks)
	}
	for m := 1; m < 6; m++ { // the last rows of an AVX2 block
		a.gemmKernel(kernelSpec{name: fmt.Sprintf("kern%dx16avx2", m), reg: "Y", mr: m, nvec: 2, apack: 6})
		a.gemmKernel(kernelSpec{name: fmt.Sprintf("kern%dx16avx2epi", m), reg: "Y", mr: m, nvec: 2, apack: 6, epi: true})
	}
	a.dotKernel("dot2x4avx2", "Y", 2, 4, 2)
	a.dotKernel("dot4x6avx512", "Z", 4, 6, 2)
	a.WriteString(`// func im2colPanel512(dst, src *float32, c, cs int, offs *[9]int, masks *[9]uint32)
//
// Writes the c·9 rows of one 32-column panel of the patch matrix: row
// (ci,k) is 32 floats loaded from src + ci·cs + offs[k] (bytes) with lanes
// outside the image zeroed by masks[k] (masked-off lanes are never read, so
// the address may point before the plane).
TEXT ·im2colPanel512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ c+16(FP), CX
	MOVQ cs+24(FP), R8
	SHLQ $2, R8
	MOVQ offs+32(FP), R9
	MOVQ masks+40(FP), R10
	TESTQ CX, CX
	JLE   imdone
imloop:
	MOVQ $0, BX
imk:
	MOVQ (R9)(BX*8), R11
	KMOVW (R10)(BX*4), K1
	KMOVW 2(R10)(BX*4), K2
	VMOVUPS.Z (SI)(R11*1), K1, Z0
	VMOVUPS.Z 64(SI)(R11*1), K2, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $128, DI
	INCQ BX
	CMPQ BX, $9
	JLT  imk
	ADDQ R8, SI
	DECQ CX
	JNZ  imloop
imdone:
	VZEROUPPER
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET
`)
	if err := os.WriteFile("gemm_amd64.s", []byte(a.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
