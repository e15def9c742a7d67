package main

import "runtime"

// The main goroutine keeps the main thread (a LockOSThread in an init
// function makes main run on the startup thread). Some goroutines lock a
// thread and change its namespaces or root for good: a view of a
// container's filesystem (unshare, chroot), the overlay mount helper
// (unshare of its working directory); such a thread is then thrown away.
// Were it the main thread, the whole process would be affected: the main
// thread is never thrown away, and /proc/self shows the thread group
// leader's mount namespace to every thread. Reserving it for main keeps
// them off it. The runtime commands, which do none of that, let it go
// again (runtime_linux.go).
func init() { runtime.LockOSThread() }
