package datasets

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
)

// Face layout constants, in face units (the image spans [-1,1]² at zoom 0).
const (
	faceCY   = 0.07 // face centre, below the image centre to leave room for hair
	faceTopR = 0.79 // centre to top of the skull outline
	faceBotR = 0.80 // centre to chin
)

// Palette sizes. Coarse cues come from these small palettes, so at 8 px many
// identities look alike; see Identity.
const (
	numSkin       = 5
	numHair       = 5
	numHairStyles = 5
	numFaceShapes = 3
	numIris       = 6
	numFrames     = 4
)

func skinTone(i int) rgb {
	p := [numSkin]rgb{{0.94, 0.78, 0.67}, {0.87, 0.68, 0.55}, {0.76, 0.55, 0.40}, {0.60, 0.42, 0.29}, {0.42, 0.29, 0.20}}
	return p[i%numSkin]
}

func hairTone(i int) rgb {
	p := [numHair]rgb{{0.08, 0.06, 0.05}, {0.24, 0.15, 0.09}, {0.45, 0.30, 0.17}, {0.78, 0.64, 0.40}, {0.58, 0.57, 0.55}}
	return p[i%numHair]
}

func irisTone(i int) rgb {
	p := [numIris]rgb{{0.36, 0.21, 0.10}, {0.16, 0.10, 0.07}, {0.30, 0.46, 0.72}, {0.32, 0.50, 0.30}, {0.50, 0.55, 0.60}, {0.52, 0.40, 0.20}}
	return p[i%numIris]
}

func frameTone(i int) rgb {
	p := [numFrames]rgb{{0.05, 0.05, 0.05}, {0.35, 0.20, 0.10}, {0.80, 0.65, 0.30}, {0.70, 0.72, 0.75}}
	return p[i%numFrames]
}

// faceShape returns the half-width of the face and the squareness of its
// jaw (0 = oval chin, 1 = square jaw).
func faceShape(i int) (width, square float64) {
	switch i % numFaceShapes {
	case 0:
		return 0.58, 0
	case 1:
		return 0.64, 0.4
	default:
		return 0.69, 0.75
	}
}

// Mark is a mole or spot on the face, in face units.
type Mark struct{ X, Y, R float64 }

// Identity is the fixed appearance of one synthetic person.
//
// The cues are calibrated like real faces: the coarse ones (skin and hair
// colour, hair style, face shape) survive at 8 px but come from small
// palettes shared by many identities and are perturbed per photo by lighting
// and colour cast, so they narrow identity down without settling it. What
// tells people apart are continuous fine cues (eye, brow, nose and mouth
// geometry, iris colour, moles, glasses frames, beard) that are a pixel or
// two at 32 px and gone at 8 px.
//
// Lengths are in face units: the image spans [-1,1]² when the pose's zoom is 0.
type Identity struct {
	// Coarse cues, indices into small shared palettes.
	Skin      int // skin tone
	Hair      int // hair (and brow, beard) tone
	HairStyle int // 0 short, 1 side-swept fringe, 2 long with middle part, 3 receding, 4 straight fringe
	FaceShape int // width and jaw of the outline
	PartSide  float64

	// Fine cues.
	EyeSpacing float64 // half distance between the eye centres
	EyeY       float64 // height of the eye centres
	EyeW, EyeH float64 // eye half-width and half-height
	EyeTilt    float64 // radians, outer corners up when > 0
	Iris       int     // iris colour index

	BrowHeight float64 // above the eye centre
	BrowAngle  float64 // slope, outer end up when > 0
	BrowThick  float64 // half-thickness at the inner end
	BrowLen    float64
	BrowArch   float64

	NoseLen float64 // eye line to nose tip
	NoseW   float64 // nostril half-spacing

	MouthGap   float64 // nose tip to mouth line
	MouthW     float64 // half-width
	MouthCurve float64 // corners up when > 0
	LipThick   float64
	LipTone    float64 // 0 skin-coloured .. 1 red

	EarSize float64
	Marks   []Mark

	Glasses      int // 0 none, 1 round, 2 rectangular
	GlassesSize  float64
	GlassesThick float64
	GlassesColor int

	Beard        int // 0 none, 1 stubble, 2 moustache, 3 goatee, 4 full
	BeardDensity float64
}

