package train

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
	"github.com/ccface/ccface/engine/eval"
)

// Data is what a run trains and evaluates on.
type Data struct {
	Train    datasets.Source
	Eval     *datasets.Set
	Protocol Protocol // the evaluation set's own pairs or gallery, if its files define them
	Warnings []string // files that were skipped
}

// LoadData returns the training and evaluation sets a configuration names
// (datasets.DetectFormat decides which kind a path is): the built-in
// synthetic faces, an image folder, or an insightface RecordIO
// file (streamed: training reads it through a bounded cache), split by
// identity; or, with data.eval set, all of it for training and that
// evaluation set (folder, .rec, .bin, pairs.txt or TinyFace) with its own
// protocol. With data.align=scrfd, folders and .rec files are read through
// their aligned copies (alignedSources).
func LoadData(cfg engine.Config) (Data, error) { return LoadDataWith(cfg, io.Discard) }

// LoadDataWith is LoadData reporting on w what takes time before the sets
// exist: aligning them on first use (data.align).
func LoadDataWith(cfg engine.Config, w io.Writer) (Data, error) {
	cfg, err := alignedSources(cfg, w)
	if err != nil {
		return Data{}, err
	}
	return loadData(cfg)
}

func loadData(cfg engine.Config) (Data, error) {
	if cfg.Data.EvalSource == "" {
		tr, ev, warnings, err := loadSplit(cfg, true)
		return Data{Train: tr, Eval: ev, Protocol: Protocol{Verify: true, Identify: true}, Warnings: warnings}, err
	}
	tr, _, warnings, err := loadSplit(cfg, false)
	if err != nil {
		return Data{}, err
	}
	prep, err := PrepOf(cfg)
	if err != nil {
		return Data{}, err
	}
	ev, proto, skipped, err := LoadEvalSet(cfg.Data.EvalSource, "", cfg.Data.HR, prep)
	if err != nil {
		return Data{}, err
	}
	if err := checkDisjoint(tr, ev); err != nil {
		return Data{}, fmt.Errorf("data.eval %s: %w", cfg.Data.EvalSource, err)
	}
	return Data{Train: tr, Eval: ev, Protocol: proto, Warnings: append(warnings, skipped...)}, nil
}

// checkDisjoint refuses an evaluation set holding images of the training
// set: METHOD.md's protocols score identities the model never saw, and a
// score on trained faces would be reported as if it were one. It compares
// decoded pixels (a hash, then the bytes), which catches the same folder or
// a copy of it under any name. Streamed training sources (RecordIO) are not
// decoded for this: it would read the whole file.
func checkDisjoint(train datasets.Source, ev *datasets.Set) error {
	set, ok := train.(*datasets.Set)
	if !ok || ev == nil {
		return nil
	}
	seen := make(map[uint64][]int, set.Len())
	for i, p := range set.Pixels {
		k := pixelHash(p)
		seen[k] = append(seen[k], i)
	}
	shared := map[int]bool{} // evaluation identities with a training image
	example := ""
	for i, p := range ev.Pixels {
		for _, j := range seen[pixelHash(p)] {
			if bytes.Equal(p, set.Pixels[j]) {
				if example == "" {
					example = fmt.Sprintf("evaluation image %d is training image %d", i, j)
				}
				shared[ev.Labels[i]] = true
				break
			}
		}
	}
	if len(shared) > 0 {
		return fmt.Errorf("%d of its %d identities have images of the training set (%s): their scores would be on faces the model trained on; use a disjoint evaluation set, or leave data.eval empty to hold out identities of the training data",
			len(shared), ev.NumIDs(), example)
	}
	return nil
}

func pixelHash(p []uint8) uint64 {
	h := fnv.New64a()
	h.Write(p)
	return h.Sum64()
}

