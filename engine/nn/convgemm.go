package nn

// Convolution products that never materialise the patch matrix.
//
// im2col of a whole batch is tens of megabytes per layer (Cin·9 × N·H·W
// floats); writing it out and reading it back made the convolutions
// memory-bound. Here the patches are built in panels of nr columns into a
// buffer that stays in L1/L2 and are consumed by the micro-kernel right
// away. The weight gradient rebuilds them from the layer input (cheaper than
// keeping them: the rebuild runs in cache, the store would not), so a
// training graph holds no patches between its forward and backward passes.

// patches builds panels of the 3×3 patch matrix of a c-channel map (channel
// ci of image i at src[ci·cs+i·ns:]): the panel of columns [p·nr, p·nr+nr)
// for p in [p0,p1) goes to dst[(p−p0)·kpad·nr:], row r at offset r·nr. Rows
// past c·9 and columns past n·h·w are not written: products ignore what they
// compute from them.
type patches struct {
	src                      []float32
	c, n, h, w, cs, ns, kpad int
	nr                       int
	// The fast path (AVX-512, every panel inside one image): per-tap byte
	// offsets and, per panel position in an image, the lanes inside it.
	fast  func(dst, src *float32, c, cs int, offs *[9]int, masks *[9]uint32)
	offs  [9]int
	masks [][9]uint32
}

func (g *gemmer) newPatches(src []float32, c, n, h, w, cs, ns, kpad int) *patches {
	kern := g.kernel()
	pt := &g.pt
	*pt = patches{src: src, c: c, n: n, h: h, w: w, cs: cs, ns: ns, kpad: kpad, nr: kern.nr, masks: pt.masks[:0]}
	hw := h * w
	if kern.im2col == nil || hw%kern.nr != 0 {
		return pt
	}
	// Every panel lies inside one image, so its nr columns are nr
	// consecutive pixels of each input plane: tap (ky,kx) is a contiguous
	// load at a fixed offset, with the lanes that fall outside the image
	// masked to zero. Offsets are the same for every panel; the masks depend
	// only on the panel's place in the image.
	pt.fast = kern.im2col
	for k := range 9 {
		pt.offs[k] = ((k/3-1)*w + k%3 - 1) * 4
	}
	per := hw / kern.nr
	for q := 0; q < per; q++ {
		var mk [9]uint32
		for k := range 9 {
			for l := 0; l < kern.nr; l++ {
				t := q*kern.nr + l
				sy, sx := t/w+k/3-1, t%w+k%3-1
				if sy >= 0 && sy < h && sx >= 0 && sx < w {
					mk[k] |= 1 << l
				}
			}
		}
		pt.masks = append(pt.masks, mk)
	}
	return pt
}

func (pt *patches) panels() int { return (pt.n*pt.h*pt.w + pt.nr - 1) / pt.nr }

func (pt *patches) build(dst []float32, p0, p1 int) {
	nr, hw := pt.nr, pt.h*pt.w
	pstride := pt.kpad * nr
	if pt.fast != nil {
		per := hw / nr
		for p := p0; p < p1; p++ {
			i, q := p/per, p%per
			pt.fast(&dst[(p-p0)*pstride], &pt.src[i*pt.ns+q*nr], pt.c, pt.cs, &pt.offs, &pt.masks[q])
		}
		return
	}
	// Any shape: walk each panel's columns in runs along an image row.
	nhw := pt.n * hw
	for p := p0; p < p1; p++ {
		d := dst[(p-p0)*pstride:]
		for j := p * nr; j < min((p+1)*nr, nhw); {
			i, t := j/hw, j%hw
			y, x := t/pt.w, t%pt.w
			cnt := min(pt.w-x, (p+1)*nr-j, nhw-j)
			off := j - p*nr
			for ci := 0; ci < pt.c; ci++ {
				plane := pt.src[ci*pt.cs+i*pt.ns:][:hw]
				for ky := 0; ky < 3; ky++ {
					sy := y + ky - 1
					for kx := 0; kx < 3; kx++ {
						seg := d[((ci*3+ky)*3+kx)*nr+off:][:cnt]
						if sy < 0 || sy >= pt.h {
							clear(seg)
						} else {
							shiftedCopy(seg, plane[sy*pt.w:(sy+1)*pt.w], x, kx-1)
						}
					}
				}
			}
			j += cnt
		}
	}
}

