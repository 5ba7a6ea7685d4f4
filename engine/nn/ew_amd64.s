//go:build !noasm

#include "textflag.h"

// AVX-512 element-wise loops of the backbone's layers (layers.go has the Go
// versions and the meaning). Each walks 16 floats at a time; the last n%16
// go through a lane mask (K2), so any length works.

// TAILMASK sets K2 to the low CX bits (CX < 16).
#define TAILMASK \
	MOVL $1, AX \
	SHLL CX, AX \
	DECL AX \
	KMOVW AX, K2

// HSUM leaves the sum of Z's 16 lanes in the low lane of X (clobbers Z7).
#define HSUM(Z, Y, X) \
	VEXTRACTF64X4 $1, Z, Y7 \
	VADDPS Y7, Y, Y \
	VEXTRACTF128 $1, Y, X7 \
	VADDPS X7, X, X \
	VMOVHLPS X, X, X7 \
	VADDPS X7, X, X \
	VPSHUFD $1, X, X7 \
	VADDSS X7, X, X

// func sumShift512(x *float32, n int, shift float32) (s1, s2 float32)
// s1 = Σ(x−shift), s2 = Σ(x−shift)².
TEXT ·sumShift512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS shift+16(FP), Z31
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
ss32:
	CMPQ CX, $32
	JLT  ss16
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VSUBPS Z31, Z4, Z4
	VSUBPS Z31, Z5, Z5
	VADDPS Z4, Z0, Z0
	VADDPS Z5, Z2, Z2
	VFMADD231PS Z4, Z4, Z1
	VFMADD231PS Z5, Z5, Z3
	ADDQ $128, SI
	SUBQ $32, CX
	JMP  ss32
ss16:
	CMPQ CX, $16
	JLT  sstail
	VMOVUPS (SI), Z4
	VSUBPS Z31, Z4, Z4
	VADDPS Z4, Z0, Z0
	VFMADD231PS Z4, Z4, Z1
	ADDQ $64, SI
	SUBQ $16, CX
sstail:
	TESTQ CX, CX
	JZ    ssdone
	TAILMASK
	VMOVUPS.Z (SI), K2, Z4
	VSUBPS.Z Z31, Z4, K2, Z4
	VADDPS Z4, Z0, Z0
	VFMADD231PS Z4, Z4, Z1
ssdone:
	VADDPS Z2, Z0, Z0
	VADDPS Z3, Z1, Z1
	HSUM(Z0, Y0, X0)
	HSUM(Z1, Y1, X1)
	VMOVSS X0, s1+24(FP)
	VMOVSS X1, s2+28(FP)
	VZEROUPPER
	RET

// func reluAffine512(dst, x *float32, n int, a, b float32)
// dst = max(0, a·x + b).
TEXT ·reluAffine512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Z30
	VBROADCASTSS b+28(FP), Z31
	VXORPS Z29, Z29, Z29
ra16:
	CMPQ CX, $16
	JLT  ratail
	VMOVUPS (SI), Z0
	VFMADD213PS Z31, Z30, Z0
	VMAXPS Z29, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  ra16
ratail:
	TESTQ CX, CX
	JZ    radone
	TAILMASK
	VMOVUPS.Z (SI), K2, Z0
	VFMADD213PS Z31, Z30, Z0
	VMAXPS Z29, Z0, Z0
	VMOVUPS Z0, K2, (DI)
radone:
	VZEROUPPER
	RET

// func maskedMoments512(x, out, grad *float32, n int) (sg, sgx float32)
// With gm = g·[out>0]: sg = Σ gm, sgx = Σ gm·x.
TEXT ·maskedMoments512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ out+8(FP), DX
	MOVQ grad+16(FP), BX
	MOVQ n+24(FP), CX
	VXORPS Z29, Z29, Z29
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
mm16:
	CMPQ CX, $16
	JLT  mmtail
	VMOVUPS (DX), Z2
	VCMPPS $14, Z29, Z2, K1
	VMOVUPS.Z (BX), K1, Z3
	VMOVUPS (SI), Z4
	VADDPS Z3, Z0, Z0
	VFMADD231PS Z4, Z3, Z1
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  mm16
mmtail:
	TESTQ CX, CX
	JZ    mmdone
	TAILMASK
	VMOVUPS.Z (DX), K2, Z2
	VCMPPS $14, Z29, Z2, K1
	VMOVUPS.Z (BX), K1, Z3
	VMOVUPS.Z (SI), K2, Z4
	VADDPS Z3, Z0, Z0
	VFMADD231PS Z4, Z3, Z1
