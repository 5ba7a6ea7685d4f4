package train

import (
	"fmt"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
)

// LoadData returns the training and evaluation sets a configuration names:
// the built-in synthetic faces, an image folder, or an insightface RecordIO
// file (streamed: training reads it through a bounded cache), split by
// identity. Warnings name files that were skipped.
func LoadData(cfg engine.Config) (train datasets.Source, eval *datasets.Set, warnings []string, err error) {
	d := cfg.Data
	if d.Source == "synth" || d.Source == "" {
		train, eval, err := datasets.Synthetic(datasets.SynthConfig{
			Seed: cfg.Seed, TrainIDs: d.TrainIDs, EvalIDs: d.EvalIDs, PerID: d.PerID, Size: d.HR})
		return train, eval, nil, err
	}
	if format, _ := datasets.DetectFormat(d.Source); format == "rec" {
		rec, err := datasets.OpenRecordIO(d.Source)
		if err != nil {
			return nil, nil, nil, err
		}
		tr, ev := datasets.SplitSource(rec, d.EvalFraction, cfg.Seed)
		evSet, err := datasets.Materialize(ev, d.HR, d.Source+":eval", nil)
		if err != nil {
			return nil, nil, nil, err
		}
		problems, _ := rec.Problems()
		return tr, evSet, problems, nil
	}
	all, err := datasets.LoadFolder(d.Source, d.HR)
	if err != nil {
		return nil, nil, nil, err
	}
	warnings = append(warnings, all.Skipped...)
	tr, ev := datasets.SplitByIdentity(all, d.EvalFraction, cfg.Seed)
	if tr.NumIDs() < 2 || ev.NumIDs() < 2 {
		return nil, nil, warnings, fmt.Errorf("%s: %d identities is too few to split into training and evaluation (need at least 4)", d.Source, all.NumIDs())
	}
	return tr, ev, warnings, nil
}

// Fingerprint identifies a data source's content, where the source can say.
func Fingerprint(src datasets.Source) string {
	if f, ok := src.(interface{ Fingerprint() string }); ok {
		return f.Fingerprint()
	}
	return ""
}
