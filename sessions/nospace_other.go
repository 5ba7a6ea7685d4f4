//go:build !unix

package sessions

func isNoSpace(error) bool { return false }
