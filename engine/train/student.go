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
		if e.archs.student != e.archs.teacher { // a native student of an imported teacher
			bb, err := nn.NewBackbone(e.archs.student, newRand(e.cfg.Seed, 4))
			if err != nil {
				return err
			}
			st.Student = bb
		}
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
		spec.ACRSupport = pr.batch // acr is live: support mode may be switched on at any step
	}
	if r := pr.batch / pr.per; r > 1 {
		pr.gather = nn.NewGather(r)
	}
	pr.classifierRows = unitRows(st.Classifier)
	for i := 0; i < pr.batch/pr.per; i++ {
		net, err := nn.NewNet(nn.NetSpec{Arch: e.archs.teacher, N: pr.per}, st.Teacher, nil)
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
				net, err := nn.NewNet(nn.NetSpec{Arch: e.archs.student, N: per}, st.Student, nil)
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
	var support []float32
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
		acr.Mode, acr.Lambda, acr.Scale, acr.Eps = h.ACR, h.Lambda, h.ACRScale, h.Eps
		acr.BatchRows, acr.Gather, acr.Replica = b, pr.gather, r
		switch h.ACR {
		case nn.ACRPrototype:
			acr.Targets = prototypeTargets(acr.Targets, target[r], pr.classifierRows, dim, h.ACRScale, h.Temp)
		case nn.ACRSupport:
			support = joinRows(support, pr.tEmb)
			class, classes, err := acr.SetSupport(support, pr.data.Labels[:b])
			if err != nil {
				return err
			}
			acr.Targets = supportTargets(acr.Targets, target[r], support, class, classes, dim, h.ACRScale, h.Temp)
		case nn.ACRSimSiam:
			acr.Targets = append(acr.Targets[:0], target[r]...)
		}
	}
	return nil
}

