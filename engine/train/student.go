package train

import (
	"math"

	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/nn"
)

// marginHistEvery is how often (in steps) a histogram of the per-sample
// margins rides along with a point event.
const marginHistEvery = 50

// marginHistBins is the number of bins of that histogram.
const marginHistBins = 20

// prepareStudent sets up the student phase of the configured method:
// f_S starts as a copy of f_T; W_T is copied and frozen, or copied into the
// student's own trainable classifier (arcface-aug, feature-kd); the
// cross-resolution branch and its predictor sit on the LR views only.
func (e *Engine) prepareStudent(pr *phaseRun, spec *nn.NetSpec) error {
	st, method := e.st, e.cfg.Method
	if st.Student == nil {
		st.Student = st.Teacher.Clone()
	}
	if engine.StudentOwnsClassifier(method) && st.StudentClassifier == nil {
		st.StudentClassifier = nn.Params{st.Classifier}.Clone()[0]
	}
	spec.TrainClassifier = st.StudentClassifier != nil
	pr.twoView = method != "arcface-aug"
	if !pr.twoView {
		return nil
	}
	spec.N, spec.ACRRows = 2*pr.per, pr.per
	if method != "feature-kd" { // feature-KD compares the student's own LR embedding
		if st.Predictor == nil {
			st.Predictor = nn.NewPredictor(e.cfg.Model.Embed, newRand(e.cfg.Seed, 3))
		}
		spec.Predictor = st.Predictor
	}
	pr.classifierRows = unitRows(st.Classifier)
	for i := 0; i < pr.batch/pr.per; i++ {
		net, err := nn.NewNet(nn.NetSpec{Arch: arch(e.cfg), N: pr.per}, st.Teacher, nil)
		if err != nil {
			return err
		}
		pr.teacherEmb = append(pr.teacherEmb, net)
	}
	return nil
}

// unitRows returns the classifier's rows scaled to unit length.
func unitRows(w *nn.Param) []float32 {
	out := append([]float32(nil), w.Data...)
	d := w.Shape[1]
	for i := 0; i < w.Shape[0]; i++ {
		row := out[i*d : (i+1)*d]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		inv := float32(1 / math.Sqrt(ss+1e-12))
		for j := range row {
			row[j] *= inv
		}
	}
	return out
}

// embedHR runs embedding graphs on each replica's HR views and keeps copies.
func embedHR(nets []*nn.Net, hr []float32, per, img int, out *[][]float32) error {
	for r, net := range nets {
		copy(net.Input(), hr[r*per*img:(r+1)*per*img])
	}
	if err := runAll(nets); err != nil {
		return err
	}
	if len(*out) != len(nets) {
		*out = make([][]float32, len(nets))
	}
	for r, net := range nets {
		(*out)[r] = append((*out)[r][:0], net.Embeddings()...)
	}
	return nil
}

// studentStep prepares every replica of a student step: the teacher's HR
// embeddings, the per-sample margins of the policy, the cross-resolution
// targets. It returns the margin policy's label for metrics.
func (e *Engine) prepareStudentStep(pr *phaseRun, m float64) error {
	st, h := e.st, e.cfg.Hyper
	img := 3 * e.cfg.Data.HR * e.cfg.Data.HR
	per, b := pr.per, pr.batch
	if !pr.twoView { // arcface-aug: one mixed view, own classifier, fixed margin
		for r, net := range pr.nets {
			lo, hi := r*per, (r+1)*per
			copy(net.Input(), pr.data.HR[lo*img:hi*img])
			hd := net.Head
			hd.Scale = h.Scale
			hd.Labels = append(hd.Labels[:0], pr.data.Labels[lo:hi]...)
			hd.Weights = fill(hd.Weights, per, 1/float32(b))
			hd.Margin = marginFunc("arcface", m, 0, 0, 0)
		}
		return nil
	}
	if err := embedHR(pr.teacherEmb, pr.data.HR, per, img, &pr.tEmb); err != nil {
		return err
	}
	target := pr.tEmb
	if h.ACRTarget == "student" && h.ACR != "off" {
		if pr.studentEmb == nil {
			for range pr.nets {
				net, err := nn.NewNet(nn.NetSpec{Arch: arch(e.cfg), N: per}, st.Student, nil)
				if err != nil {
					return err
				}
				pr.studentEmb = append(pr.studentEmb, net)
			}
		}
		if err := embedHR(pr.studentEmb, pr.data.HR, per, img, &pr.sEmb); err != nil {
			return err
		}
		target = pr.sEmb
	}
	dim := e.cfg.Model.Embed
	for r, net := range pr.nets {
		lo, hi := r*per, (r+1)*per
		in := net.Input()
		copy(in[:per*img], pr.data.LR[lo*img:hi*img])
		copy(in[per*img:], pr.data.HR[lo*img:hi*img])
		hd := net.Head
		hd.Scale = h.Scale
		hd.Labels = append(append(hd.Labels[:0], pr.data.Labels[lo:hi]...), pr.data.Labels[lo:hi]...)
		hd.Weights = hd.Weights[:0]
		for i := 0; i < 2*per; i++ {
			w := 1 / float32(b)
			if i >= per {
				w *= float32(h.Alpha) // α·L_CC(HR)
			}
			hd.Weights = append(hd.Weights, w)
		}
		hd.Margin = e.studentMargin(m, per, pr.tEmb[r], pr.data.Ratios[lo:hi], dim)

		acr := net.ACR
		// Each replica averages over its own rows; 1/R makes the replicas'
		// summed gradients those of the batch mean. (The mean-entropy term is
		// taken per replica's rows: the one part not exactly batch-wide.)
		acr.Mode, acr.Lambda, acr.Scale, acr.Eps = h.ACR, h.Lambda/float64(len(pr.nets)), h.Scale, h.Eps
		switch h.ACR {
		case nn.ACRPrototype:
			acr.Targets = prototypeTargets(acr.Targets, target[r], pr.classifierRows, dim, h.Scale, h.Temp)
		case nn.ACRSimSiam:
			acr.Targets = append(acr.Targets[:0], target[r]...)
		}
	}
	return nil
}

