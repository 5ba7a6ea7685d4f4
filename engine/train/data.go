package train

import (
	"fmt"

	"github.com/ccface/ccface/datasets"
	"github.com/ccface/ccface/engine"
)

// LoadData returns the training and evaluation sets a configuration names:
// the built-in synthetic faces, or an image folder split by identity.
// Warnings name files that were skipped.
func LoadData(cfg engine.Config) (train, eval *datasets.Set, warnings []string, err error) {
	d := cfg.Data
	if d.Source == "synth" || d.Source == "" {
		train, eval, err = datasets.Synthetic(datasets.SynthConfig{
			Seed: cfg.Seed, TrainIDs: d.TrainIDs, EvalIDs: d.EvalIDs, PerID: d.PerID, Size: d.HR})
		return train, eval, nil, err
	}
	all, err := datasets.LoadFolder(d.Source, d.HR)
	if err != nil {
		return nil, nil, nil, err
	}
	warnings = append(warnings, all.Skipped...)
	train, eval = datasets.SplitByIdentity(all, d.EvalFraction, cfg.Seed)
	if train.NumIDs() < 2 || eval.NumIDs() < 2 {
		return nil, nil, warnings, fmt.Errorf("%s: %d identities is too few to split into training and evaluation (need at least 4)", d.Source, all.NumIDs())
	}
	return train, eval, warnings, nil
}