// Pose is everything that changes from one photo of a person to the next:
// head pose, expression, lighting, camera. The zero Pose is a neutral,
// evenly lit, noise-free frontal face on a black background.
type Pose struct {
	DX, DY float64 // shift, face units
	Rot    float64 // in-plane rotation, radians
	Zoom   float64 // scale = 1 + Zoom
	Yaw    float64 // -1..1: inner features slide sideways as the head turns

	Smile     float64 // added to the mouth curve
	BrowRaise float64 // brows move up when > 0
	EyeClose  float64 // 0 open .. 1 shut
	GazeX     float64 // -1..1
	GazeY     float64 // -1..1

	LightAngle float64    // direction of the lighting gradient, radians
	Light      float64    // gradient strength: intensity ×(1 ± Light) across the image
	Exposure   float64    // brightness ×(1 + Exposure)
	Cast       [3]float64 // per-channel gain 1 + Cast[c]
	Background [3]float32 // RGB in [0,1]
	Clothes    [3]float32 // RGB in [0,1]
	Noise      float64    // pixel noise std on the [0,1] scale
	NoiseSeed  uint64
}

func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// RandomIdentity draws an identity. Each call consumes a fixed sequence of
// draws except for the marks, so identities drawn from separate streams
// are independent.
func RandomIdentity(rng *rand.Rand) Identity {
	var id Identity
	id.Skin = rng.Intn(numSkin)
	id.Hair = rng.Intn(numHair)
	id.HairStyle = rng.Intn(numHairStyles)
	id.FaceShape = rng.Intn(numFaceShapes)
	id.PartSide = 1
	if rng.Intn(2) == 0 {
		id.PartSide = -1
	}

	id.EyeSpacing = uniform(rng, 0.20, 0.29)
	id.EyeY = uniform(rng, -0.10, 0.0)
	id.EyeW = uniform(rng, 0.075, 0.11)
	id.EyeH = uniform(rng, 0.032, 0.052)
	id.EyeTilt = uniform(rng, -0.15, 0.22)
	id.Iris = rng.Intn(numIris)

	id.BrowHeight = uniform(rng, 0.10, 0.17)
	id.BrowAngle = uniform(rng, -0.25, 0.35)
	id.BrowThick = uniform(rng, 0.016, 0.042)
	id.BrowLen = uniform(rng, 0.16, 0.25)
	id.BrowArch = uniform(rng, 0.0, 0.05)

	id.NoseLen = uniform(rng, 0.22, 0.34)
	id.NoseW = uniform(rng, 0.055, 0.10)

	id.MouthGap = uniform(rng, 0.12, 0.19)
	id.MouthW = uniform(rng, 0.12, 0.21)
	id.MouthCurve = uniform(rng, -0.03, 0.05)
	id.LipThick = uniform(rng, 0.014, 0.034)
	id.LipTone = uniform(rng, 0.15, 0.75)

	id.EarSize = uniform(rng, 0.85, 1.15)

	if g := rng.Float64(); g < 0.28 {
		id.Glasses = 1 + rng.Intn(2)
	}
	id.GlassesSize = uniform(rng, 0.12, 0.16)
	id.GlassesThick = uniform(rng, 0.010, 0.024)
	id.GlassesColor = rng.Intn(numFrames)

	if b := rng.Float64(); b < 0.25 {
		id.Beard = 1 + rng.Intn(4)
	}
	id.BeardDensity = uniform(rng, 0.5, 1.0)

	for k := rng.Intn(4); k > 0; k-- {
		id.Marks = append(id.Marks, Mark{X: uniform(rng, -0.4, 0.4), Y: uniform(rng, -0.42, 0.55), R: uniform(rng, 0.02, 0.034)})
	}
	return id
}