func fill(s []float32, n int, v float32) []float32 {
	s = s[:0]
	for i := 0; i < n; i++ {
		s = append(s, v)
	}
	return s
}

// studentMargin is the per-sample margin of METHOD.md's policies on the LR
// views (the first per samples); HR views get the fixed margin.
func (e *Engine) studentMargin(m float64, per int, teacher []float32, ratios []float32, dim int) nn.MarginFunc {
	h, st := e.cfg.Hyper, e.st
	return func(i int, s nn.SampleStat) (float64, float64) {
		if i >= per {
			return m, 0
		}
		switch h.Policy {
		case "agreement": // little penalty where the student cannot yet match its teacher's HR view
			var c float64
			for k, v := range s.Emb {
				c += float64(v) * float64(teacher[i*dim+k])
			}
			return m * math.Pow(math.Max(0, math.Min(1, c)), h.Gamma), 0
		case "resolution":
			return m * math.Pow(float64(ratios[i]), h.Gamma), 0
		case "quality": // AdaFace on the student's LR feature norms
			return adaMargin(m, h.H, s.Norm, st.StudentAdaMean, st.StudentAdaStd)
		}
		return m, 0
	}
}

// prototypeTargets computes t = sharpen(softmax(s·W_T z), T) per row of z.
func prototypeTargets(dst, z, wRows []float32, dim int, scale, temp float64) []float32 {
	n, classes := len(z)/dim, len(wRows)/dim
	dst = dst[:0]
	logit := make([]float64, classes)
	for i := 0; i < n; i++ {
		zi := z[i*dim : (i+1)*dim]
		maxL := math.Inf(-1)
		for j := 0; j < classes; j++ {
			var c float64
			for k, v := range zi {
				c += float64(v) * float64(wRows[j*dim+k])
			}
			// softmax(s·c) sharpened by 1/T is softmax(s·c/T)
			logit[j] = scale * c / temp
			maxL = math.Max(maxL, logit[j])
		}
		var sum float64
		for j := range logit {
			logit[j] = math.Exp(logit[j] - maxL)
			sum += logit[j]
		}
		for j := range logit {
			dst = append(dst, float32(logit[j]/sum))
		}
	}
	return dst
}

// studentMetrics adds the method's measurements to a student step's values.
func (e *Engine) studentMetrics(pr *phaseRun, v map[string]float64) {
	if !pr.twoView {
		return
	}
	var acr, term, ts float64
	n := 0
	dim := e.cfg.Model.Embed
	for r, net := range pr.nets {
		acr += net.ACR.Loss
		term += net.ACR.Term / float64(len(pr.nets))
		emb := net.Embeddings()
		for i := 0; i < pr.per; i++ {
			var c float64
			for k := 0; k < dim; k++ {
				c += float64(emb[i*dim+k]) * float64(pr.tEmb[r][i*dim+k])
			}
			ts += c
			n++
		}
	}
	v[engine.MLoss] += acr
	if e.cfg.Hyper.ACR != "off" {
		v[engine.MLossACR] = term
	}
	v[engine.MTeacherStudentCos] = ts / float64(n)
}

// marginHist returns a histogram of the LR views' per-sample margins.
func marginHist(pr *phaseRun, maxMargin float64) engine.Curve {
	hi := math.Max(maxMargin, 1e-6)
	c := engine.Curve{X: make([]float64, marginHistBins), Y: make([]float64, marginHistBins)}
	w := hi / marginHistBins
	for b := range c.X {
		c.X[b] = (float64(b) + 0.5) * w
	}
	for _, net := range pr.nets {
		for i := 0; i < pr.per; i++ {
			b := int(net.Head.MarginOf(i) / w)
			c.Y[max(0, min(marginHistBins-1, b))]++
		}
	}
	return c
}
