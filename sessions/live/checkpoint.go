package live

import (
	"fmt"
	"io"

	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
)

// ExportModel writes the model of session id under root (student or
// teacher), from its newest good checkpoint at or before step at (Latest:
// the newest), back as ONNX to out, in the format of the file it was
// imported from; it says so on w and warns of damaged checkpoints on warn.
func ExportModel(root, id string, at int64, model, out string, w, warn io.Writer) error {
	sess, got, blob, err := sessionCheckpoint(root, id, at, warn)
	if err != nil {
		return err
	}
	which, err := train.ExportONNX(blob, model, out)
	if err != nil {
		return fmt.Errorf("%s: %w", sess.Dir, err)
	}
	fmt.Fprintf(w, "wrote %s: the %s of session %s at step %d\n", out, which, sess.Manifest.ID, got)
	return nil
}

// sessionCheckpoint opens session id under root and loads its newest good
// checkpoint at or before step at (Latest: the newest), warning of damaged
// ones passed over.
func sessionCheckpoint(root, id string, at int64, warn io.Writer) (*sessions.Session, int64, []byte, error) {
	sess, err := sessions.Open(root, id)
	if err != nil {
		return nil, 0, nil, err
	}
	got, blob, skipped, err := sess.LatestGoodCheckpoint(at)
	for _, s := range skipped {
		fmt.Fprintf(warn, "warning: %s\n", s)
	}
	return sess, got, blob, err
}
