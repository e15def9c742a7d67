package libctr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wharf-project/wharf/libctr/configs"
	"golang.org/x/sys/unix"
)

// sessionKeyring is the session keyring a container's processes join, as
// runc's do: "_ses.<id>", made by the init and joined by the execs, so
// that they do not share the runtime caller's session keyring and the keys
// in it. The init gives it search permission for its uid (for "other" in a
// user namespace, where the uid maps elsewhere); an exec only joins (perm
// 0: it may not own the keyring, and only the owner may change it). None
// with NoNewKeyring.
func sessionKeyring(cfg *configs.Config, id string, exec bool) (name string, perm uint32) {
	if cfg.NoNewKeyring {
		return "", 0
	}
	if exec {
		return "_ses." + id, 0
	}
	perm = 0x80000 // KEY_USR_SEARCH
	if cfg.Namespaces.Contains(configs.NEWUSER) {
		perm = 0x8 // KEY_OTH_SEARCH
	}
	return "_ses." + id, perm
}

// joinSessionKeyring joins (or makes) the session keyring name and adds
// perm to its permissions; join_keyring in nsenter/execplan.c does the
// same for the plans. Where keyrings cannot be had (no keyctl, or one a
// seccomp profile refuses) it does nothing, as runc: the isolation is best
// effort.
func joinSessionKeyring(name string, perm uint32) error {
	if name == "" {
		return nil
	}
	id, err := unix.KeyctlJoinSessionKeyring(name)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("join session keyring %s: %w", name, err)
	}
	if perm == 0 {
		return nil
	}
	// "type;uid;gid;perm;description", perm in hex.
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
	if err != nil {
		return fmt.Errorf("describe session keyring %s: %w", name, err)
	}
	f := strings.SplitN(desc, ";", 5)
	if len(f) < 5 {
		return fmt.Errorf("describe session keyring %s: %q", name, desc)
	}
	cur, err := strconv.ParseUint(f[3], 16, 32)
	if err != nil {
		return fmt.Errorf("describe session keyring %s: %q", name, desc)
	}
	if uint32(cur)|perm == uint32(cur) {
		return nil
	}
	if err := unix.KeyctlSetperm(id, uint32(cur)|perm); err != nil {
		return fmt.Errorf("session keyring %s permissions: %w", name, err)
	}
	return nil
}
