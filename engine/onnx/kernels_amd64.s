//go:build !noasm

#include "textflag.h"

// func dwTapsAVX2(dst *float32, n int, src *float32, offs *int, w *float32, taps int, bias, lo, hi float32)
// n is a multiple of 8. Eight accumulators (64 outputs) per pass over the
// taps keep both FMA pipes busy despite each accumulator's dependency chain.
TEXT ·dwTapsAVX2(SB), NOSPLIT, $0-60
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), R8
	MOVQ w+32(FP), R9
	MOVQ taps+40(FP), R10
	VBROADCASTSS bias+48(FP), Y12
	VBROADCASTSS lo+52(FP), Y13
	VBROADCASTSS hi+56(FP), Y14

block64:
	CMPQ CX, $64
	JLT  block8
	VMOVAPS Y12, Y0
	VMOVAPS Y12, Y1
	VMOVAPS Y12, Y2
	VMOVAPS Y12, Y3
	VMOVAPS Y12, Y4
	VMOVAPS Y12, Y5
	VMOVAPS Y12, Y6
	VMOVAPS Y12, Y7
	XORQ BX, BX

tap64:
	MOVQ (R8)(BX*8), DX
	ADDQ SI, DX
	VBROADCASTSS (R9)(BX*4), Y15
	VFMADD231PS (DX), Y15, Y0
	VFMADD231PS 32(DX), Y15, Y1
	VFMADD231PS 64(DX), Y15, Y2
	VFMADD231PS 96(DX), Y15, Y3
	VFMADD231PS 128(DX), Y15, Y4
	VFMADD231PS 160(DX), Y15, Y5
	VFMADD231PS 192(DX), Y15, Y6
	VFMADD231PS 224(DX), Y15, Y7
	INCQ BX
	CMPQ BX, R10
	JLT  tap64
	VMAXPS Y13, Y0, Y0
	VMAXPS Y13, Y1, Y1
	VMAXPS Y13, Y2, Y2
	VMAXPS Y13, Y3, Y3
	VMAXPS Y13, Y4, Y4
	VMAXPS Y13, Y5, Y5
	VMAXPS Y13, Y6, Y6
	VMAXPS Y13, Y7, Y7
	VMINPS Y14, Y0, Y0
	VMINPS Y14, Y1, Y1
	VMINPS Y14, Y2, Y2
	VMINPS Y14, Y3, Y3
	VMINPS Y14, Y4, Y4
	VMINPS Y14, Y5, Y5
	VMINPS Y14, Y6, Y6
	VMINPS Y14, Y7, Y7
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  block64

block8:
	CMPQ CX, $8
	JLT  done
	VMOVAPS Y12, Y0
	XORQ BX, BX

tap8:
	MOVQ (R8)(BX*8), DX
	ADDQ SI, DX
	VBROADCASTSS (R9)(BX*4), Y15
	VFMADD231PS (DX), Y15, Y0
	INCQ BX
	CMPQ BX, R10
	JLT  tap8
	VMAXPS Y13, Y0, Y0
	VMINPS Y14, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  block8

done:
	VZEROUPPER
	RET

// func biasClipAVX2(x *float32, n int, b, lo, hi float32)
// n is a multiple of 8.
TEXT ·biasClipAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS b+16(FP), Y12
	VBROADCASTSS lo+20(FP), Y13
	VBROADCASTSS hi+24(FP), Y14

loop32:
	CMPQ CX, $32
	JLT  loop8
	VADDPS (DI), Y12, Y0
	VADDPS 32(DI), Y12, Y1
	VADDPS 64(DI), Y12, Y2
	VADDPS 96(DI), Y12, Y3
	VMAXPS Y13, Y0, Y0
	VMAXPS Y13, Y1, Y1
	VMAXPS Y13, Y2, Y2
	VMAXPS Y13, Y3, Y3
	VMINPS Y14, Y0, Y0
	VMINPS Y14, Y1, Y1
	VMINPS Y14, Y2, Y2
	VMINPS Y14, Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  loop32

