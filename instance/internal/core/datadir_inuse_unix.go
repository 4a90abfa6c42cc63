//go:build unix

package core

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DataDirInUse reports whether a process on this machine has the databases of the data
// directory dir open: SQLite (PocketBase's and ours) holds POSIX record locks on a
// WAL database's "-shm" file for as long as a connection is open, and on the database
// file itself during a transaction, so a write lock that F_GETLK says would conflict
// means another process uses them. It sees neither this process's own locks nor a
// process on another machine sharing the volume, and a missing file is not in use.
//
// note: it must not run in a process that has those databases open: closing the
// descriptor it opens would drop that process's own locks (POSIX lock semantics).
func DataDirInUse(dir string) (bool, error) {
	for _, name := range []string{dataDBFile + "-shm", dataDBFile, auxDBFile + "-shm", auxDBFile} {
		locked, err := fileLocked(filepath.Join(dir, name))
		if err != nil {
			return false, err
		}
		if locked {
			return true, nil
		}
	}

	return false, nil
}

// fileLocked reports whether another process holds a POSIX lock on any byte of path.
func fileLocked(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", filepath.Base(path), err)
	}
	defer f.Close()

	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0} // the whole file
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return false, fmt.Errorf("checking the locks of %s: %w", filepath.Base(path), err)
	}

	return lk.Type != syscall.F_UNLCK, nil
}