// RandomPose draws one photo's pose, expression, lighting and camera.
func RandomPose(rng *rand.Rand) Pose {
	var p Pose
	p.DX = uniform(rng, -0.06, 0.06)
	p.DY = uniform(rng, -0.06, 0.06)
	p.Rot = uniform(rng, -0.1, 0.1)
	p.Zoom = uniform(rng, -0.06, 0.06)
	p.Yaw = uniform(rng, -1, 1)

	p.Smile = uniform(rng, -0.015, 0.03)
	p.BrowRaise = uniform(rng, -0.012, 0.025)
	p.EyeClose = uniform(rng, 0, 0.3)
	if rng.Float64() < 0.04 { // an occasional blink
		p.EyeClose = 0.85
	}
	p.GazeX = uniform(rng, -1, 1)
	p.GazeY = uniform(rng, -1, 1)

	p.LightAngle = uniform(rng, 0, 2*math.Pi)
	p.Light = uniform(rng, 0, 0.35)
	p.Exposure = uniform(rng, -0.18, 0.12)
	for c := range p.Cast {
		p.Cast[c] = uniform(rng, -0.08, 0.08)
	}
	g := uniform(rng, 0.2, 0.85)
	for c := range p.Background {
		p.Background[c] = float32(max(0, min(1, g+uniform(rng, -0.1, 0.1))))
	}
	for c := range p.Clothes {
		p.Clothes[c] = float32(uniform(rng, 0.08, 0.8))
	}
	p.Noise = uniform(rng, 0, 0.02)
	p.NoiseSeed = rng.Uint64()
	return p
}

// RenderFace draws identity id in pose at size×size pixels (any size),
// anti-aliased, as RGB row-major HWC.
func RenderFace(id Identity, pose Pose, size int) []uint8 {
	out := make([]uint8, size*size*3)
	var c canvas
	c.render(id, pose, size, out)
	return out
}

