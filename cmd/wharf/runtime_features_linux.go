package main

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/spf13/cobra"

	"github.com/wharf-project/wharf/libctr/cgroups"
	"github.com/wharf-project/wharf/libctr/specconv"
)

// `wharf runtime features` answers what containerd asks runc with
// `runc features`: which spec fields this runtime implements.
func init() { addCommand("runtime", addFeaturesCmd) }

func addFeaturesCmd() {
	yes, no := true, false
	runtimeCmd.AddCommand(&cobra.Command{
		Use:   "features",
		Short: "Print the OCI features this runtime implements, as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v2 := cgroups.IsV2()
			v1 := !v2
			f := features.Features{
				OCIVersionMin: "1.0.0",
				OCIVersionMax: specs.Version,
				Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
				MountOptions:  specconv.MountOptionNames(),
				Linux: &features.Linux{
					Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
					Capabilities: specconv.CapabilityNames(),
					Cgroup:       &features.Cgroup{V1: &v1, V2: &v2, Systemd: &no, SystemdUser: &no},
					Seccomp: &features.Seccomp{
						Enabled: &yes,
						Actions: []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
							"SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"},
						Operators: []string{"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
							"SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"},
						Archs:          []string{"SCMP_ARCH_X86_64"},
						KnownFlags:     []string{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
						SupportedFlags: []string{"SECCOMP_FILTER_FLAG_LOG"},
					},
					Apparmor: &features.Apparmor{Enabled: &no},
					Selinux:  &features.Selinux{Enabled: &no},
				},
			}
			return printJSON(cmd.OutOrStdout(), f)
		},
	})
}
