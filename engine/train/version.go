package train

// Version names what this training code computes. Bump it with any change
// that changes what a run trains or measures (losses, schedules, data
// order, evaluation): `ccface compare` keys reusable runs by it, so runs of
// the old code are trained again instead of being tabulated beside new
// ones. Changes that only make training faster or its output clearer
// leave it alone, so a comparison survives them.
const Version = 1