// LoadEvalSet reads an evaluation set at size px with the protocol its
// files define (a .bin or pairs.txt: exactly those pairs; TinyFace: its
// probes and gallery with distractors; a folder or .rec: drawn from the
// labels). images is the folder a pairs.txt names images in ("" = next to
// it). Unreadable entries are skipped and listed.
func LoadEvalSet(path, images string, size int, prep datasets.Prep) (*datasets.Set, Protocol, []string, error) {
	es, err := datasets.OpenEval(path, datasets.EvalOptions{Images: images, Prep: prep})
	if err != nil {
		return nil, Protocol{}, nil, err
	}
	defer es.Close()
	dec, err := es.Decode(size)
	if err != nil {
		return nil, Protocol{}, nil, err
	}
	set := &datasets.Set{Name: path, Size: dec.Size, Labels: dec.Labels}
	blank := make([]uint8, dec.Size*dec.Size*3) // unreadable images are in no pair, probe or gallery
	for _, p := range dec.Pixels {
		if p == nil {
			p = blank
		}
		set.Pixels = append(set.Pixels, p)
	}
	proto := Protocol{Verify: true, Identify: true}
	switch {
	case len(dec.Pairs) > 0:
		proto.Identify, proto.Folds = false, max(dec.Folds, 2)
		for _, p := range dec.Pairs {
			proto.Pairs = append(proto.Pairs, eval.Pair{A: p.A, B: p.B, Same: p.Same})
		}
	case len(dec.Probes) > 0:
		proto.Verify, proto.Gallery, proto.Probes = false, dec.Gallery, dec.Probes
	}
	return set, proto, dec.Skipped, nil
}

// PrepOf is the preprocessing cfg's data knobs ask for (data.grey,
// data.crop), for training and evaluation sets alike.
func PrepOf(cfg engine.Config) (datasets.Prep, error) {
	crop, err := datasets.ParseCrop(cfg.Data.Crop)
	return datasets.Prep{Grey: cfg.Data.Grey, Crop: crop}, err
}

// loadSplit loads the data source and, with split, holds out a share of
// its identities for evaluation; without, all of it is for training.
func loadSplit(cfg engine.Config, split bool) (train datasets.Source, eval *datasets.Set, warnings []string, err error) {
	d := cfg.Data
	format, err := datasets.DetectFormat(d.Source)
	if err != nil {
		return nil, nil, nil, err
	}
	prep, err := PrepOf(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if format == datasets.FormatSynth && prep != (datasets.Prep{}) {
		return nil, nil, nil, fmt.Errorf("data.grey and data.crop apply to image files, not to the synthetic faces; pass --data DIR")
	}
	switch format {
	case datasets.FormatSynth:
		train, eval, err := datasets.Synthetic(datasets.SynthConfig{
			Seed: cfg.Seed, TrainIDs: d.TrainIDs, EvalIDs: d.EvalIDs, PerID: d.PerID, Size: d.HR})
		return train, eval, nil, err
	case datasets.FormatRec:
		rec, err := datasets.OpenRecordIO(d.Source)
		if err != nil {
			return nil, nil, nil, err
		}
		rec.SetPrep(prep)
		problems, _ := rec.Problems()
		if !split {
			return rec, nil, problems, nil
		}
		tr, ev := datasets.SplitSource(rec, d.EvalFraction, cfg.Seed)
		evSet, err := datasets.Materialize(ev, d.HR, d.Source+":eval", nil)
		if err != nil {
			return nil, nil, nil, err
		}
		return tr, evSet, problems, nil
	case datasets.FormatFolder:
		all, err := datasets.LoadFolder(d.Source, d.HR, prep)
		if err != nil {
			return nil, nil, nil, err
		}
		warnings = append(warnings, all.Skipped...)
		if !split {
			return all, nil, warnings, nil
		}
		tr, ev := datasets.SplitByIdentity(all, d.EvalFraction, cfg.Seed)
		if tr.NumIDs() < 2 || ev.NumIDs() < 2 {
			return nil, nil, warnings, fmt.Errorf("%s: %d identities is too few to split into training and evaluation (need at least 4)", d.Source, all.NumIDs())
		}
		return tr, ev, warnings, nil
	default:
		return nil, nil, nil, fmt.Errorf("%s is a %s, an evaluation set: train on an image folder, a .rec or synth, and evaluate on it with --set data.eval=%s",
			d.Source, datasets.FormatDescription(format), d.Source)
	}
}

// Fingerprint identifies a data source's content, where the source can say.
func Fingerprint(src datasets.Source) string {
	if f, ok := src.(interface{ Fingerprint() string }); ok {
		return f.Fingerprint()
	}
	return ""
}