// convGemm computes out[m, P] = a[m, c·9]·im2col(src) (P = n·h·w, ldc = P)
// one panel at a time.
func (g *gemmer) convGemm(m int, a []float32, pt *patches, out []float32) {
	kern := g.kernel()
	mr, nr, k := kern.mr, kern.nr, pt.c*9
	P := pt.n * pt.h * pt.w
	mp := roundUp(m, mr)
	// A (the weights) is packed once, block by block of kc.
	g.packA = grow(g.packA, mp*k)
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		packA(g.packA[mp*pc:], false, a, k, 0, m, pc, kc, mr, 1)
	}
	g.packB = grow(g.packB, k*nr)
	g.tile = grow(g.tile, mr*nr)
	for p := 0; p < pt.panels(); p++ {
		pt.build(g.packB, p, p+1)
		nw := min(nr, P-p*nr)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			b := &g.packB[pc*nr]
			add := pc > 0
			for ir := 0; ir < m; ir += mr {
				ap := &g.packA[mp*pc+ir*kc]
				off := ir*P + p*nr
				mh := min(mr, m-ir)
				if mh == mr && nw == nr {
					kern.fn(kc, ap, b, nr, &out[off], P, add)
					continue
				}
				kern.fn(kc, ap, b, nr, &g.tile[0], nr, false)
				for i := 0; i < mh; i++ {
					mergeRow(out[off+i*P:off+i*P+nw], g.tile[i*nr:i*nr+nw], add)
				}
			}
		}
	}
}

// convDot computes dw[m, c·9] = gr[m, P]·im2col(src)ᵀ, rebuilding the
// patches a chunk of panels at a time. The dot kernel sums along the panels
// (contiguous in gr's rows and in each patch row), so nothing is transposed;
// each tile's partial sums wait in dotOut between chunks.
func (g *gemmer) convDot(m int, gr []float32, pt *patches, dw []float32) {
	kern := g.kernel()
	nr, dmr, dnr, vw := kern.nr, kern.dmr, kern.dnr, kern.vw
	k := pt.c * 9
	P := pt.n * pt.h * pt.w
	kpad := pt.kpad
	full := P / nr
	mk := m / dmr * dmr
	jt := kpad / dnr
	// A chunk of patches about 1 MiB (L2), at least a few panels so the
	// kernel's accumulator traffic stays small next to its FMAs.
	chunk := min(max(1<<18/(kpad*nr), 4), 64)
	g.packB = grow(g.packB, chunk*kpad*nr)
	tile := dmr * dnr * vw
	g.dotOut = grow(g.dotOut, max(1, mk/dmr)*jt*tile)
	for pc := 0; pc < pt.panels(); pc += chunk {
		np := min(chunk, pt.panels()-pc)
		pt.build(g.packB, pc, pc+np)
		kp := min(np, full-pc) // whole panels in this chunk, for the kernel
		if kp > 0 && mk > 0 {
			for j := 0; j < jt; j++ {
				b := &g.packB[j*dnr*nr]
				for i := 0; i < mk/dmr; i++ {
					kern.dot(kp, &gr[i*dmr*P+pc*nr], P, b, kpad*nr, &g.dotOut[(j*(mk/dmr)+i)*tile], pc > 0)
				}
			}
		}
		// Columns the kernel cannot take (a last partial panel, rows past
		// the kernel's multiple) are summed in Go, into dw directly.
		if pc == 0 {
			clear(dw[:m*k])
		}
		end := min(np*nr, P-pc*nr) // columns of this chunk, from its start
		if kp < np && mk > 0 {
			dotScalarAdd(dw, k, mk, k, gr[pc*nr:], P, g.packB, kpad*nr, nr, 0, kp*nr, end)
		}
		if mk < m {
			dotScalarAdd(dw[mk*k:], k, m-mk, k, gr[mk*P+pc*nr:], P, g.packB, kpad*nr, nr, 0, 0, end)
		}
	}
	if full == 0 || mk == 0 {
		return
	}
	for j := 0; j < jt; j++ {
		for i := 0; i < mk/dmr; i++ {
			out := g.dotOut[(j*(mk/dmr)+i)*tile:][:tile]
			for ii := 0; ii < dmr; ii++ {
				for jj := 0; jj < dnr && j*dnr+jj < k; jj++ {
					dw[(i*dmr+ii)*k+j*dnr+jj] += hsum(out[(ii*dnr+jj)*vw:][:vw])
				}
			}
		}
	}
}

// hsum adds the lanes of an accumulator vector in four independent chains
// (one chain would wait out the add latency at every lane).
func hsum(v []float32) float32 {
	var a, b, c, d float32
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a += v[i]
		b += v[i+1]
		c += v[i+2]
		d += v[i+3]
	}
	for ; i < len(v); i++ {
		a += v[i]
	}
	return (a + b) + (c + d)
}