loop8:
	CMPQ CX, $8
	JLT  end
	VADDPS (DI), Y12, Y0
	VMAXPS Y13, Y0, Y0
	VMINPS Y14, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  loop8

end:
	VZEROUPPER
	RET

// func interleave2AVX2(x, even, odd *float32, n int)
// The inverse of deinterleave2RowsAVX2 on one row: VUNPCKL/HPS pair the floats lane by
// lane, VPERM2F128 puts the lanes in order. n is a multiple of 16.
TEXT ·interleave2AVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ even+8(FP), SI
	MOVQ odd+16(FP), DX
	MOVQ n+24(FP), CX

ipairs16:
	CMPQ CX, $16
	JLT  idone
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, DI
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $16, CX
	JMP  ipairs16

idone:
	VZEROUPPER
	RET

// func clipMaskAVX2(dst, y, gr *float32, n int, lo, hi float32)
// dst = gr where lo < y < hi, else 0, as a compare mask ANDed with gr (the
// Go loop's branch is unpredictable on ReLU6 outputs). Ordered compares:
// a NaN y gives 0, as in Go. n is a multiple of 8.
TEXT ·clipMaskAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ gr+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS lo+32(FP), Y13
	VBROADCASTSS hi+36(FP), Y14

mask8:
	CMPQ CX, $8
	JLT  mdone
	VMOVUPS (SI), Y0
	VCMPPS $0x1e, Y13, Y0, Y1
	VCMPPS $0x11, Y14, Y0, Y2
	VANDPS Y2, Y1, Y1
	VANDPS (DX), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  mask8

mdone:
	VZEROUPPER
	RET

// func dotAVX2(x, y *float32, n int) float32
// Σ x[j]·y[j]; n is a multiple of 8. Four accumulators hide the FMA
// latency on the 32-float blocks.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dot32:
	CMPQ CX, $32
	JLT  dot8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DX), Y4, Y0
	VFMADD231PS 32(DX), Y5, Y1
	VFMADD231PS 64(DX), Y6, Y2
	VFMADD231PS 96(DX), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $32, CX
	JMP  dot32

dot8:
	CMPQ CX, $8
	JLT  dsum
	VMOVUPS (SI), Y4
	VFMADD231PS (DX), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  dot8

dsum:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func copyRowsAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int)
// Copies rows of cols ≥ 8 floats (strides in floats) as 8-float vectors,
// the last vector of a row ending at its last float (overlapping the one
// before it): one call per plane instead of one memmove per short row.
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), DX
	MOVQ cols+40(FP), R10
	SHLQ $2, R10
	SUBQ $32, R10

crow:
	TESTQ DX, DX
	JLE   cdone
	XORQ  AX, AX

cvec:
	CMPQ    AX, R10
	JGE     ctail
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS Y0, (DI)(AX*1)
	ADDQ    $32, AX
	JMP     cvec

ctail:
	VMOVUPS (SI)(R10*1), Y0
	VMOVUPS Y0, (DI)(R10*1)
	ADDQ    R9, SI
	ADDQ    R8, DI
	DECQ    DX
	JMP     crow

cdone:
	VZEROUPPER
	RET

// func deinterleave2RowsAVX2(even, odd *float32, dstStride int, x *float32, srcStride, rows, n int)
// Rows of n ≥ 16 floats, n even (strides in floats), 16 floats at a time:
// VSHUFPS picks the even (odd) floats of two vectors lane by lane, VPERMPD
// puts the lanes' halves in order; a row's last block ends at its last
// float, overlapping the one before it.
TEXT ·deinterleave2RowsAVX2(SB), NOSPLIT, $0-56
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), DX
	MOVQ dstStride+16(FP), R8
	SHLQ $2, R8
	MOVQ x+24(FP), SI
	MOVQ srcStride+32(FP), R9
	SHLQ $2, R9
	MOVQ rows+40(FP), CX
	MOVQ n+48(FP), R10
	SHLQ $2, R10
	SUBQ $64, R10 // x's byte offset of a row's last block