mmdone:
	HSUM(Z0, Y0, X0)
	HSUM(Z1, Y1, X1)
	VMOVSS X0, sg+32(FP)
	VMOVSS X1, sgx+36(FP)
	VZEROUPPER
	RET

// func maskedAffine512(dst, x, out, grad *float32, n int, inv, k0, k1 float32)
// dst = inv·g·[out>0] + k0 − k1·x.
TEXT ·maskedAffine512(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ out+16(FP), DX
	MOVQ grad+24(FP), BX
	MOVQ n+32(FP), CX
	VBROADCASTSS inv+40(FP), Z30
	VBROADCASTSS k0+44(FP), Z31
	VBROADCASTSS k1+48(FP), Z28
	VXORPS Z29, Z29, Z29
ma16:
	CMPQ CX, $16
	JLT  matail
	VMOVUPS (DX), Z2
	VCMPPS $14, Z29, Z2, K1
	VMOVUPS.Z (BX), K1, Z3
	VMOVUPS (SI), Z4
	VMOVAPS Z31, Z5
	VFNMADD231PS Z4, Z28, Z5
	VFMADD231PS Z3, Z30, Z5
	VMOVUPS Z5, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  ma16
matail:
	TESTQ CX, CX
	JZ    madone
	TAILMASK
	VMOVUPS.Z (DX), K2, Z2
	VCMPPS $14, Z29, Z2, K1
	VMOVUPS.Z (BX), K1, Z3
	VMOVUPS.Z (SI), K2, Z4
	VMOVAPS Z31, Z5
	VFNMADD231PS Z4, Z28, Z5
	VFMADD231PS Z3, Z30, Z5
	VMOVUPS Z5, K2, (DI)
madone:
	VZEROUPPER
	RET

// func maskCopy512(dst, out, grad *float32, n int)
// dst = g·[out>0].
TEXT ·maskCopy512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ out+8(FP), DX
	MOVQ grad+16(FP), BX
	MOVQ n+24(FP), CX
	VXORPS Z29, Z29, Z29
mc16:
	CMPQ CX, $16
	JLT  mctail
	VMOVUPS (DX), Z2
	VCMPPS $14, Z29, Z2, K1
	VMOVUPS.Z (BX), K1, Z3
	VMOVUPS Z3, (DI)
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  mc16
mctail:
	TESTQ CX, CX
	JZ    mcdone
	TAILMASK
	VMOVUPS.Z (DX), K2, Z2
	VCMPPS $14, Z29, Z2, K1
	VMOVUPS.Z (BX), K1, Z3
	VMOVUPS Z3, K2, (DI)
mcdone:
	VZEROUPPER
	RET

// func addRelu512(dst, r, h *float32, n int, b float32)
// dst = max(0, r + b + h).
TEXT ·addRelu512(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ r+8(FP), SI
	MOVQ h+16(FP), BX
	MOVQ n+24(FP), CX
	VBROADCASTSS b+32(FP), Z31
	VXORPS Z29, Z29, Z29
ar16:
	CMPQ CX, $16
	JLT  artail
	VMOVUPS (SI), Z0
	VADDPS (BX), Z0, Z0
	VADDPS Z31, Z0, Z0
	VMAXPS Z29, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  ar16
artail:
	TESTQ CX, CX
	JZ    ardone
	TAILMASK
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z (BX), K2, Z1
	VADDPS Z1, Z0, Z0
	VADDPS Z31, Z0, Z0
	VMAXPS Z29, Z0, Z0
	VMOVUPS Z0, K2, (DI)
ardone:
	VZEROUPPER
	RET