// render draws into out, reusing the canvas buffer.
func (c *canvas) render(id Identity, p Pose, size int, out []uint8) {
	c.reset(size, p)
	skin := skinTone(id.Skin)
	hair := hairTone(id.Hair)
	fw, square := faceShape(id.FaceShape)
	yaw := 0.06 * p.Yaw // inner features slide with the head turn

	// Background: a soft vertical gradient, like a lit backdrop.
	bgTop, bgBot := rgb(p.Background).scale(1.08), rgb(p.Background).scale(0.85)
	for j := 0; j < size; j++ {
		k := mix(bgTop, bgBot, (float64(j)+0.5)/float64(size))
		for i := 0; i < size; i++ {
			copy(c.pix[(j*size+i)*3:], k[:])
		}
	}

	face := func(x, y float64) float64 {
		y -= faceCY
		if y < 0 {
			return sdEllipse(x, y, fw, faceTopR)
		}
		// Blending two distance fields morphs the oval chin into a square
		// jaw; the shapes agree at y = 0, so the outline stays continuous.
		e := sdEllipse(x, y, fw, faceBotR)
		if square == 0 {
			return e
		}
		return (1-square)*e + square*sdRoundBox(x, y, fw, faceBotR, 0.32)
	}
	faceBox := box{-fw, faceCY - faceTopR, fw, faceCY + faceBotR}

	// Shoulders and clothes.
	c.fill(around(0, 1.5, 1.1, 0.65), 1, func(x, y float64) float64 { return sdEllipse(x, y-1.5, 1.05, 0.62) },
		rgb(p.Clothes), nil, 1)

	// Hair behind the head.
	capRX, capRY := fw+0.08, faceTopR+0.1
	if id.HairStyle == 3 {
		capRX, capRY = fw+0.035, faceTopR+0.04
	}
	capY := faceCY - 0.1
	back := func(x, y float64) float64 { return sdEllipse(x, y-capY, capRX, capRY) }
	backBox := around(0, capY, capRX, capRY)
	if id.HairStyle == 2 {
		long := back
		back = func(x, y float64) float64 {
			return min(long(x, y), sdRoundBox(x, y-0.38, fw+0.11, 0.6, 0.12))
		}
		backBox = backBox.union(around(0, 0.38, fw+0.11, 0.6))
	}
	hairShade := func(x, y, d float64) rgb { return hair.scale(1.1 - 0.25*smoothstep(-0.6, 0.9, y)) }
	c.fill(backBox, 1, back, hair, hairShade, 1)

	// Neck and ears.
	c.fill(box{-0.25, 0.3, 0.25, 1.2}, 0.4, func(x, y float64) float64 { return sdRoundBox(x, y-0.75, 0.21, 0.45, 0.05) },
		skin.scale(0.78), nil, 1)
	earRX, earRY := 0.075*id.EarSize, 0.14*id.EarSize
	earY := id.EyeY + 0.1
	for _, s := range [2]float64{-1, 1} {
		ex := s * (fw - 0.015)
		c.fill(around(ex, earY, earRX, earRY), 2*earRX, func(x, y float64) float64 { return sdEllipse(x-ex, y-earY, earRX, earRY) },
			skin.scale(0.86), nil, 1)
	}

	// Face, darker towards the outline so it reads as rounded.
	c.fill(faceBox, 1, face, skin, func(x, y, d float64) rgb {
		return skin.scale(1.02 - 0.22*smoothstep(-0.25, 0, d))
	}, 1)

	noseTip := id.EyeY + id.NoseLen
	mouthY := noseTip + id.MouthGap
	mouthX := yaw * 1.2
	beardCol := hair.scale(0.9)

	// Beard under the mouth and hair front.
	moustache := func(x, y float64) float64 {
		dx := x - mouthX
		yc := mouthY - id.LipThick - 0.035 + 0.6*dx*dx
		return max(math.Abs(y-yc)-0.028, math.Abs(dx)-id.MouthW*1.1)
	}
	moustacheBox := around(mouthX, mouthY-0.05, id.MouthW*1.2, 0.08)
	switch id.Beard {
	case 1, 4: // stubble, full: the lower face below a line
		top := noseTip + 0.04
		// Stubble reads as a shadow, darker than the hair it comes from.
		col, alpha := hair.scale(0.55), 0.3*id.BeardDensity
		if id.Beard == 4 {
			col, top, alpha = beardCol, id.EyeY+0.24, 0.85*id.BeardDensity
		}
		// The top edge is a soft ramp (distance scaled down), as a beard thins out.
		c.fill(box{-fw, top - 0.1, fw, faceCY + faceBotR}, 0.3, func(x, y float64) float64 {
			return max(face(x, y)+0.01, 0.4*(top-y))
		}, col, nil, alpha)
	case 2:
		c.fill(moustacheBox, 0.056, moustache, beardCol, nil, 0.9*id.BeardDensity)
	case 3:
		gy := mouthY + 0.14
		c.fill(around(mouthX, gy, id.MouthW*0.6, 0.13).union(moustacheBox), 0.056, func(x, y float64) float64 {
			g := max(sdEllipse(x-mouthX, y-gy, id.MouthW*0.6, 0.12), face(x, y)+0.01)
			return min(g, moustache(x, y))
		}, beardCol, nil, 0.9*id.BeardDensity)
	}

	// Hair in front: inside a slightly grown face outline, above the hairline.
	hairline := func(x float64) float64 {
		switch id.HairStyle {
		case 1:
			return -0.36 + 0.3*id.PartSide*x + 0.3*x*x
		case 2:
			return -0.52 + 0.35*math.Abs(x) + 0.5*x*x
		case 3:
			return -0.58 - 0.1*math.Exp(-sq((math.Abs(x)-0.28)/0.12)) + 0.3*x*x
		case 4:
			return -0.31 + 0.12*x*x
		default:
			return -0.44 + 0.55*x*x
		}
	}
	front := func(x, y float64) float64 {
		d := max(face(x, y)-0.035, y-hairline(x))
		if id.HairStyle == 2 { // curtains of long hair over the temples
			d = min(d, max(face(x, y)-0.035, max(fw-0.085-math.Abs(x), y-0.25)))
		}
		return d
	}
	c.fill(box{-fw - 0.05, faceCY - faceTopR - 0.05, fw + 0.05, 0.3}, 0.2, front, hair, hairShade, 1)

	// Nose: side shadow, tip highlight, shadow under the tip, nostrils.
	nx := yaw * 1.5
	shadow := skin.scale(0.72)
	c.fill(box{nx - 0.1, id.EyeY, nx + 0.02, noseTip + 0.02}, 0.03, func(x, y float64) float64 {
		return sdTaper(x, y, nx-0.045, id.EyeY+0.07, nx-id.NoseW*0.75, noseTip-0.03, 0.01, 0.02)
	}, shadow, nil, 0.45)
	c.fill(around(nx, noseTip-0.04, id.NoseW*0.5, 0.05), 0.08, func(x, y float64) float64 {
		return sdEllipse(x-nx, y-(noseTip-0.04), id.NoseW*0.5, 0.045)
	}, skin.scale(1.1), nil, 0.35)
	c.fill(around(nx, noseTip+0.03, id.NoseW*1.3, 0.03), 0.05, func(x, y float64) float64 {
		return sdEllipse(x-nx, y-(noseTip+0.03), id.NoseW*1.2, 0.024)
	}, shadow, nil, 0.4)
	for _, s := range [2]float64{-1, 1} {
		cx := nx + s*id.NoseW*0.55
		c.fill(around(cx, noseTip+0.01, 0.03, 0.02), 0.03, func(x, y float64) float64 {
			return sdEllipse(x-cx, y-(noseTip+0.01), 0.026, 0.015)
		}, skin.scale(0.4), nil, 0.8)
	}

	// Eyes: socket shadow, white, iris, pupil, upper lash line.
	open := max(0.08, 1-p.EyeClose)
	eh := id.EyeH * open
	irisR := 0.042
	for _, s := range [2]float64{-1, 1} {
		ex, ey := s*id.EyeSpacing+yaw, id.EyeY
		ct, st := math.Cos(s*id.EyeTilt), math.Sin(s*id.EyeTilt)
		local := func(x, y float64) (float64, float64) {
			x, y = x-ex, y-ey
			return ct*x - st*y, st*x + ct*y
		}
		eb := around(ex, ey, id.EyeW*1.5, id.EyeH*2.4)
		c.fill(eb, 0.08, func(x, y float64) float64 {
			return sdEllipse(x-ex, y-ey+0.012, id.EyeW*1.4, id.EyeH*2.1)
		}, skin.scale(0.8), nil, 0.45)
		sclera := func(x, y float64) float64 {
			lx, ly := local(x, y)
			return sdEllipse(lx, ly, id.EyeW, eh)
		}
		c.fill(eb, 2*eh, sclera, rgb{0.93, 0.91, 0.88}, nil, 1)
		gx, gy := ex+p.GazeX*id.EyeW*0.35, ey+p.GazeY*eh*0.25
		c.fill(eb, 2*eh, func(x, y float64) float64 {
			return max(sdCircle(x-gx, y-gy, irisR), sclera(x, y))
		}, irisTone(id.Iris), nil, 1)
		c.fill(eb, 2*eh, func(x, y float64) float64 {
			return max(sdCircle(x-gx, y-gy, irisR*0.45), sclera(x, y))
		}, rgb{0.04, 0.03, 0.03}, nil, 1)
		c.fill(eb, 0.02, func(x, y float64) float64 {
			lx, ly := local(x, y)
			return max(math.Abs(sdEllipse(lx, ly, id.EyeW, eh))-0.011, ly-0.25*eh)
		}, rgb{0.12, 0.08, 0.07}, nil, 0.9)
	}

	// Brows: two tapered strokes forming an arch.
	browCol := mix(hair, rgb{0.1, 0.07, 0.05}, 0.35)
	for _, s := range [2]float64{-1, 1} {
		inX, inY := s*(id.EyeSpacing-0.45*id.BrowLen)+yaw, id.EyeY-id.BrowHeight-p.BrowRaise
		outX, outY := s*(id.EyeSpacing+0.55*id.BrowLen)+yaw, inY-id.BrowAngle*id.BrowLen
		midX, midY := (inX+outX)/2, (inY+outY)/2-id.BrowArch
		t := id.BrowThick
		c.fill(box{min(inX, outX) - 0.06, min(inY, outY) - 0.1, max(inX, outX) + 0.06, max(inY, outY) + 0.06},
			t, func(x, y float64) float64 {
				return min(sdTaper(x, y, inX, inY, midX, midY, t, 0.8*t), sdTaper(x, y, midX, midY, outX, outY, 0.8*t, 0.45*t))
			}, browCol, nil, 0.92)
	}

	// Mouth: lips around a parabola, then the dark line between them.
	curve := id.MouthCurve + p.Smile
	lip := mix(skin, rgb{0.62, 0.24, 0.24}, id.LipTone)
	mouthDist := func(x, y float64) (float64, float64) {
		t := (x - mouthX) / id.MouthW
		yc := mouthY - curve*t*t
		slope := -2 * curve * t / id.MouthW
		return (y - yc) / math.Sqrt(1+slope*slope), t
	}
	mb := around(mouthX, mouthY-curve/2, id.MouthW*1.1, math.Abs(curve)+0.08)
	c.fill(mb, 2*id.LipThick, func(x, y float64) float64 {
		dy, t := mouthDist(x, y)
		env := math.Sqrt(max(0, 1-t*t))
		off := 0.2 * id.LipThick * env
		return max(math.Abs(dy-off)-(id.LipThick*env+0.004), math.Abs(x-mouthX)-id.MouthW)
	}, lip, nil, 0.9)
	c.fill(mb, 0.018, func(x, y float64) float64 {
		dy, _ := mouthDist(x, y)
		return max(math.Abs(dy)-0.009, math.Abs(x-mouthX)-id.MouthW*1.02)
	}, rgb{0.3, 0.12, 0.1}, nil, 0.9)

	// Moles.
	for _, m := range id.Marks {
		mx := m.X + yaw
		c.fill(around(mx, m.Y, m.R, m.R), 2*m.R, func(x, y float64) float64 {
			return max(sdCircle(x-mx, y-m.Y, m.R), hairline(x)-y)
		}, rgb{0.27, 0.17, 0.12}, nil, 0.85)
	}

	// Glasses: tinted lenses, frames, bridge, temples.
	if id.Glasses != 0 {
		r, th := id.GlassesSize, id.GlassesThick
		gy := id.EyeY + 0.01
		rx, ry := r, r
		if id.Glasses == 2 {
			rx, ry = r*1.18, r*0.8
		}
		lens := func(x, y, cx float64) float64 {
			if id.Glasses == 1 {
				return sdCircle(x-cx, y-gy, r)
			}
			return sdRoundBox(x-cx, y-gy, rx, ry, 0.045)
		}
		frame := frameTone(id.GlassesColor)
		for _, s := range [2]float64{-1, 1} {
			cx := s*id.EyeSpacing + yaw
			b := around(cx, gy, rx+th+0.02, ry+th+0.02)
			c.fill(b, 2*ry, func(x, y float64) float64 { return lens(x, y, cx) }, rgb{0.85, 0.9, 0.95}, nil, 0.12)
			c.fill(b, 2*th, func(x, y float64) float64 { return math.Abs(lens(x, y, cx)) - th }, frame, nil, 1)
			tx0, tx1 := cx+s*rx, s*(fw-0.01)+yaw*0.5
			c.fill(box{min(tx0, tx1) - 0.03, gy - 0.08, max(tx0, tx1) + 0.03, gy + 0.03}, 2*th, func(x, y float64) float64 {
				return sdTaper(x, y, tx0, gy-0.02, tx1, gy-0.04, th, th)
			}, frame, nil, 1)
		}
		bx := id.EyeSpacing - rx
		c.fill(box{yaw - bx - 0.03, gy - ry, yaw + bx + 0.03, gy}, 2*th, func(x, y float64) float64 {
			return min(sdTaper(x, y, yaw-bx, gy-0.3*ry, yaw, gy-0.45*ry, th, th),
				sdTaper(x, y, yaw, gy-0.45*ry, yaw+bx, gy-0.3*ry, th, th))
		}, frame, nil, 1)
	}
	c.finish(p, out)
}

