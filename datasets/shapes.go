package datasets

import "math"

// Signed distance functions in face units (negative inside). They need only
// be exact near the boundary, where they set anti-aliasing coverage.

func sdCircle(x, y, r float64) float64 { return hypot(x, y) - r }

// hypot skips math.Hypot's overflow care: face coordinates are small, and
// this sits in the innermost loop of the renderer.
func hypot(x, y float64) float64 { return math.Sqrt(x*x + y*y) }

// sdEllipse uses the gradient-normalised implicit distance (|p/r|-1)·|p/r|/|p/r²|:
// cheap and accurate to a fraction of a pixel near the outline.
func sdEllipse(x, y, rx, ry float64) float64 {
	k0 := hypot(x/rx, y/ry)
	if k0 == 0 {
		return -min(rx, ry)
	}
	k1 := hypot(x/(rx*rx), y/(ry*ry))
	return k0 * (k0 - 1) / k1
}

// sdRoundBox is a box of half-sizes (hx, hy) with corner radius r.
func sdRoundBox(x, y, hx, hy, r float64) float64 {
	qx, qy := math.Abs(x)-hx+r, math.Abs(y)-hy+r
	out := hypot(max(qx, 0), max(qy, 0))
	return out + min(max(qx, qy), 0) - r
}

// sdTaper is a segment a→b whose radius goes from ra to rb: brows, nose
// shadows and glasses temples.
func sdTaper(x, y, ax, ay, bx, by, ra, rb float64) float64 {
	px, py := x-ax, y-ay
	dx, dy := bx-ax, by-ay
	h := (px*dx + py*dy) / (dx*dx + dy*dy)
	h = max(0, min(1, h))
	return hypot(px-h*dx, py-h*dy) - (ra + (rb-ra)*h)
}

func smoothstep(e0, e1, x float64) float64 {
	t := max(0, min(1, (x-e0)/(e1-e0)))
	return t * t * (3 - 2*t)
}

// box is an axis-aligned bounding box in face units.
type box struct{ x0, y0, x1, y1 float64 }

func around(cx, cy, rx, ry float64) box { return box{cx - rx, cy - ry, cx + rx, cy + ry} }

func (b box) union(o box) box {
	return box{min(b.x0, o.x0), min(b.y0, o.y0), max(b.x1, o.x1), max(b.y1, o.y1)}
}
