//go:build !unix

package core

// DataDirInUse reports whether another process has the databases of the data directory
// dir open; without POSIX record locks it cannot tell and reports false.
func DataDirInUse(string) (bool, error) {
	return false, nil
}
