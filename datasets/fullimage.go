package datasets

import (
	"bytes"
	"fmt"
	"image"
	"os"

	xdraw "golang.org/x/image/draw"
)

// DecodeRGBA decodes a whole encoded image (no crop, no resize) as 8-bit
// RGBA, with the same header checks as every other reader (probeImage): for
// tools such as the face aligner that need the frame as the user has it.
func DecodeRGBA(data []byte) (*image.RGBA, error) {
	info, err := probeImage(data)
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("cannot decode %s %d×%d: %w (truncated or corrupt)", info.Format, info.Width, info.Height, err)
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	xdraw.Draw(out, out.Rect, img, b.Min, xdraw.Src)
	return out, nil
}

// ReadImage reads an image file and decodes it whole (DecodeRGBA); the
// error names the file.
func ReadImage(path string) (*image.RGBA, error) {
	data, err := readImageFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	img, err := DecodeRGBA(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// IsImageFile reports whether path names a file with an image extension
// (.png, .jpg, .jpeg) that exists.
func IsImageFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && isImageName(path)
}

// RecordPaths returns the .rec and .idx files of a RecordIO set given
// either or their common stem.
func RecordPaths(path string) (rec, idx string) { return recordPaths(path) }
