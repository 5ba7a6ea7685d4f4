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

// 2×2 max-pool, stride 2, on rows of even width w. A chunk is 32 input
// columns of a row pair (16 outputs); VPERMT2PS splits even and odd
// columns, and the last, narrower chunk of a row is masked.

DATA poolEven<>+0(SB)/4, $0
DATA poolEven<>+4(SB)/4, $2
DATA poolEven<>+8(SB)/4, $4
DATA poolEven<>+12(SB)/4, $6
DATA poolEven<>+16(SB)/4, $8
DATA poolEven<>+20(SB)/4, $10
DATA poolEven<>+24(SB)/4, $12
DATA poolEven<>+28(SB)/4, $14
DATA poolEven<>+32(SB)/4, $16
DATA poolEven<>+36(SB)/4, $18
DATA poolEven<>+40(SB)/4, $20
DATA poolEven<>+44(SB)/4, $22
DATA poolEven<>+48(SB)/4, $24
DATA poolEven<>+52(SB)/4, $26
DATA poolEven<>+56(SB)/4, $28
DATA poolEven<>+60(SB)/4, $30
GLOBL poolEven<>(SB), RODATA, $64
DATA poolOdd<>+0(SB)/4, $1
DATA poolOdd<>+4(SB)/4, $3
DATA poolOdd<>+8(SB)/4, $5
DATA poolOdd<>+12(SB)/4, $7
DATA poolOdd<>+16(SB)/4, $9
DATA poolOdd<>+20(SB)/4, $11
DATA poolOdd<>+24(SB)/4, $13
DATA poolOdd<>+28(SB)/4, $15
DATA poolOdd<>+32(SB)/4, $17
DATA poolOdd<>+36(SB)/4, $19
DATA poolOdd<>+40(SB)/4, $21
DATA poolOdd<>+44(SB)/4, $23
DATA poolOdd<>+48(SB)/4, $25
DATA poolOdd<>+52(SB)/4, $27
DATA poolOdd<>+56(SB)/4, $29
DATA poolOdd<>+60(SB)/4, $31
GLOBL poolOdd<>(SB), RODATA, $64
DATA poolILo<>+0(SB)/4, $0
DATA poolILo<>+4(SB)/4, $16
DATA poolILo<>+8(SB)/4, $1
DATA poolILo<>+12(SB)/4, $17
DATA poolILo<>+16(SB)/4, $2
DATA poolILo<>+20(SB)/4, $18
DATA poolILo<>+24(SB)/4, $3
DATA poolILo<>+28(SB)/4, $19
DATA poolILo<>+32(SB)/4, $4
DATA poolILo<>+36(SB)/4, $20
DATA poolILo<>+40(SB)/4, $5
DATA poolILo<>+44(SB)/4, $21
DATA poolILo<>+48(SB)/4, $6
DATA poolILo<>+52(SB)/4, $22
DATA poolILo<>+56(SB)/4, $7
DATA poolILo<>+60(SB)/4, $23
GLOBL poolILo<>(SB), RODATA, $64
DATA poolIHi<>+0(SB)/4, $8
DATA poolIHi<>+4(SB)/4, $24
DATA poolIHi<>+8(SB)/4, $9
DATA poolIHi<>+12(SB)/4, $25
DATA poolIHi<>+16(SB)/4, $10
DATA poolIHi<>+20(SB)/4, $26
DATA poolIHi<>+24(SB)/4, $11
DATA poolIHi<>+28(SB)/4, $27
DATA poolIHi<>+32(SB)/4, $12
DATA poolIHi<>+36(SB)/4, $28
DATA poolIHi<>+40(SB)/4, $13
DATA poolIHi<>+44(SB)/4, $29
DATA poolIHi<>+48(SB)/4, $14
DATA poolIHi<>+52(SB)/4, $30
DATA poolIHi<>+56(SB)/4, $15
DATA poolIHi<>+60(SB)/4, $31
GLOBL poolIHi<>(SB), RODATA, $64

// CHUNKMASKS sets K1/K2 to the input lanes of a chunk (low/high 16) and K6
// to its outputs, for n = min(w − x0, 32) columns (w in R10, x0 in BX);
// clobbers AX, CX, DX.
#define CHUNKMASKS \
	MOVQ R10, CX \
	SUBQ BX, CX \
	MOVQ $32, AX \
	CMPQ CX, AX \
	CMOVQGT AX, CX \
	MOVQ CX, AX \
	MOVQ $16, DX \
	CMPQ CX, DX \
	CMOVQGT DX, CX \
	MOVL $1, DX \
	SHLL CX, DX \
	DECL DX \
	KMOVW DX, K1 \
	MOVQ AX, CX \
	SUBQ $16, CX \
	MOVQ $0, DX \
	CMOVQLT DX, CX \
	MOVL $1, DX \
	SHLL CX, DX \
	DECL DX \
	KMOVW DX, K2 \
	MOVQ AX, CX \
	SHRQ $1, CX \
	MOVL $1, DX \
	SHLL CX, DX \
	DECL DX \
	KMOVW DX, K6

