// Package inproc is the engine's default container runtime: libctr run
// inside the daemon's own process. It implements container.Runtime.
//
// One container, seen from here:
//
//	rt.Create(ctx, id, spec, stdio)  specconv -> libctr Factory.Create -> Container.Start:
//	                                 namespaces, cgroups, rootfs; the init waits on exec.fifo
//	rt.Start(ctx, id)                Container.Exec: the init execs the program; a goroutine
//	                                 waits for it, drains its output, reads the OOM kill count
//	rt.Wait(ctx, id)                 the ExitStatus (code, or 128+signal; OOMKilled)
//	rt.Delete(ctx, id)               Container.Destroy: leftover processes killed, cgroups gone
//
// Standard streams are os.Pipe pairs the adapter owns: the program gets the
// write ends of stdout and stderr, the adapter copies the read ends into the
// caller's writers, and the exit is reported only once that copy has ended
// (bounded, so a background process holding a pipe open cannot keep a wait
// hanging). With a terminal the init opens a pty in the container and hands
// the master back over a console socket (runc's --console-socket protocol);
// the adapter then copies between the master and the caller's streams and
// resizes through it.
//
// State of libctr lives under the runtime root (by default
// <exec-root>/runtime). Every container's init runs under a monitor
// (libctr's Factory.Monitor): a small process, not the daemon, is its
// parent and keeps its output pipes (or pty master) open, so a container
// outlives a daemon that dies. The next daemon's Cleanup leaves such
// containers alone, Restore adopts them (their output goes on, what they
// wrote meanwhile first; Wait gets the code from the monitor, also for one
// that exited meanwhile), and a second Cleanup destroys what nobody
// adopted. Stdin does not survive: a pipe's ends with the daemon that
// held it (a pty's goes on).
package inproc
