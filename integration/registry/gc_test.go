package registry

import (
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"testing"

	"github.com/wharf-project/wharf/internal/testregistry"
)

// TestGarbageCollectSharedLayout: on a data directory written by Debian's
// docker-registry, `wharf registry garbage-collect` finds exactly the blobs
// distribution's own garbage-collect finds, deletes them, and distribution
// then serves the images that are left as before.
func TestGarbageCollectSharedLayout(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{Server: testregistry.Distribution})
	c := newClient(t, reg)
	kept := c.pushImage("gc/app", "latest", mtDockerManifest)
	child1, child2 := c.pushImage("gc/multi", "", mtOCIManifest), c.pushImage("gc/multi", "", mtOCIManifest)
	idx := c.pushIndex("gc/multi", "v1", mtOCIIndex, child1, child2)
	gone := c.pushImage("gc/app", "old", mtOCIManifest)
	c.do("DELETE", "/v2/gc/app/manifests/"+gone.digest, nil).expect(t, 202)
	loose := randomBlob(t, 300)
	c.pushBlob("gc/loose", loose.data, loose.digest)
	reg.Stop()

	// The deleted manifest's own blob goes too.
	want := []string{loose.digest, gone.digest}
	for _, b := range gone.blobs {
		want = append(want, b.digest)
	}
	sort.Strings(want)
	distDry := run(t, testregistry.DistributionBinary, "garbage-collect", "--dry-run", reg.ConfigFile())
	if got := digestsIn(distDry, `blob eligible for deletion: (\S+)`); !reflect.DeepEqual(got, want) {
		t.Fatalf("distribution's dry run finds %v, want %v:\n%s", got, want, distDry)
	}
	wharf := testregistry.Binary(t)
	wharfDry := run(t, wharf, "registry", "garbage-collect", "--dry-run", reg.ConfigFile())
	if got := digestsIn(wharfDry, `blob (\S+) is unreferenced`); !reflect.DeepEqual(got, want) {
		t.Fatalf("wharf's dry run finds %v, want %v (as distribution):\n%s", got, want, wharfDry)
	}
	run(t, wharf, "registry", "garbage-collect", reg.ConfigFile())
	again := run(t, testregistry.DistributionBinary, "garbage-collect", "--dry-run", reg.ConfigFile())
	if got := digestsIn(again, `blob eligible for deletion: (\S+)`); len(got) != 0 {
		t.Fatalf("after wharf's collection distribution still finds %v", got)
	}

	// Both servers serve what is left; the collected blob, whose repository
	// link is still there, is unknown (not an error) and can be pushed again.
	for _, server := range []testregistry.Server{testregistry.Distribution, testregistry.Wharf} {
		reg = reg.Restart(func(o *testregistry.Options) { o.Server = server })
		c = newClient(t, reg)
		for _, p := range []pushed{kept, idx, child1, child2} {
			repo := "gc/multi"
			if p.digest == kept.digest {
				repo = "gc/app"
			}
			c.do("GET", "/v2/"+repo+"/manifests/"+p.digest, nil).expect(t, 200)
			for _, b := range p.blobs {
				c.do("GET", "/v2/"+repo+"/blobs/"+b.digest, nil).expect(t, 200)
			}
		}
		c.do("GET", "/v2/gc/loose/blobs/"+loose.digest, nil).expectError(t, 404, "BLOB_UNKNOWN")
		c.do("HEAD", "/v2/gc/loose/blobs/"+loose.digest, nil).expect(t, 404)
		c.do("GET", "/v2/gc/app/manifests/old", nil).expect(t, 404)
	}
	c.pushBlob("gc/loose", loose.data, loose.digest)
	c.do("GET", "/v2/gc/loose/blobs/"+loose.digest, nil).expect(t, 200)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// digestsIn returns the sorted, distinct first groups of re in out.
func digestsIn(out, re string) []string {
	seen := map[string]bool{}
	var ds []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(out, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			ds = append(ds, m[1])
		}
	}
	sort.Strings(ds)
	return ds
}