// func pool2x2F512(out *float32, arg *uint8, in *float32, rows, w int)
// rows output rows (row pairs of the input), consecutive in memory; arg
// gets which of the four won (0 1 / 2 3), ties to the first.
TEXT ·pool2x2F512(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ in+16(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ w+32(FP), R10
	VMOVUPS poolEven<>(SB), Z24
	VMOVUPS poolOdd<>(SB), Z25
	MOVL $1, AX
	VPBROADCASTD AX, Z26
	MOVL $2, AX
	VPBROADCASTD AX, Z27
	MOVL $3, AX
	VPBROADCASTD AX, Z28
	VPXORD Z29, Z29, Z29
	LEAQ (R10*4), R11
pfrow:
	TESTQ R9, R9
	JZ    pfdone
	MOVQ $0, BX
pfcol:
	CMPQ BX, R10
	JGE  pfrowend
	CHUNKMASKS
	LEAQ (SI)(BX*4), R12
	LEAQ (R12)(R11*1), R13
	VMOVUPS.Z (R12), K1, Z0
	VMOVUPS.Z 64(R12), K2, Z1
	VMOVUPS.Z (R13), K1, Z2
	VMOVUPS.Z 64(R13), K2, Z3
	VMOVAPS Z0, Z4
	VPERMT2PS Z1, Z24, Z4
	VMOVAPS Z0, Z5
	VPERMT2PS Z1, Z25, Z5
	VMOVAPS Z2, Z6
	VPERMT2PS Z3, Z24, Z6
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z25, Z7
	VCMPPS $14, Z4, Z5, K3
	VMAXPS Z5, Z4, Z8
	VCMPPS $14, Z6, Z7, K4
	VMAXPS Z7, Z6, Z9
	VCMPPS $14, Z8, Z9, K5
	VMAXPS Z9, Z8, Z10
	VMOVDQA32 Z29, Z11
	VMOVDQA32 Z26, K3, Z11
	VMOVDQA32 Z27, Z12
	VMOVDQA32 Z28, K4, Z12
	VMOVDQA32 Z12, K5, Z11
	VPMOVDB Z11, X13
	MOVQ BX, DX
	SHRQ $1, DX
	VMOVUPS Z10, K6, (DI)(DX*4)
	VMOVDQU8 X13, K6, (R8)(DX*1)
	ADDQ $32, BX
	JMP  pfcol
pfrowend:
	LEAQ (SI)(R11*2), SI
	MOVQ R10, DX
	SHRQ $1, DX
	LEAQ (DI)(DX*4), DI
	ADDQ DX, R8
	DECQ R9
	JMP  pfrow
pfdone:
	VZEROUPPER
	RET

// func pool2x2B512(dx *float32, arg *uint8, grad *float32, rows, w int)
// Routes each output's gradient to the input that won, zeros elsewhere.
// Reads 16 bytes of arg per chunk: arg needs 16 bytes of slack at its end.
TEXT ·pool2x2B512(SB), NOSPLIT, $0-40
	MOVQ dx+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ grad+16(FP), SI
	MOVQ rows+24(FP), R9
	MOVQ w+32(FP), R10
	VMOVUPS poolILo<>(SB), Z24
	VMOVUPS poolIHi<>(SB), Z25
	MOVL $1, AX
	VPBROADCASTD AX, Z26
	MOVL $2, AX
	VPBROADCASTD AX, Z27
	MOVL $3, AX
	VPBROADCASTD AX, Z28
	VPXORD Z29, Z29, Z29
	LEAQ (R10*4), R11
pbrow:
	TESTQ R9, R9
	JZ    pbdone
	MOVQ $0, BX
pbcol:
	CMPQ BX, R10
	JGE  pbrowend
	CHUNKMASKS
	MOVQ BX, DX
	SHRQ $1, DX
	VPMOVZXBD (R8)(DX*1), Z0
	VMOVUPS.Z (SI)(DX*4), K6, Z1
	VPCMPEQD Z29, Z0, K3
	VPCMPEQD Z26, Z0, K4
	VPCMPEQD Z27, Z0, K5
	VPCMPEQD Z28, Z0, K7
	VMOVAPS.Z Z1, K3, Z2
	VMOVAPS.Z Z1, K4, Z3
	VMOVAPS.Z Z1, K5, Z4
	VMOVAPS.Z Z1, K7, Z5
	LEAQ (DI)(BX*4), R12
	LEAQ (R12)(R11*1), R13
	VMOVAPS Z2, Z6
	VPERMT2PS Z3, Z24, Z6
	VMOVAPS Z2, Z7
	VPERMT2PS Z3, Z25, Z7
	VMOVUPS Z6, K1, (R12)
	VMOVUPS Z7, K2, 64(R12)
	VMOVAPS Z4, Z8
	VPERMT2PS Z5, Z24, Z8
	VMOVAPS Z4, Z9
	VPERMT2PS Z5, Z25, Z9
	VMOVUPS Z8, K1, (R13)
	VMOVUPS Z9, K2, 64(R13)
	ADDQ $32, BX
	JMP  pbcol
pbrowend:
	LEAQ (DI)(R11*2), DI
	MOVQ R10, DX
	SHRQ $1, DX
	LEAQ (SI)(DX*4), SI
	ADDQ DX, R8
	DECQ R9
	JMP  pbrow
pbdone:
	VZEROUPPER
	RET