func sq(x float64) float64 { return x * x }

// SynthConfig sizes the synthetic data set.
type SynthConfig struct {
	Seed     int64
	TrainIDs int // identities in the training set
	EvalIDs  int // identities in the evaluation set, disjoint from training
	PerID    int // images per identity
	Size     int // image side in pixels
}

// DefaultSynth is the built-in data set: 300 + 100 identities × 30 images at 32 px.
func DefaultSynth() SynthConfig {
	return SynthConfig{Seed: 1, TrainIDs: 300, EvalIDs: 100, PerID: 30, Size: 32}
}

// Validate names the first field out of range.
func (c SynthConfig) Validate() error {
	switch {
	case c.TrainIDs < 1 || c.TrainIDs > 100000:
		return fmt.Errorf("datasets: synthetic data.train_ids=%d: must be in [1,100000]", c.TrainIDs)
	case c.EvalIDs < 0 || c.EvalIDs > 100000:
		return fmt.Errorf("datasets: synthetic data.eval_ids=%d: must be in [0,100000]", c.EvalIDs)
	case c.PerID < 1 || c.PerID > 10000:
		return fmt.Errorf("datasets: synthetic data.per_id=%d: must be in [1,10000]", c.PerID)
	case c.Size < 4 || c.Size > 512:
		return fmt.Errorf("datasets: synthetic data.hr=%d: must be in [4,512] pixels", c.Size)
	case int64(c.TrainIDs+c.EvalIDs)*int64(c.PerID)*int64(c.Size*c.Size*3) > 4<<30:
		return fmt.Errorf("datasets: synthetic set of %d×%d images at %d px would need over 4 GiB: lower data.per_id, the identities or data.hr",
			c.TrainIDs+c.EvalIDs, c.PerID, c.Size)
	}
	return nil
}

