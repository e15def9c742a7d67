package testimage

import (
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
)

var specsVersioned = specs.Versioned{SchemaVersion: 2}

func digestOf(b []byte) string { return digest.FromBytes(b).String() }
