package container

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// execUser is who a container's process runs as.
type execUser struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups
	Home     string
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// readInRoot opens a file of the container's rootfs; symlinks cannot leave
// the rootfs (os.Root). A missing file is an empty one.
func readInRoot(rootfs, name string, parse func(io.Reader)) error {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	parse(f)
	return nil
}

func parsePasswd(r io.Reader) []passwdEntry {
	var out []passwdEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, passwdEntry{name: f[0], uid: uint32(uid), gid: uint32(gid), home: f[5]})
	}
	return out
}

func parseGroup(r io.Reader) []groupEntry {
	var out []groupEntry
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(f) < 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		var members []string
		if f[3] != "" {
			members = strings.Split(f[3], ",")
		}
		out = append(out, groupEntry{name: f[0], gid: uint32(gid), members: members})
	}
	return out
}

// resolveUser resolves a --user ("name", "uid", "name:group", "uid:gid")
// and --group-add in the rootfs's /etc/passwd and /etc/group, with
// dockerd's (libcontainer's) rules: a name must exist; a numeric uid need
// not, and then runs with gid 0 and home "/"; the supplementary groups are
// the groups listing the user plus --group-add.
func resolveUser(rootfs, spec string, groupAdd []string) (execUser, error) {
	var users []passwdEntry
	var groups []groupEntry
	if err := readInRoot(rootfs, "etc/passwd", func(r io.Reader) { users = parsePasswd(r) }); err != nil {
		return execUser{}, err
	}
	if err := readInRoot(rootfs, "etc/group", func(r io.Reader) { groups = parseGroup(r) }); err != nil {
		return execUser{}, err
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	u := execUser{Home: "/"}
	var name string
	if userPart == "" {
		userPart = "0"
	}
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.UID = uint32(n)
		for _, p := range users {
			if p.uid == u.UID {
				u.GID, u.Home, name = p.gid, p.home, p.name
				break
			}
		}
	} else {
		found := false
		for _, p := range users {
			if p.name == userPart {
				u.UID, u.GID, u.Home, name, found = p.uid, p.gid, p.home, p.name, true
				break
			}
		}
		if !found {
			return execUser{}, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
	}
	if hasGroup {
		gid, err := lookupGroup(groups, groupPart)
		if err != nil {
			return execUser{}, err
		}
		u.GID = gid
	} else if name != "" {
		for _, g := range groups {
			if g.gid != u.GID && inList(g.members, name) {
				u.Groups = append(u.Groups, g.gid)
			}
		}
	}
	for _, ga := range groupAdd {
		gid, err := lookupGroup(groups, ga)
		if err != nil {
			return execUser{}, err
		}
		u.Groups = append(u.Groups, gid)
	}
	if u.Home == "" {
		u.Home = "/"
	}
	return u, nil
}

func lookupGroup(groups []groupEntry, g string) (uint32, error) {
	if n, err := strconv.ParseUint(g, 10, 32); err == nil {
		return uint32(n), nil
	}
	for _, e := range groups {
		if e.name == g {
			return e.gid, nil
		}
	}
	return 0, fmt.Errorf("unable to find group %s: no matching entries in group file", g)
}
