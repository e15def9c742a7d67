//go:build !linux

package filesystem

import "os"

// syncData makes f's content durable; fdatasync is Linux's cheaper form.
func syncData(f *os.File) error { return f.Sync() }

// startWriteback is a no-op where sync_file_range does not exist.
func startWriteback(*os.File, int64, int64) {}
