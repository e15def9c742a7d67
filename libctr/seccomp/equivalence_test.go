//go:build linux

package seccomp_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	mobyseccomp "github.com/moby/profiles/seccomp"

	"github.com/wharf-project/wharf/libctr/configs"
	"github.com/wharf-project/wharf/libctr/seccomp"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// The compiled program decides every call as the profile's rules read in
// order would, first match wins: checked against a plain interpreter of
// the rules (decide) for every call number and a spread of arguments, on
// Docker's default profile as the engine gives it and on random profiles
// that mix actions, argument conditions and repeated names, for every
// architecture with a table (on any machine: nothing is loaded). Another
// architecture's calls are killed, and x86_64 refuses the x32 numbers.
func TestCompileDecidesAsTheRules(t *testing.T) {
	spec := specconv.Example()
	spec.Root.Path = t.TempDir()
	def, err := mobyseccomp.GetDefaultProfile(spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Linux.Seccomp = def
	cfg, _, err := specconv.ToConfig(spec, specconv.Options{ID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	profiles := map[string]*configs.Seccomp{"docker default": cfg.Seccomp}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 40 {
		profiles[fmt.Sprintf("random %d", i)] = randomProfile(r)
	}
	argSets := [][6]uint64{{}, {1}, {2, 3}, {0x7e020000}, {0x20008}, {40}, {1 << 33, 1<<33 + 1}, {^uint64(0), 5, 9}, {10, 3}, {11, 2}}
	for _, goarch := range seccomp.Arches() {
		audit := seccomp.AuditArch(goarch)
		for name, p := range profiles {
			prog, err := seccomp.CompileFor(p, goarch)
			if err != nil {
				t.Fatalf("%s on %s: %v", name, goarch, err)
			}
			if name == "docker default" {
				t.Logf("docker default on %s: %d instructions", goarch, len(prog))
			}
			for nr := uint32(0); nr < 600; nr++ {
				for _, args := range argSets {
					want := decide(p, goarch, nr, args)
					if got, err := seccomp.Run(prog, audit, nr, args); err != nil || got != want {
						t.Fatalf("%s on %s: call %d args %v: program says %#x (%v), the rules %#x", name, goarch, nr, args, got, err, want)
					}
				}
			}
			if got, _ := seccomp.Run(prog, audit^1, 0, [6]uint64{}); got != 0x80000000 {
				t.Errorf("%s on %s: a call of another architecture: %#x, want KILL_PROCESS", name, goarch, got)
			}
			x32, _ := seccomp.Run(prog, audit, 0x40000000, [6]uint64{})
			if want := decide(p, goarch, 0x40000000, [6]uint64{}); goarch == "amd64" {
				want = 0x00050000 | 38 // ERRNO(ENOSYS)
				if x32 != want {
					t.Errorf("%s on %s: an x32 call: %#x, want %#x", name, goarch, x32, want)
				}
			} else if x32 != want {
				t.Errorf("%s on %s: call 0x40000000: %#x, want %#x", name, goarch, x32, want)
			}
		}
	}
}

// decide reads the rules as the kernel should apply them: the first rule
// that names the call and whose conditions all hold; a rule with the
// default's action and no conditions is left out, as runc's libseccomp
// leaves it out.
func decide(p *configs.Seccomp, goarch string, nr uint32, args [6]uint64) uint32 {
	def := seccomp.Action(p.DefaultAction, p.DefaultErrno, errnoOr(p.DefaultErrno, 1))
	for _, rule := range p.Syscalls {
		act := seccomp.Action(rule.Action, rule.ErrnoRet, 1)
		if act == def && len(rule.Args) == 0 {
			continue
		}
		named := false
		for _, n := range rule.Names {
			if k, ok := seccomp.Number(goarch, n); ok && k == nr {
				named = true
			}
		}
		if !named {
			continue
		}
		ok := true
		for _, a := range rule.Args {
			ok = ok && holds(a, args[a.Index])
		}
		if ok {
			return act
		}
	}
	return def
}

func errnoOr(e *uint, d uint32) uint32 {
	if e != nil {
		return uint32(*e)
	}
	return d
}

func holds(a configs.Arg, v uint64) bool {
	switch a.Op {
	case "SCMP_CMP_EQ":
		return v == a.Value
	case "SCMP_CMP_NE":
		return v != a.Value
	case "SCMP_CMP_MASKED_EQ":
		return v&a.Value == a.ValueTwo
	case "SCMP_CMP_GT":
		return v > a.Value
	case "SCMP_CMP_GE":
		return v >= a.Value
	case "SCMP_CMP_LT":
		return v < a.Value
	case "SCMP_CMP_LE":
		return v <= a.Value
	}
	panic(a.Op)
}

func randomProfile(r *rand.Rand) *configs.Seccomp {
	names := seccomp.Names("amd64") // (names one architecture lacks are skipped)
	actions := []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_LOG", "SCMP_ACT_TRAP"}
	ops := []string{"SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_GT", "SCMP_CMP_GE", "SCMP_CMP_LT", "SCMP_CMP_LE"}
	values := []uint64{0, 1, 2, 3, 5, 9, 10, 40, 0x20008, 0x7e020000, 1 << 33}
	p := &configs.Seccomp{DefaultAction: actions[r.IntN(len(actions))]}
	for range 1 + r.IntN(60) {
		rule := configs.SyscallRule{Action: actions[r.IntN(len(actions))]}
		if rule.Action == "SCMP_ACT_ERRNO" && r.IntN(2) == 0 {
			e := uint(r.IntN(100))
			rule.ErrnoRet = &e
		}
		conditional := r.IntN(3) == 0
		n := 1 + r.IntN(40)
		if conditional {
			n = 1 + r.IntN(5) // a section each: keep the program under the kernel's limit
		}
		for range n {
			rule.Names = append(rule.Names, names[r.IntN(len(names))])
		}
		if conditional {
			for range 1 + r.IntN(3) {
				rule.Args = append(rule.Args, configs.Arg{Index: uint(r.IntN(3)), Value: values[r.IntN(len(values))],
					ValueTwo: values[r.IntN(len(values))], Op: ops[r.IntN(len(ops))]})
			}
		}
		p.Syscalls = append(p.Syscalls, rule)
	}
	return p
}
