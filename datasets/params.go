package datasets

import "fmt"

// Kernels lists the resampling kernels the degradation can draw from.
var Kernels = []string{"nearest", "bilinear", "bicubic", "area"}

// DegradeParams are the augmentation knobs of METHOD.md ("Degradation D").
// All of them may change between training steps.
type DegradeParams struct {
	PLR      float64 `json:"p_lr"`      // probability of the low-resolution branch (student LR view forces 1)
	RMin     float64 `json:"r_min"`     // smallest side ratio LR/HR
	RMax     float64 `json:"r_max"`     // largest side ratio LR/HR
	Kernel   string  `json:"kernel"`    // "random" or one of Kernels
	BlurMax  float64 `json:"blur_max"`  // largest Gaussian blur sigma, in LR pixels
	NoiseMax float64 `json:"noise_max"` // largest Gaussian noise std, on the [0,1] intensity scale
	JPEGMin  int     `json:"jpeg_min"`  // lowest JPEG quality drawn (100 disables JPEG)
	Flip     float64 `json:"flip"`      // probability of a horizontal flip
	Jitter   float64 `json:"jitter"`    // brightness/contrast jitter amplitude (0.2 = ±20%)
	CropPad  int     `json:"crop_pad"`  // random crop-and-pad shift, in HR pixels
}

// DefaultDegrade returns METHOD.md's defaults: HR 32 px degraded to 6..16 px.
func DefaultDegrade() DegradeParams {
	return DegradeParams{
		PLR: 0.5, RMin: 6.0 / 32, RMax: 16.0 / 32, Kernel: "random",
		BlurMax: 1.0, NoiseMax: 0.02, JPEGMin: 60,
		Flip: 0.5, Jitter: 0.2, CropPad: 2,
	}
}

// Validate names the first knob that is out of range and its allowed range.
func (p DegradeParams) Validate() error {
	switch {
	case p.PLR < 0 || p.PLR > 1:
		return fmt.Errorf("aug.p_lr=%g: must be in [0,1]", p.PLR)
	case p.RMin <= 0 || p.RMin > 1:
		return fmt.Errorf("aug.r_min=%g: must be in (0,1]", p.RMin)
	case p.RMax < p.RMin || p.RMax > 1:
		return fmt.Errorf("aug.r_max=%g: must be in [aug.r_min=%g, 1]", p.RMax, p.RMin)
	case p.BlurMax < 0 || p.BlurMax > 5:
		return fmt.Errorf("aug.blur_max=%g: must be in [0,5]", p.BlurMax)
	case p.NoiseMax < 0 || p.NoiseMax > 0.5:
		return fmt.Errorf("aug.noise_max=%g: must be in [0,0.5]", p.NoiseMax)
	case p.JPEGMin < 1 || p.JPEGMin > 100:
		return fmt.Errorf("aug.jpeg_min=%d: must be in [1,100] (100 disables JPEG)", p.JPEGMin)
	case p.Flip < 0 || p.Flip > 1:
		return fmt.Errorf("aug.flip=%g: must be in [0,1]", p.Flip)
	case p.Jitter < 0 || p.Jitter > 1:
		return fmt.Errorf("aug.jitter=%g: must be in [0,1]", p.Jitter)
	case p.CropPad < 0 || p.CropPad > 8:
		return fmt.Errorf("aug.crop_pad=%d: must be in [0,8]", p.CropPad)
	}
	if p.Kernel != "random" {
		ok := false
		for _, k := range Kernels {
			ok = ok || k == p.Kernel
		}
		if !ok {
			return fmt.Errorf("aug.kernel=%q: must be random, nearest, bilinear, bicubic or area", p.Kernel)
		}
	}
	return nil
}