drow:
	TESTQ CX, CX
	JLE   ddone
	XORQ  AX, AX

dblock:
	MOVQ AX, BX
	SHRQ $1, BX
	VMOVUPS (SI)(AX*1), Y0
	VMOVUPS 32(SI)(AX*1), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)(BX*1)
	VMOVUPS Y3, (DX)(BX*1)
	CMPQ AX, R10
	JGE  dnext
	ADDQ $64, AX
	CMPQ AX, R10
	JLE  dblock
	MOVQ R10, AX // the last block, overlapping
	JMP  dblock

dnext:
	ADDQ R9, SI
	ADDQ R8, DI
	ADDQ R8, DX
	DECQ CX
	JMP  drow

ddone:
	VZEROUPPER
	RET

// func deinterleave2Rows8AVX2(even, odd *float32, dstStride int, x *float32, srcStride, rows, n int)
// deinterleave2RowsAVX2 for rows of 8 ≤ n < 16 floats (a 14×14 map's), n
// even: two blocks of 8 floats a row, 128-bit shuffles, the second block
// ending at the row's last float.
TEXT ·deinterleave2Rows8AVX2(SB), NOSPLIT, $0-56
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), DX
	MOVQ dstStride+16(FP), R8
	SHLQ $2, R8
	MOVQ x+24(FP), SI
	MOVQ srcStride+32(FP), R9
	SHLQ $2, R9
	MOVQ rows+40(FP), CX
	MOVQ n+48(FP), R10
	SHLQ $2, R10
	SUBQ $32, R10 // x's byte offset of a row's last block
	MOVQ R10, BX
	SHRQ $1, BX   // that block's in even and odd

e8row:
	TESTQ CX, CX
	JLE   e8done
	VMOVUPS (SI), X0
	VMOVUPS 16(SI), X1
	VSHUFPS $0x88, X1, X0, X2
	VSHUFPS $0xDD, X1, X0, X3
	VMOVUPS X2, (DI)
	VMOVUPS X3, (DX)
	VMOVUPS (SI)(R10*1), X0
	VMOVUPS 16(SI)(R10*1), X1
	VSHUFPS $0x88, X1, X0, X2
	VSHUFPS $0xDD, X1, X0, X3
	VMOVUPS X2, (DI)(BX*1)
	VMOVUPS X3, (DX)(BX*1)
	ADDQ R9, SI
	ADDQ R8, DI
	ADDQ R8, DX
	DECQ CX
	JMP  e8row

e8done:
	RET

// func addAVX2(d, a, c *float32, n int)
// d = a + c; n is a multiple of 8.
TEXT ·addAVX2(SB), NOSPLIT, $0-32
	MOVQ d+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ c+16(FP), DX
	MOVQ n+24(FP), CX

add32:
	CMPQ    CX, $32
	JLT     add8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DX), Y0, Y0
	VADDPS  32(DX), Y1, Y1
	VADDPS  64(DX), Y2, Y2
	VADDPS  96(DX), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DX
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     add32

add8:
	CMPQ    CX, $8
	JLT     adone
	VMOVUPS (SI), Y0
	VADDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     add8

adone:
	VZEROUPPER
	RET

