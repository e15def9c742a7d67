package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/wharf-project/wharf/engine/errdefs"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// applyChanges applies `docker import --change` instructions to c: CMD,
// ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD,
// SHELL, with the JSON or the shell form where Dockerfiles allow both.
func applyChanges(c *dockerspec.DockerOCIImageConfig, changes []string) error {
	for _, ch := range changes {
		ch = strings.TrimSpace(ch)
		if ch == "" {
			continue
		}
		instr, arg, _ := strings.Cut(ch, " ")
		arg = strings.TrimSpace(arg)
		switch strings.ToUpper(instr) {
		case "CMD":
			c.Cmd = cmdForm(arg, c.Shell)
		case "ENTRYPOINT":
			c.Entrypoint = cmdForm(arg, c.Shell)
		case "SHELL":
			var sh []string
			if err := json.Unmarshal([]byte(arg), &sh); err != nil {
				return errdefs.InvalidParameter(fmt.Errorf("SHELL requires the arguments to be in JSON form"))
			}
			c.Shell = sh
		case "ENV":
			for _, kv := range keyValues(arg) {
				c.Env = setEnv(c.Env, kv[0], kv[1])
			}
		case "LABEL":
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			for _, kv := range keyValues(arg) {
				c.Labels[kv[0]] = kv[1]
			}
		case "EXPOSE":
			if c.ExposedPorts == nil {
				c.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range strings.Fields(arg) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				c.ExposedPorts[p] = struct{}{}
			}
		case "VOLUME":
			if c.Volumes == nil {
				c.Volumes = map[string]struct{}{}
			}
			var vols []string
			if json.Unmarshal([]byte(arg), &vols) != nil {
				vols = strings.Fields(arg)
			}
			for _, v := range vols {
				c.Volumes[v] = struct{}{}
			}
		case "USER":
			c.User = arg
		case "WORKDIR":
			c.WorkingDir = arg
		case "STOPSIGNAL":
			c.StopSignal = arg
		case "ONBUILD":
			c.OnBuild = append(c.OnBuild, arg)
		default:
			return errdefs.InvalidParameter(fmt.Errorf("%s is not a valid change command", instr))
		}
	}
	return nil
}

// cmdForm reads `["a","b"]` as given and anything else as a shell command.
func cmdForm(arg string, shell []string) []string {
	var list []string
	if strings.HasPrefix(arg, "[") && json.Unmarshal([]byte(arg), &list) == nil {
		return list
	}
	if len(shell) == 0 {
		shell = []string{"/bin/sh", "-c"}
	}
	return append(append([]string{}, shell...), arg)
}

// keyValues reads "k=v k2=v2" or the old "k v" form; quotes are removed.
func keyValues(arg string) [][2]string {
	if !strings.Contains(strings.SplitN(arg, " ", 2)[0], "=") {
		k, v, _ := strings.Cut(arg, " ")
		return [][2]string{{k, unquote(strings.TrimSpace(v))}}
	}
	var out [][2]string
	for _, f := range splitQuoted(arg) {
		k, v, _ := strings.Cut(f, "=")
		out = append(out, [2]string{k, unquote(v)})
	}
	return out
}

func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote = r
			cur.WriteRune(r)
		case r == ' ' || r == '\t':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}
