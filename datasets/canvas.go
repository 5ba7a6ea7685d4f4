package datasets

import (
	"math"
	"math/rand"
)

type rgb [3]float32

func (c rgb) scale(k float64) rgb {
	f := float32(k)
	return rgb{c[0] * f, c[1] * f, c[2] * f}
}

func mix(a, b rgb, t float64) rgb {
	f := float32(t)
	return rgb{a[0] + (b[0]-a[0])*f, a[1] + (b[1]-a[1])*f, a[2] + (b[2]-a[2])*f}
}

// canvas rasterises shapes given as signed distance functions in face units
// onto an n×n float RGB image, through the pose's similarity transform.
//
// Anti-aliasing is analytic: a pixel's coverage is 0.5 - d/pixel, the box
// filter across a straight edge. Shapes thinner than ~3 pixels are also
// supersampled (2×2 or 4×4, each sub-sample with analytic coverage) so that
// sub-pixel features such as moles, lash lines and glasses frames keep the
// right average intensity instead of vanishing or flickering; this is what
// makes the fine identity cues fade smoothly with resolution.
type canvas struct {
	n   int
	pix []float32 // n*n*3 RGB, row-major HWC
	// face coordinates of the centre of pixel (i, j) are o + i·ei + j·ej
	ox, oy, eix, eiy, ejx, ejy float64
	// pixel coordinates of face point f are (ax·fx + bx·fy + cx, ay·fx + by·fy + cy)
	ax, bx, cx, ay, by, cy float64
	px                     float64 // pixel side in face units
}

// reset sizes the canvas and sets the transform: the image spans [-1,1]²
// in face units before the pose scales, rotates and shifts the face.
func (c *canvas) reset(n int, p Pose) {
	c.n = n
	if cap(c.pix) < n*n*3 {
		c.pix = make([]float32, n*n*3)
	}
	c.pix = c.pix[:n*n*3]
	s := 1 + p.Zoom
	cs, sn := math.Cos(p.Rot), math.Sin(p.Rot)
	k := 2 / float64(n) / s
	c.px = k
	// f = R(-rot)·((u,v) - d)/s with u = (2i+1)/n - 1.
	c.eix, c.eiy = k*cs, -k*sn
	c.ejx, c.ejy = k*sn, k*cs
	u0, v0 := 1/float64(n)-1-p.DX, 1/float64(n)-1-p.DY
	c.ox = (cs*u0 + sn*v0) / s
	c.oy = (-sn*u0 + cs*v0) / s
	// (u,v) = s·R(rot)·f + d; i = (u+1)·n/2 - 0.5.
	h := float64(n) / 2
	c.ax, c.bx, c.cx = h*s*cs, -h*s*sn, (p.DX+1)*h-0.5
	c.ay, c.by, c.cy = h*s*sn, h*s*cs, (p.DY+1)*h-0.5
}

// pixelBox returns the pixel rectangle [i0,i1)×[j0,j1) covering b.
func (c *canvas) pixelBox(b box) (i0, j0, i1, j1 int) {
	xs := [4]float64{b.x0, b.x1, b.x0, b.x1}
	ys := [4]float64{b.y0, b.y0, b.y1, b.y1}
	mnx, mny, mxx, mxy := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for k := range xs {
		pi := c.ax*xs[k] + c.bx*ys[k] + c.cx
		pj := c.ay*xs[k] + c.by*ys[k] + c.cy
		mnx, mxx = min(mnx, pi), max(mxx, pi)
		mny, mxy = min(mny, pj), max(mxy, pj)
	}
	i0 = max(0, int(math.Floor(mnx))-1)
	j0 = max(0, int(math.Floor(mny))-1)
	i1 = min(c.n, int(math.Ceil(mxx))+2)
	j1 = min(c.n, int(math.Ceil(mxy))+2)
	return
}

// fill paints the shape sdf (bounded by b, thinnest part feat face units
// across) in colour col, or in shade(x, y, d) when shade is not nil, with
// opacity alpha.
func (c *canvas) fill(b box, feat float64, sdf func(x, y float64) float64, col rgb, shade func(x, y, d float64) rgb, alpha float64) {
	ss := 1
	switch fp := feat / c.px; {
	case fp < 1.5:
		ss = 4
	case fp < 3:
		ss = 2
	}
	sub := c.px / float64(ss)
	i0, j0, i1, j1 := c.pixelBox(b)
	for j := j0; j < j1; j++ {
		for i := i0; i < i1; i++ {
			fx := c.ox + float64(i)*c.eix + float64(j)*c.ejx
			fy := c.oy + float64(i)*c.eiy + float64(j)*c.ejy
			d := sdf(fx, fy)
			var cov float64
			// A distance field is 1-Lipschitz, so a pixel whose centre is
			// over a pixel from the edge is wholly in or out and needs no
			// sub-samples (the margin covers the half-diagonal and the
			// approximate ellipse distance).
			if ss == 1 || d > c.px || d < -c.px {
				cov = max(0, min(1, 0.5-d/c.px))
			} else {
				for sj := 0; sj < ss; sj++ {
					oj := (float64(sj)+0.5)/float64(ss) - 0.5
					for si := 0; si < ss; si++ {
						oi := (float64(si)+0.5)/float64(ss) - 0.5
						ds := sdf(fx+oi*c.eix+oj*c.ejx, fy+oi*c.eiy+oj*c.ejy)
						cov += max(0, min(1, 0.5-ds/sub))
					}
				}
				cov /= float64(ss * ss)
			}
			a := float32(cov * alpha)
			if a <= 0 {
				continue
			}
			k := col
			if shade != nil {
				k = shade(fx, fy, d)
			}
			q := c.pix[(j*c.n+i)*3:]
			q[0] += (k[0] - q[0]) * a
			q[1] += (k[1] - q[1]) * a
			q[2] += (k[2] - q[2]) * a
		}
	}
}

// finish applies the photographic effects of the pose (lighting gradient,
// exposure, colour cast, sensor noise) and writes 8-bit RGB into out.
func (c *canvas) finish(p Pose, out []uint8) {
	n := c.n
	la, ls := math.Cos(p.LightAngle), math.Sin(p.LightAngle)
	var gain [3]float64
	for ch := range gain {
		gain[ch] = (1 + p.Exposure) * (1 + p.Cast[ch])
	}
	var rng *rand.Rand
	if p.Noise > 0 {
		rng = newRand(p.NoiseSeed)
	}
	for j := 0; j < n; j++ {
		v := (2*float64(j)+1)/float64(n) - 1
		for i := 0; i < n; i++ {
			u := (2*float64(i)+1)/float64(n) - 1
			light := 1 + p.Light*(la*u+ls*v)
			o := (j*n + i) * 3
			for ch := 0; ch < 3; ch++ {
				x := float64(c.pix[o+ch]) * light * gain[ch]
				if rng != nil {
					x += rng.NormFloat64() * p.Noise
				}
				out[o+ch] = uint8(math.Round(255 * max(0, min(1, x))))
			}
		}
	}
}