// func dw9AVX2(dst *float32, n int, src *float32, offs *int, w *float32, bias, lo, hi float32)
// dwTapsAVX2 for nine taps (any 3×3 window, stride 1 or 2): the weights
// stay in registers and the taps' offsets in general registers, so a
// block of 48 outputs is 54 FMAs and little else (the general kernel
// spends a broadcast and an offset load per tap): 21 → 27 GFLOP/s on a
// 28×28 map. Same sums in the same order as dwTapsAVX2. n is a multiple
// of 8.
TEXT ·dw9AVX2(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ src+16(FP), SI
	MOVQ offs+24(FP), R9
	MOVQ w+32(FP), R10
	VBROADCASTSS 0(R10), Y6
	VBROADCASTSS 4(R10), Y7
	VBROADCASTSS 8(R10), Y8
	VBROADCASTSS 12(R10), Y9
	VBROADCASTSS 16(R10), Y10
	VBROADCASTSS 20(R10), Y11
	VBROADCASTSS 24(R10), Y12
	VBROADCASTSS 28(R10), Y13
	VBROADCASTSS 32(R10), Y14
	MOVQ 0(R9), AX
	MOVQ 8(R9), BX
	MOVQ 16(R9), DX
	MOVQ 24(R9), R8
	MOVQ 32(R9), R10
	MOVQ 40(R9), R11
	MOVQ 48(R9), R12
	MOVQ 56(R9), R13
	MOVQ 64(R9), R9

b48:
	CMPQ CX, $48
	JLT  b8
	VBROADCASTSS bias+40(FP), Y0
	VMOVAPS Y0, Y1
	VMOVAPS Y0, Y2
	VMOVAPS Y0, Y3
	VMOVAPS Y0, Y4
	VMOVAPS Y0, Y5
	VFMADD231PS 0(SI)(AX*1), Y6, Y0
	VFMADD231PS 32(SI)(AX*1), Y6, Y1
	VFMADD231PS 64(SI)(AX*1), Y6, Y2
	VFMADD231PS 96(SI)(AX*1), Y6, Y3
	VFMADD231PS 128(SI)(AX*1), Y6, Y4
	VFMADD231PS 160(SI)(AX*1), Y6, Y5
	VFMADD231PS 0(SI)(BX*1), Y7, Y0
	VFMADD231PS 32(SI)(BX*1), Y7, Y1
	VFMADD231PS 64(SI)(BX*1), Y7, Y2
	VFMADD231PS 96(SI)(BX*1), Y7, Y3
	VFMADD231PS 128(SI)(BX*1), Y7, Y4
	VFMADD231PS 160(SI)(BX*1), Y7, Y5
	VFMADD231PS 0(SI)(DX*1), Y8, Y0
	VFMADD231PS 32(SI)(DX*1), Y8, Y1
	VFMADD231PS 64(SI)(DX*1), Y8, Y2
	VFMADD231PS 96(SI)(DX*1), Y8, Y3
	VFMADD231PS 128(SI)(DX*1), Y8, Y4
	VFMADD231PS 160(SI)(DX*1), Y8, Y5
	VFMADD231PS 0(SI)(R8*1), Y9, Y0
	VFMADD231PS 32(SI)(R8*1), Y9, Y1
	VFMADD231PS 64(SI)(R8*1), Y9, Y2
	VFMADD231PS 96(SI)(R8*1), Y9, Y3
	VFMADD231PS 128(SI)(R8*1), Y9, Y4
	VFMADD231PS 160(SI)(R8*1), Y9, Y5
	VFMADD231PS 0(SI)(R10*1), Y10, Y0
	VFMADD231PS 32(SI)(R10*1), Y10, Y1
	VFMADD231PS 64(SI)(R10*1), Y10, Y2
	VFMADD231PS 96(SI)(R10*1), Y10, Y3
	VFMADD231PS 128(SI)(R10*1), Y10, Y4
	VFMADD231PS 160(SI)(R10*1), Y10, Y5
	VFMADD231PS 0(SI)(R11*1), Y11, Y0
	VFMADD231PS 32(SI)(R11*1), Y11, Y1
	VFMADD231PS 64(SI)(R11*1), Y11, Y2
	VFMADD231PS 96(SI)(R11*1), Y11, Y3
	VFMADD231PS 128(SI)(R11*1), Y11, Y4
	VFMADD231PS 160(SI)(R11*1), Y11, Y5
	VFMADD231PS 0(SI)(R12*1), Y12, Y0
	VFMADD231PS 32(SI)(R12*1), Y12, Y1
	VFMADD231PS 64(SI)(R12*1), Y12, Y2
	VFMADD231PS 96(SI)(R12*1), Y12, Y3
	VFMADD231PS 128(SI)(R12*1), Y12, Y4
	VFMADD231PS 160(SI)(R12*1), Y12, Y5
	VFMADD231PS 0(SI)(R13*1), Y13, Y0
	VFMADD231PS 32(SI)(R13*1), Y13, Y1
	VFMADD231PS 64(SI)(R13*1), Y13, Y2
	VFMADD231PS 96(SI)(R13*1), Y13, Y3
	VFMADD231PS 128(SI)(R13*1), Y13, Y4
	VFMADD231PS 160(SI)(R13*1), Y13, Y5
	VFMADD231PS 0(SI)(R9*1), Y14, Y0
	VFMADD231PS 32(SI)(R9*1), Y14, Y1
	VFMADD231PS 64(SI)(R9*1), Y14, Y2
	VFMADD231PS 96(SI)(R9*1), Y14, Y3
	VFMADD231PS 128(SI)(R9*1), Y14, Y4
	VFMADD231PS 160(SI)(R9*1), Y14, Y5
	VBROADCASTSS lo+44(FP), Y15
	VMAXPS Y15, Y0, Y0
	VMAXPS Y15, Y1, Y1
	VMAXPS Y15, Y2, Y2
	VMAXPS Y15, Y3, Y3
	VMAXPS Y15, Y4, Y4
	VMAXPS Y15, Y5, Y5
	VBROADCASTSS hi+48(FP), Y15
	VMINPS Y15, Y0, Y0
	VMINPS Y15, Y1, Y1
	VMINPS Y15, Y2, Y2
	VMINPS Y15, Y3, Y3
	VMINPS Y15, Y4, Y4
	VMINPS Y15, Y5, Y5
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	ADDQ $192, DI
	ADDQ $192, SI
	SUBQ $48, CX
	JMP  b48

b8:
	CMPQ CX, $8
	JLT  d9done
	VBROADCASTSS bias+40(FP), Y0
	VFMADD231PS 0(SI)(AX*1), Y6, Y0
	VFMADD231PS 0(SI)(BX*1), Y7, Y0
	VFMADD231PS 0(SI)(DX*1), Y8, Y0
	VFMADD231PS 0(SI)(R8*1), Y9, Y0
	VFMADD231PS 0(SI)(R10*1), Y10, Y0
	VFMADD231PS 0(SI)(R11*1), Y11, Y0
	VFMADD231PS 0(SI)(R12*1), Y12, Y0
	VFMADD231PS 0(SI)(R13*1), Y13, Y0
	VFMADD231PS 0(SI)(R9*1), Y14, Y0
	VBROADCASTSS lo+44(FP), Y15
	VMAXPS Y15, Y0, Y0
	VBROADCASTSS hi+48(FP), Y15
	VMINPS Y15, Y0, Y0
	VMOVUPS Y0, 0(DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  b8

d9done:
	VZEROUPPER
	RET
// func dw3s1AVX2(dst, src, zero *float32, h, w int, wt *float32, bias float32, lohi *float32)
// A 3×3 depthwise window, stride 1, padding 1, over one h×w plane (w ≥ 9)
// read from the plane itself and written straight to dst: the phase
// layout's copy in and copy out cost as much as the taps. Two output rows
// at a time (four input rows), so that each chunk has two independent
// chains of nine FMAs; an odd last row alone. A row is done in chunks of
// 8 outputs, its last chunk ending at the row's last output (overlapping
// the one before it), so that no load or store leaves a row; the first
// chunk's left taps and the last chunk's right taps, whose outer lane is
// the padding, are the centre taps moved one lane by VPERMPS (dw3Perm)
// with that lane zeroed. The rows above the first and below the last are
// zero. lohi: the clamp's bounds, 8 of each. Each output's taps go in the
// order of dw9AVX2 from the same bias, so the sums are the phase layout's.
//
// Registers: Y0-Y8 the weights, Y9 the bias; R11, SI, R12, R13 the input
// rows above, at, below and two below the first output row (DI, AX the
// output rows); BX a chunk's byte offset in a row, R9 the last chunk's.

// An input row's three taps for one output (acc), chunk at BX+off.
#define TAPS(off, row, wl, wc, wr, acc) \
	VFMADD231PS off-4(row)(BX*1), wl, acc; \
	VFMADD231PS off(row)(BX*1), wc, acc; \
	VFMADD231PS off+4(row)(BX*1), wr, acc

// The first chunk's taps of an input row for both output rows (acc, the
// upper, with its weights, acc2 the lower); Y12: the lane indices, Y14:
// zero. LEFT1: for one output row.
#define LEFT(row, wl, wc, wr, acc, wl2, wc2, wr2, acc2) \
	VPERMPS (row)(BX*1), Y12, Y15; \
	VBLENDPS $0x01, Y14, Y15, Y15; \
	VFMADD231PS Y15, wl, acc; \
	VFMADD231PS Y15, wl2, acc2; \
	VFMADD231PS (row)(BX*1), wc, acc; \
	VFMADD231PS (row)(BX*1), wc2, acc2; \
	VFMADD231PS 4(row)(BX*1), wr, acc; \
	VFMADD231PS 4(row)(BX*1), wr2, acc2

// The last chunk's, its right taps moved (RIGHT1: for one output row).
#define RIGHT(row, wl, wc, wr, acc, wl2, wc2, wr2, acc2) \
	VPERMPS (row)(BX*1), Y12, Y15; \
	VBLENDPS $0x80, Y14, Y15, Y15; \
	VFMADD231PS -4(row)(BX*1), wl, acc; \
	VFMADD231PS -4(row)(BX*1), wl2, acc2; \
	VFMADD231PS (row)(BX*1), wc, acc; \
	VFMADD231PS (row)(BX*1), wc2, acc2; \
	VFMADD231PS Y15, wr, acc; \
	VFMADD231PS Y15, wr2, acc2

#define LEFT1(row, wl, wc, wr, acc) \
	VPERMPS (row)(BX*1), Y12, Y15; \
	VBLENDPS $0x01, Y14, Y15, Y15; \
	VFMADD231PS Y15, wl, acc; \
	VFMADD231PS (row)(BX*1), wc, acc; \
	VFMADD231PS 4(row)(BX*1), wr, acc

#define RIGHT1(row, wl, wc, wr, acc) \
	VPERMPS (row)(BX*1), Y12, Y15; \
	VBLENDPS $0x80, Y14, Y15, Y15; \
	VFMADD231PS -4(row)(BX*1), wl, acc; \
	VFMADD231PS (row)(BX*1), wc, acc; \
	VFMADD231PS Y15, wr, acc

// Clamp acc and store it at BX+off of output row out.
#define PUT(off, acc, out) \
	VMAXPS (DX), acc, acc; \
	VMINPS 32(DX), acc, acc; \
	VMOVUPS acc, off(out)(BX*1)

TEXT ·dw3s1AVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ h+24(FP), CX
	MOVQ w+32(FP), R8
	LEAQ -32(R8*4), R9 // the last chunk's byte offset in a row
	SHLQ $2, R8        // a row's bytes
	MOVQ wt+40(FP), AX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	VBROADCASTSS 16(AX), Y4
	VBROADCASTSS 20(AX), Y5
	VBROADCASTSS 24(AX), Y6
	VBROADCASTSS 28(AX), Y7
	VBROADCASTSS 32(AX), Y8
	VBROADCASTSS bias+48(FP), Y9
	MOVQ lohi+56(FP), DX
	MOVQ zero+16(FP), R11 // the row above the first

d3pair:
	CMPQ CX, $2
	JLT  d3single
	LEAQ (SI)(R8*1), R12
	MOVQ zero+16(FP), R13
	CMPQ CX, $2
	JEQ  d3pairbelow
	LEAQ (R12)(R8*1), R13

d3pairbelow:
	LEAQ    (DI)(R8*1), AX
	XORQ    BX, BX
	VMOVDQU ·dw3Perm(SB), Y12
	VXORPS  Y14, Y14, Y14
	VMOVAPS Y9, Y10
	VMOVAPS Y9, Y11
	LEFT1(R11, Y0, Y1, Y2, Y10)
	LEFT(SI, Y3, Y4, Y5, Y10, Y0, Y1, Y2, Y11)
	LEFT(R12, Y6, Y7, Y8, Y10, Y3, Y4, Y5, Y11)
	LEFT1(R13, Y6, Y7, Y8, Y11)
	PUT(0, Y10, DI)
	PUT(0, Y11, AX)
	MOVQ $32, BX

d3pairone:
	CMPQ BX, R9
	JGE  d3pairlast
	VMOVAPS Y9, Y10
	VMOVAPS Y9, Y11
	TAPS(0, R11, Y0, Y1, Y2, Y10)
	TAPS(0, SI, Y3, Y4, Y5, Y10)
	TAPS(0, SI, Y0, Y1, Y2, Y11)
	TAPS(0, R12, Y6, Y7, Y8, Y10)
	TAPS(0, R12, Y3, Y4, Y5, Y11)
	TAPS(0, R13, Y6, Y7, Y8, Y11)
	PUT(0, Y10, DI)
	PUT(0, Y11, AX)
	ADDQ $32, BX
	JMP  d3pairone

d3pairlast:
	MOVQ    R9, BX
	VMOVDQU ·dw3Perm+32(SB), Y12
	VXORPS  Y14, Y14, Y14
	VMOVAPS Y9, Y10
	VMOVAPS Y9, Y11
	RIGHT1(R11, Y0, Y1, Y2, Y10)
	RIGHT(SI, Y3, Y4, Y5, Y10, Y0, Y1, Y2, Y11)
	RIGHT(R12, Y6, Y7, Y8, Y10, Y3, Y4, Y5, Y11)
	RIGHT1(R13, Y6, Y7, Y8, Y11)
	PUT(0, Y10, DI)
	PUT(0, Y11, AX)
	MOVQ R12, R11
	LEAQ (R12)(R8*1), SI
	LEAQ (AX)(R8*1), DI
	SUBQ $2, CX
	JMP  d3pair

d3single: // the last row of an odd count: the row below it is zero
	TESTQ   CX, CX
	JEQ     d3done
	MOVQ    zero+16(FP), R12
	XORQ    BX, BX
	VMOVDQU ·dw3Perm(SB), Y12
	VXORPS  Y14, Y14, Y14
	VMOVAPS Y9, Y10
	LEFT1(R11, Y0, Y1, Y2, Y10)
	LEFT1(SI, Y3, Y4, Y5, Y10)
	LEFT1(R12, Y6, Y7, Y8, Y10)
	PUT(0, Y10, DI)
	MOVQ $32, BX

d3singleone:
	CMPQ BX, R9
	JGE  d3singlelast
	VMOVAPS Y9, Y10
	TAPS(0, R11, Y0, Y1, Y2, Y10)
	TAPS(0, SI, Y3, Y4, Y5, Y10)
	TAPS(0, R12, Y6, Y7, Y8, Y10)
	PUT(0, Y10, DI)
	ADDQ $32, BX
	JMP  d3singleone

d3singlelast:
	MOVQ    R9, BX
	VMOVDQU ·dw3Perm+32(SB), Y12
	VXORPS  Y14, Y14, Y14
	VMOVAPS Y9, Y10
	RIGHT1(R11, Y0, Y1, Y2, Y10)
	RIGHT1(SI, Y3, Y4, Y5, Y10)
	RIGHT1(R12, Y6, Y7, Y8, Y10)
	PUT(0, Y10, DI)

d3done:
	VZEROUPPER
	RET