// joinRows concatenates the replicas' embeddings into the batch's, in
// batch order.
func joinRows(dst []float32, parts [][]float32) []float32 {
	dst = dst[:0]
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

func fill(s []float32, n int, v float32) []float32 {
	s = s[:0]
	for i := 0; i < n; i++ {
		s = append(s, v)
	}
	return s
}

// studentMargin is the per-sample margin of L_CC: the LR views (the first
// per samples) get the policy's m_i, the HR views the fixed m. The teacher's
// head gives the margin its form, so the student is judged the way its
// classifier was trained: angular for ArcFace, additive for CosFace,
// AdaFace's norm-adaptive mix for AdaFace (with the student's LR feature-norm
// statistics on LR views, the teacher's HR ones on HR views).
func (e *Engine) studentMargin(m float64, per int, teacher []float32, ratios []float32, dim int) nn.MarginFunc {
	h, st := e.cfg.Hyper, e.st
	return func(i int, s nn.SampleStat) (float64, float64) {
		if i >= per {
			return headMargin(h.Head, m, h.H, s.Norm, st.AdaMean, st.AdaStd)
		}
		mi := m
		switch h.Policy {
		case "agreement": // little penalty where the student cannot yet match its teacher's HR view
			var c float64
			for k, v := range s.Emb {
				c += float64(v) * float64(teacher[i*dim+k])
			}
			mi = agreementMargin(m, h.MarginMin, h.Gamma, c, st.AgreeMean)
		case "resolution":
			mi = m * math.Pow(float64(ratios[i]), h.Gamma)
		case "quality": // AdaFace's margin on the student's LR feature norms, whatever the head
			return adaMargin(m, h.H, s.Norm, st.StudentAdaMean, st.StudentAdaStd)
		}
		return headMargin(h.Head, mi, h.H, s.Norm, st.StudentAdaMean, st.StudentAdaStd)
	}
}

// agreementMargin is the `agreement` policy [ours]:
//
//	m_i = m_lo + (m − m_lo)·clamp(c_i / ā, 0, 1)^γ,  m_lo = min(m_min, m),
//
// c_i the cosine of the student's LR embedding to its teacher's HR one, ā
// the running mean of c over past batches. METHOD.md scales m by the raw
// c_i; LR-HR cosines start small, so the raw form gave almost no margin
// early on. Against the running mean, a typical sample gets the full m and
// one that agrees less than usual gets less, never below the floor. With ā
// unset (the first step) or not positive, every sample gets m.
func agreementMargin(m, mMin, gamma, c, mean float64) float64 {
	if mean <= 0 {
		return m
	}
	lo := math.Min(mMin, m)
	return lo + (m-lo)*math.Pow(math.Max(0, math.Min(1, c/mean)), gamma)
}

// runningMean folds a batch's value into a running mean (unset, zero:
// start from the batch).
func runningMean(mean, batch, momentum float64) float64 {
	if mean == 0 {
		return batch
	}
	return momentum*batch + (1-momentum)*mean
}

// prototypeTargets computes t = sharpen(softmax(s_A·W_T z), T) per row of z
// (METHOD.md's prototype target [ours, after PAWS]): the frozen teacher
// classifier's soft probabilities for the HR view, sharpened by 1/T.
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
			// softmax(s_A·c) sharpened by 1/T is softmax(s_A·c/T)
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

// supportTargets computes PAWS's target [PAWS; its use here is ours] per
// row z_i: the soft nearest-neighbour class distribution over the support
// set, q_ic = Σ_{k: class(k)=c} softmax_k(s_A·z_i·v_k), sharpened to
// q^(1/T)/Σ q^(1/T). The support set is the whole batch's teacher HR
// embeddings with their labels, the row's own included: PAWS draws its
// support apart from the anchors, but a batch may hold one image of an
// identity, and without itself that row's target would have no mass on its
// own label.
func supportTargets(dst, z, support []float32, class []int, classes, dim int, scale, temp float64) []float32 {
	n, k := len(z)/dim, len(support)/dim
	dst = dst[:0]
	a := make([]float64, k)
	q := make([]float64, classes)
	for i := 0; i < n; i++ {
		zi := z[i*dim : (i+1)*dim]
		maxL := math.Inf(-1)
		for j := 0; j < k; j++ {
			var c float64
			for d, v := range zi {
				c += float64(v) * float64(support[j*dim+d])
			}
			a[j] = scale * c
			maxL = math.Max(maxL, a[j])
		}
		var sum float64
		for j := range a {
			a[j] = math.Exp(a[j] - maxL)
			sum += a[j]
		}
		clear(q)
		for j, v := range a {
			q[class[j]] += v / sum
		}
		var norm float64
		for c, v := range q {
			q[c] = math.Pow(v, 1/temp)
			norm += q[c]
		}
		for _, v := range q {
			dst = append(dst, float32(v/norm))
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
		term += net.ACR.Term // each replica's share of the batch's term
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

// marginHist returns a histogram of the LR views' per-sample margins (as
// Head.MarginOf reports them). Its range spans every margin of the batch,
// from 0 (or below, should one be negative) to m (or above), so no sample is
// folded into an end bin.
func marginHist(pr *phaseRun, maxMargin float64) engine.Curve {
	var margins []float64
	lo, hi := 0.0, maxMargin
	for _, net := range pr.nets {
		for i := 0; i < pr.per; i++ {
			g := net.Head.MarginOf(i)
			margins = append(margins, g)
			lo, hi = math.Min(lo, g), math.Max(hi, g)
		}
	}
	hi = math.Max(hi, lo+1e-6)
	c := engine.Curve{X: make([]float64, marginHistBins), Y: make([]float64, marginHistBins)}
	w := (hi - lo) / marginHistBins
	for b := range c.X {
		c.X[b] = lo + (float64(b)+0.5)*w
	}
	for _, g := range margins {
		c.Y[min(marginHistBins-1, int((g-lo)/w))]++ // the top value belongs to the last bin
	}
	return c
}