// Synthetic renders the built-in procedural face sets. The result is a pure
// function of cfg: identities come from per-identity random streams (train
// and eval from different streams, hence disjoint), and every image from its
// own stream seeded by (seed, set, identity, sample), so the output does not
// depend on the number of goroutines used to render it.
func Synthetic(cfg SynthConfig) (train, eval *Set, err error) {
	return synthetic(cfg, runtime.NumCPU())
}

func synthetic(cfg SynthConfig, workers int) (train, eval *Set, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	train = newSynthSet("synth-train", "t", cfg, cfg.TrainIDs)
	eval = newSynthSet("synth-eval", "e", cfg, cfg.EvalIDs)
	type job struct {
		set    *Set
		ids    []Identity
		stream uint64
	}
	jobs := []job{
		{train, synthIdentities(cfg.Seed, tagTrainID, cfg.TrainIDs), tagTrainID},
		{eval, synthIdentities(cfg.Seed, tagEvalID, cfg.EvalIDs), tagEvalID},
	}
	nTrain := train.Len()
	canvases := make([]canvas, max(1, workers))
	ParallelFor(nTrain+eval.Len(), workers, func(w, k int) {
		j := jobs[0]
		if k >= nTrain {
			j, k = jobs[1], k-nTrain
		}
		id, sample := k/cfg.PerID, k%cfg.PerID
		rng := newRand(mixSeed(uint64(cfg.Seed), tagSample, j.stream, uint64(id), uint64(sample)))
		canvases[w].render(j.ids[id], RandomPose(rng), cfg.Size, j.set.Pixels[k])
	})
	return train, eval, nil
}

// synthIdentities draws n identities from the stream tag of seed.
func synthIdentities(seed int64, tag uint64, n int) []Identity {
	ids := make([]Identity, n)
	for i := range ids {
		ids[i] = RandomIdentity(newRand(mixSeed(uint64(seed), tag, uint64(i))))
	}
	return ids
}

// newSynthSet allocates the set's pixels as one block, sliced per image.
func newSynthSet(name, prefix string, cfg SynthConfig, ids int) *Set {
	n := ids * cfg.PerID
	per := cfg.Size * cfg.Size * 3
	block := make([]uint8, n*per)
	s := &Set{Name: name, Size: cfg.Size, Pixels: make([][]uint8, n), Labels: make([]int, n), IDNames: make([]string, ids)}
	for i := range s.IDNames {
		s.IDNames[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	for k := 0; k < n; k++ {
		s.Pixels[k] = block[k*per : (k+1)*per : (k+1)*per]
		s.Labels[k] = k / cfg.PerID
	}
	return s
}
