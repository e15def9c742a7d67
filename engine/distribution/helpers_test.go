package distribution

import (
	"encoding/pem"
	"testing"

	"github.com/opencontainers/image-spec/specs-go"

	"github.com/wharf-project/wharf/internal/testregistry"
)

var specsV2 = specs.Versioned{SchemaVersion: 2}

func pemEncode(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// startAuthRegistry starts Debian's docker-registry on a loopback port with
// htpasswd (bcrypt) basic auth for alice:s3cret, stopped when the test ends.
func startAuthRegistry(t *testing.T) *testregistry.Registry {
	t.Helper()
	return testregistry.Start(t, testregistry.Options{Server: testregistry.Distribution, User: "alice", Password: "s3cret"})
}
