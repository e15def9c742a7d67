package distribution

import (
	"encoding/pem"

	"github.com/opencontainers/image-spec/specs-go"
)

var specsV2 = specs.Versioned{SchemaVersion: 2}

func pemEncode(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
